"""One definition, several engines: DuckDB, Spark (transpiled by SQLGlot) and SQLite give the same features."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from features.discover import build_catalogue
from features.engine import SparkEngine, compute_features
from features.engine_sqlite import SQLiteEngine
from features.training_sets import build_churn_set, build_satisfaction_set
from tests.features.conftest import CONFIG, random_tables

TABLES = random_tables(300, seed=7)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("cxpredict-parity")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    yield SparkEngine(session)
    session.stop()


def assert_same_features(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5, atol=1e-6, check_categorical=False)


@pytest.mark.slow
def test_spark_builds_the_same_churn_set_as_duckdb(spark: SparkEngine) -> None:
    duck = build_churn_set(TABLES, CONFIG, engine="duckdb").frame
    assert len(duck) > 300 and duck["churned"].sum() > 0  # several cutoffs, some churn: a real comparison
    assert_same_features(build_churn_set(TABLES, CONFIG, engine=spark).frame, duck)


@pytest.mark.slow
def test_spark_builds_the_same_satisfaction_set_as_duckdb(spark: SparkEngine) -> None:
    duck = build_satisfaction_set(TABLES, CONFIG, engine="duckdb").frame
    assert_same_features(build_satisfaction_set(TABLES, CONFIG, engine=spark).frame, duck)


def test_sqlite_builds_the_same_churn_set_as_duckdb() -> None:
    duck = build_churn_set(TABLES, CONFIG, engine="duckdb").frame
    assert_same_features(build_churn_set(TABLES, CONFIG, engine=SQLiteEngine()).frame, duck)


def test_computing_in_chunks_gives_the_same_features_as_in_one_go() -> None:
    surveys = TABLES["surveys"]
    keys = surveys[["customer_id"]].assign(as_of=surveys["responded_at"])
    catalogue = build_catalogue(TABLES, CONFIG)
    whole = compute_features(TABLES, keys, catalogue)
    pd.testing.assert_frame_equal(compute_features(TABLES, keys, catalogue, chunk_rows=97), whole)
