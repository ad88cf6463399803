"""`cxpredict report`: the whole base's satisfaction three ways, written to summary.json."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.synthetic.company import generate_company

pytestmark = pytest.mark.slow
runner = CliRunner()
WINDOW_START = "2026-04-01"  # the generated company ends 2026-06-30: the last 90 days are the window


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A company whose satisfaction model never saw the window's answers (held out from its start)."""
    root = tmp_path_factory.mktemp("report")
    folder = root / "company"
    generate_company(folder, customers=600, seed=21)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db"}
    result = runner.invoke(app, ["train", str(folder), "--holdout-from", WINDOW_START], env=env)
    assert result.exit_code == 0, result.output
    return folder, env


def test_report_writes_every_figure_three_ways_with_an_interval_and_per_segment(
    trained: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, env = trained
    result = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    nps = summary["nps"]
    lo, hi = nps["interval"]
    assert lo < nps["corrected"] < hi and lo >= -100 and hi <= 100
    surveys = pd.read_parquet(folder / "surveys.parquet")
    window = surveys[
        (surveys["metric"] == "nps") & (surveys["responded_at"] >= pd.Timestamp(summary["window"]["start"]))
    ]
    assert 0 < nps["n_respondents"] <= window["customer_id"].nunique()
    assert {"csat_mean", "csat_negative_share", "nps_mean"} <= set(summary)
    segments = {row["level"] for row in summary["by"]["segment"]}
    assert segments == {"consumer", "smb", "enterprise"}
    assert sum(row["customers"] for row in summary["by"]["region"]) == summary["customers"]
    assert set(summary["assumptions"]) == {"respondents", "model", "corrected"}
    assert "nps: respondents" in result.output


def test_report_without_answers_in_the_window_exits_2_in_one_sentence_and_writes_nothing(
    trained: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    folder, env = trained
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", str(folder), "--out", str(out), "--as-of", "2020-01-01"], env=env)
    assert result.exit_code == 2
    assert "no survey answer falls between" in result.output and "Traceback" not in result.output
    assert not out.exists()


def test_report_without_a_champion_exits_2_naming_train(tmp_path: Path) -> None:
    folder = tmp_path / "company"
    generate_company(folder, customers=150, seed=2)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}
    result = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "out")], env=env)
    assert result.exit_code == 2, result.output
    assert "cxpredict train" in result.output and not (tmp_path / "out").exists()


def test_report_without_surveys_exits_2(tmp_path: Path) -> None:
    folder = tmp_path / "company"
    generate_company(folder, customers=150, seed=2)
    (folder / "surveys.parquet").unlink()
    result = runner.invoke(app, ["report", str(folder), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "needs a surveys table" in result.output


def test_report_refuses_an_out_folder_inside_the_workspace(tmp_path: Path) -> None:
    folder = tmp_path / "company"
    generate_company(folder, customers=150, seed=2)
    result = runner.invoke(app, ["report", str(folder), "--out", str(folder / "report")])
    assert result.exit_code == 2 and "inside the workspace" in result.output
    assert not (folder / "report").exists()
