"""`--engine spark` end to end on a workspace of CSV files: the same features as DuckDB, bad cells
found over every row in Spark, and the output written whole or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from features import spark_validation
from pipelines.cli import app
from pipelines.synthetic import generate_company
from tests.spark import DriverRows, local_session

runner = CliRunner()
SAMPLE_ROWS = 30  # rows per table the driver checks; the tables hold far more


@pytest.fixture(scope="module")
def spark() -> Iterator[None]:
    session = local_session("cxpredict-lake")
    yield
    session.stop()


@pytest.fixture(scope="module")
def csv_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated company written as CSV, as a spreadsheet export would be."""
    source, folder = tmp_path_factory.mktemp("parquet") / "ws", tmp_path_factory.mktemp("csv") / "ws"
    generate_company(source, customers=120, seed=5)
    folder.mkdir()
    for path in source.glob("*.parquet"):
        pd.read_parquet(path).to_csv(folder / f"{path.stem}.csv", index=False)
    return folder


def test_spark_reads_csv_and_writes_the_features_duckdb_writes(
    spark: None, csv_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck, lake = tmp_path / "duck.parquet", tmp_path / "lake.parquet"
    assert runner.invoke(app, ["features", str(csv_workspace), "--out", str(duck)]).exit_code == 0
    monkeypatch.setattr(spark_validation, "SAMPLE_ROWS", SAMPLE_ROWS)
    rows = DriverRows(monkeypatch)
    result = runner.invoke(app, ["features", str(csv_workspace), "--engine", "spark", "--out", str(lake)])
    assert result.exit_code == 0, result.output
    got, want = pd.read_parquet(lake), pd.read_parquet(duck)
    assert 0 < rows.most <= 150 < len(want) * 3, rows.counts  # events outnumber what the driver held
    texts = [c for c in want.columns if isinstance(want[c].dtype, pd.CategoricalDtype)]
    want = want.astype({c: object for c in texts}).sort_values("customer_id", ignore_index=True)
    got = got.astype({c: object for c in [*texts, "customer_id"]}).sort_values(
        "customer_id", ignore_index=True
    )
    want["customer_id"] = want["customer_id"].astype(object)
    pd.testing.assert_frame_equal(
        got.where(got.notna(), None),
        want.where(want.notna(), None),
        check_exact=False,
        rtol=1e-5,
        check_dtype=False,
    )


def test_a_bad_timestamp_anywhere_in_a_table_stops_spark_with_its_column(
    spark: None, csv_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    for path in csv_workspace.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    tickets = pd.read_csv(folder / "tickets.csv", dtype=str)
    tickets.loc[len(tickets) - 1, "opened_at"] = "last tuesday"  # beyond the sample the driver checks
    tickets.to_csv(folder / "tickets.csv", index=False)
    monkeypatch.setattr(spark_validation, "SAMPLE_ROWS", SAMPLE_ROWS)
    out = tmp_path / "features.parquet"
    result = runner.invoke(app, ["features", str(folder), "--engine", "spark", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "tickets.csv" in result.output and "opened_at" in result.output and "last tuesday" in result.output
    assert "Traceback" not in result.output and not out.exists()
    assert not list(tmp_path.glob("*.partial")), "nothing half written"


def test_an_output_folder_spark_did_not_write_is_refused(csv_workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    args = ["features", str(csv_workspace), "--engine", "spark", "--out", str(tmp_path / "mine")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "Spark did not write" in result.output, result.output
