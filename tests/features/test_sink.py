"""Training sets streamed to Parquet: the same examples and features as in memory, or no file at all."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from features.discover import build_catalogue
from features.engine import DuckDBEngine
from features.sink import write_features
from features.training_sets import (
    build_churn_set,
    build_satisfaction_set,
    satisfaction_keys,
    write_training_set,
)
from tests.features.conftest import CONFIG, random_tables

TABLES = random_tables(60, seed=5)


def read_sorted(path: Path, keys: list[str]) -> pd.DataFrame:
    return pd.read_parquet(path).sort_values(keys, kind="stable").reset_index(drop=True)


def as_stored(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The in-memory set as the file holds it: categories as text, rows in key order."""
    texts = {c: frame[c].astype("string") for c in frame if frame[c].dtype == "category"}
    return frame.assign(**texts).sort_values(keys, kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("kind", ["satisfaction", "churn"])
def test_a_streamed_training_set_equals_the_one_built_in_memory(kind: str, tmp_path: Path) -> None:
    build = build_satisfaction_set if kind == "satisfaction" else build_churn_set
    want = build(TABLES, CONFIG).frame
    keys = ["customer_id", "metric", "responded_at"] if kind == "satisfaction" else ["customer_id", "cutoff"]
    rows = write_training_set(kind, TABLES, CONFIG, tmp_path / "set.parquet")
    got = read_sorted(tmp_path / "set.parquet", keys).drop(columns="as_of")
    assert rows == len(want) > 0
    expected = as_stored(want, keys)
    got = got.astype({c: "string" for c in got if c in expected and expected[c].dtype == "string"})
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


class FailingEngine(DuckDBEngine):
    """Fails on its second query, as a crash half-way through a long build would."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        self.calls += 1
        if self.calls == 2:
            raise RuntimeError("engine died")
        return super().run(sql, tables)


def test_a_build_that_fails_half_way_leaves_no_file(tmp_path: Path) -> None:
    target = tmp_path / "set.parquet"
    keys, catalogue = satisfaction_keys(TABLES), build_catalogue(TABLES, CONFIG)
    with pytest.raises(RuntimeError, match="engine died"):
        write_features(TABLES, keys, catalogue, target, FailingEngine(), chunk_rows=5)
    assert list(tmp_path.iterdir()) == []
