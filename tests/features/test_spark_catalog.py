"""`--tables catalog:<database>`: tables saved in Spark's catalog give the features a folder gives."""

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
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small company in a folder, and the same tables saved as `cx.<table>` in a local warehouse."""
    warehouse, workspace = tmp_path_factory.mktemp("warehouse"), tmp_path_factory.mktemp("ws") / "ws"
    generate_company(workspace, customers=120, seed=7)
    session = local_session("cxpredict-catalog", spark_sql_warehouse_dir=str(warehouse))
    session.sql("CREATE DATABASE cx")
    for path in workspace.glob("*.parquet"):
        session.read.parquet(str(path)).write.saveAsTable(f"cx.{path.stem}")
    yield workspace
    session.stop()


def test_catalog_tables_give_the_features_duckdb_gives_from_the_folder(
    catalog: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck, lake = tmp_path / "duck.parquet", tmp_path / "catalog.parquet"
    assert runner.invoke(app, ["features", str(catalog), "--out", str(duck)]).exit_code == 0
    monkeypatch.setattr(spark_validation, "SAMPLE_ROWS", SAMPLE_ROWS)
    rows = DriverRows(monkeypatch)
    args = ["features", str(catalog), "--engine", "spark", "--tables", "catalog:cx", "--out", str(lake)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    want = pd.read_parquet(duck)
    assert 0 < rows.most <= 150 < len(want) * 3, rows.counts  # the catalog's rows stayed in Spark
    texts = [c for c in want.columns if isinstance(want[c].dtype, pd.CategoricalDtype)]
    got, want = (
        pd.read_parquet(path).astype({c: object for c in [*texts, "customer_id"]}) for path in (lake, duck)
    )
    got, want = (f.sort_values("customer_id", ignore_index=True) for f in (got, want))
    pd.testing.assert_frame_equal(
        got.where(got.notna(), None), want.where(want.notna(), None), check_exact=False, rtol=1e-5,
        check_dtype=False,
    )  # fmt: skip


def test_a_database_the_catalog_lacks_is_one_sentence(catalog: Path, tmp_path: Path) -> None:
    args = ["features", str(catalog), "--engine", "spark", "--tables", "catalog:nowhere"]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "f.parquet")])
    assert result.exit_code == 2, result.output
    assert "no database 'nowhere'" in result.output and "Traceback" not in result.output
