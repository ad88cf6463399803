"""One definition, several engines: DuckDB, Spark (transpiled by SQLGlot) and SQLite give the same features."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from features.discover import build_catalogue
from features.engine import SparkEngine, compute_features
from features.engine_sqlite import SQLiteEngine
from features.training_sets import build_churn_set, build_satisfaction_set, build_scoring_set
from features.validation import load_workspace
from pipelines.synthetic import generate_company
from tests.features.conftest import CONFIG
from tests.spark import local_session

Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    """A small generated company: every contract table, evolving events, texts and churn."""
    folder: Path = tmp_path_factory.mktemp("company")
    generate_company(folder, customers=300, seed=7)
    return dict(load_workspace(folder, CONFIG).tables)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkEngine]:
    session = local_session("cxpredict-parity", cores=2, arrow=True)
    yield SparkEngine(session)
    session.stop()


def assert_same_features(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5, atol=1e-6, check_categorical=False)


@pytest.mark.slow
def test_spark_builds_the_same_churn_set_as_duckdb(spark: SparkEngine, company: Tables) -> None:
    duck = build_churn_set(company, CONFIG, engine="duckdb").frame
    assert len(duck) > 300 and duck["churned"].sum() > 0  # several cutoffs, some churn: a real comparison
    assert_same_features(build_churn_set(company, CONFIG, engine=spark).frame, duck)


@pytest.mark.slow
def test_spark_builds_the_same_satisfaction_set_as_duckdb(spark: SparkEngine, company: Tables) -> None:
    duck = build_satisfaction_set(company, CONFIG, engine="duckdb").frame
    assert len(duck) > 300
    assert_same_features(build_satisfaction_set(company, CONFIG, engine=spark).frame, duck)


def test_sqlite_builds_the_same_churn_set_as_duckdb(company: Tables) -> None:
    duck = build_churn_set(company, CONFIG, engine="duckdb").frame
    assert_same_features(build_churn_set(company, CONFIG, engine=SQLiteEngine()).frame, duck)


def test_computing_in_chunks_gives_the_same_features_as_in_one_go(company: Tables) -> None:
    surveys = company["surveys"]
    keys = surveys[["customer_id"]].assign(as_of=surveys["responded_at"])
    catalogue = build_catalogue(company, CONFIG)
    whole = compute_features(company, keys, catalogue)
    pd.testing.assert_frame_equal(compute_features(company, keys, catalogue, chunk_rows=97), whole)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kept", [("customers", "deliveries", "surveys"), ("customers", "tickets"), ("customers",)]
)
def test_spark_computes_a_workspace_with_only_some_sources_as_duckdb_does(
    spark: SparkEngine, company: Tables, kept: tuple[str, ...]
) -> None:
    """One contact source means one input to the latest-contact feature, which Spark's LEAST refuses."""
    tables = {name: frame for name, frame in company.items() if name in kept}
    duck = build_scoring_set(tables, CONFIG, engine="duckdb")
    assert_same_features(build_scoring_set(tables, CONFIG, engine=spark), duck)
