from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from tests.features.workspace_factory import snapshot, write_workspace

# wide enough that no temporary path wraps (an xdist worker's is longer): lines are matched whole
runner = CliRunner(env={"COLUMNS": "240"})

# Ten problems of different kinds, each in its own place.
TEN_PROBLEMS = {
    "customers": {"created_at": ["2024-01-01", "not a date", "2024-01-03"]},
    "surveys": {
        "score": ["11", "2", "7"],
        "metric": ["nps", "csat", "mood"],
        "customer_id": ["C1", "C7", "C3"],
    },
    "deliveries": {"order_id": ["O1", "O1"], "amount": ["19.90", "-5"]},
    "tickets": {"reopened": ["perhaps"]},
    "warranty_claims": {"filed_at": ["2031-01-01"]},
}


def plant_ten_problems(folder: Path) -> Path:
    write_workspace(folder, TEN_PROBLEMS)
    (folder / "calls.csv").write_text("customer_id;call_id;started_at\nC2;K1;2024-02-12\n")  # 9: delimiter
    verbatims = "customer_id,posted_at,text\nC2,2024-02-20,caf\xe9\n"
    (folder / "verbatims.csv").write_bytes(verbatims.encode("latin-1"))  # 10: encoding
    return folder


def test_validate_accepts_a_valid_workspace_with_a_summary(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", str(write_workspace(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "is valid" in result.output
    assert "Customers: 3" in result.output
    assert "satisfaction:nps" in result.output


def test_validate_reports_all_ten_planted_problems_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    folder = plant_ten_problems(tmp_path / "ws")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["validate", str(folder)], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    expected = [
        ("customers.csv", "3", "created_at", "ISO 8601"),
        ("surveys.csv", "2", "score", "inside the nps scale 0-10"),
        ("surveys.csv", "3", "customer_id", "must exist in customers"),
        ("surveys.csv", "4", "metric", "must be one of"),
        ("deliveries.csv", "3", "order_id", "must be unique"),
        ("deliveries.csv", "3", "amount", "must not be negative"),
        ("tickets.csv", "2", "reopened", "true or false"),
        ("warranty_claims.csv", "2", "filed_at", "in the future"),
        ("calls.csv", "1", "", "separated by commas"),
        ("verbatims.csv", "2", "", "UTF-8"),
    ]
    rows = [line for line in result.output.splitlines() if ".csv" in line and "│" in line]
    assert "10 problem(s)" in result.output
    for file, row, column, rule in expected:
        assert any(all(part in line for part in (file, f" {row} ", column, rule)) for line in rows), (
            file,
            rule,
        )
    assert snapshot(tmp_path) == before


def test_a_broken_cx_yml_exits_2_naming_its_line(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path)
    (folder / "cx.yml").write_text("churn:\n  horizon: 30\n")
    result = runner.invoke(app, ["validate", str(folder)])
    assert result.exit_code == 2
    assert "line 2: churn.horizon: unknown key" in result.output


@pytest.mark.parametrize(
    "command", ["demo", "validate", "features", "train", "score", "serve", "report", "monitor"]
)
def test_every_command_explains_itself(command: str) -> None:
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output.splitlines()) > 5


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.synthetic import generate_company

    folder = tmp_path_factory.mktemp("company")
    generate_company(folder, customers=300, seed=11)
    return folder


def test_features_writes_one_row_per_customer_as_of_a_moment(company: Path, tmp_path: Path) -> None:
    now, then = tmp_path / "now.parquet", tmp_path / "then.parquet"
    assert runner.invoke(app, ["features", str(company), "--out", str(now)]).exit_code == 0
    result = runner.invoke(app, ["features", str(company), "--as-of", "2025-06-30", "--out", str(then)])
    assert result.exit_code == 0, result.output
    latest, earlier = pd.read_parquet(now), pd.read_parquet(then)
    assert latest["customer_id"].is_unique and len(latest) == len(
        pd.read_parquet(company / "customers.parquet")
    )
    assert len(earlier) < len(latest)  # customers who joined later do not exist yet
    assert (earlier["as_of"] == pd.Timestamp("2025-06-30", tz="UTC")).all()


def test_features_refuses_an_invalid_workspace_without_writing(tmp_path: Path) -> None:
    folder = write_workspace(tmp_path / "ws", {"surveys": {"score": ["11", "2", "7"]}})
    out = tmp_path / "features.parquet"
    result = runner.invoke(app, ["features", str(folder), "--out", str(out)])
    assert result.exit_code == 2 and "score must lie inside" in result.output
    assert not out.exists()
