"""`cxpredict features --set satisfaction|churn --engine spark`: the training sets DuckDB writes,
built in Spark with no table passing through the driver."""

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
SORT = {"satisfaction": ["customer_id", "responded_at", "metric"], "churn": ["customer_id", "cutoff"]}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("ws") / "ws"
    generate_company(folder, customers=150, seed=11)
    session = local_session("cxpredict-training-sets")
    yield folder
    session.stop()


@pytest.mark.parametrize("kind", ["satisfaction", "churn"])
def test_spark_writes_the_training_set_duckdb_writes(
    kind: str, workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    duck, lake = tmp_path / "duck.parquet", tmp_path / "lake.parquet"
    args = ["features", str(workspace), "--set", kind]
    assert runner.invoke(app, [*args, "--out", str(duck)]).exit_code == 0
    monkeypatch.setattr(spark_validation, "SAMPLE_ROWS", SAMPLE_ROWS)
    rows = DriverRows(monkeypatch)
    result = runner.invoke(app, [*args, "--engine", "spark", "--out", str(lake)])
    assert result.exit_code == 0, result.output
    want = pd.read_parquet(duck)
    assert 0 < rows.most <= 150 < len(want), rows.counts  # the examples never reached the driver
    got = pd.read_parquet(lake)
    assert list(got.columns) == list(want.columns) and len(got) == len(want)
    got, want = (f.sort_values(SORT[kind], ignore_index=True) for f in (got, want))
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_exact=False, rtol=1e-6)
    numbers = [c for c in want.columns if want[c].dtype == "float32"]
    assert numbers and (got[numbers].dtypes == "float32").all()


def test_a_training_set_the_data_cannot_support_is_one_sentence(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    for path in workspace.glob("*.parquet"):
        if path.stem != "churn":
            (folder / path.name).write_bytes(path.read_bytes())
    args = ["features", str(folder), "--set", "churn", "--engine", "spark", "--out", str(tmp_path / "c")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "no churn table" in result.output, result.output
