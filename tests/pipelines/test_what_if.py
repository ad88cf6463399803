"""The report's what-if against the generator's replay of the same company with late deliveries halved."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.synthetic.company import generate_company

pytestmark = pytest.mark.slow
runner = CliRunner()
# The what-if changes only the deliveries table, so it reads the direct part of the replay's effect
# (the replay also drops the tickets and complaints late parcels set off): it must move the same way
# and reach between 30% and 130% of the replayed change (measured: 2.24 against 2.87 NPS points here,
# 2.10 against 2.84 at 3,000 customers).
LOW, HIGH = 0.3, 1.3


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    """A company with a churn and a satisfaction model, reported; its what-if and the replayed truth."""
    root = tmp_path_factory.mktemp("what_if")
    folder = root / "company"
    generate_company(folder, customers=1000, seed=21)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db"}
    result = runner.invoke(app, ["train", str(folder), "--holdout-from", "2026-03-01"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(folder), "--out", str(root / "out")], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads((root / "out" / "summary.json").read_text())
    truth = json.loads((folder / "_truth" / "summary.json").read_text())["what_if"]
    return summary, truth["late_deliveries_halved"]


def test_halving_late_deliveries_raises_predicted_nps_toward_the_replayed_truth(reported: tuple) -> None:
    summary, truth = reported
    row = next(r for r in summary["what_if"] if r["scenario"] == "late_deliveries_halved")
    assert truth["nps_change"] > 0
    assert LOW * truth["nps_change"] <= row["nps_change"] <= HIGH * truth["nps_change"], (row, truth)


@pytest.mark.xfail(
    strict=True,
    reason="the default churn model is trained without monotone constraints and its late-delivery "
    "features push both ways: predicted churners move by +0.0 here (+1.0 at 3,000 customers) "
    "where the replay loses 0.9 (2.9)",
)
def test_halving_late_deliveries_lowers_churners_toward_the_replayed_truth(reported: tuple) -> None:
    summary, truth = reported
    row = next(r for r in summary["what_if"] if r["scenario"] == "late_deliveries_halved")
    assert truth["churners_change"] < 0
    assert HIGH * truth["churners_change"] <= row["churners_change"] <= LOW * truth["churners_change"], (
        row,
        truth,
    )


def test_revenue_kept_reads_the_customers_value_column(reported: tuple) -> None:
    summary, _ = reported
    row = next(r for r in summary["what_if"] if r["scenario"] == "late_deliveries_halved")
    assert isinstance(row["revenue_kept"], float)
    assert "annual_value" in summary["what_if_basis"]["revenue_kept"]


def test_every_scenario_the_company_supports_is_reported(reported: tuple) -> None:
    summary, _ = reported
    assert {r["scenario"] for r in summary["what_if"]} >= {
        "late_deliveries_halved",
        "call_wait_30pct_shorter",
    }
