"""Batch scoring through the registered champions, with and without reasons."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.predictor import REASONS_SUFFIX
from pipelines import scoring
from pipelines.base_scores import score_base
from pipelines.scoring import load_champions, score_features
from tests.models.synthetic import FEATURES, churn_frame
from training.insight.drivers import reason_pushes
from training.tracking import MlflowConfig


def test_scores_without_reasons_equal_the_pyfunc_scores_with_reasons(synthetic_store: MlflowConfig) -> None:
    # the report's baseline and what-if passes skip MLflow's pyfunc and the reasons: same numbers
    features = churn_frame(300, seed=12)[list(FEATURES)].assign(customer_id=lambda f: f.index.astype(str))
    full = score_features(features, synthetic_store)
    champions = load_champions(synthetic_store)
    plain = score_features(features, synthetic_store, reasons=False, champions=champions)
    assert {str(c) for c in full if str(c).endswith(REASONS_SUFFIX)} >= {"churn_reasons", "nps_reasons"}
    expected = full.drop(columns=[c for c in full if str(c).endswith(REASONS_SUFFIX)])
    pd.testing.assert_frame_equal(plain, expected)


def test_scoring_in_chunks_gives_what_scoring_at_once_gives(
    synthetic_store: MlflowConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a million rows are scored a chunk at a time (their reasons would not fit in memory at once)
    features = churn_frame(250, seed=13)[list(FEATURES)].assign(customer_id=lambda f: f.index.astype(str))
    champions = load_champions(synthetic_store)
    whole = score_features(features, synthetic_store, champions=champions)
    monkeypatch.setattr(scoring, "SCORE_CHUNK_ROWS", 60)
    chunked = score_features(features, synthetic_store, champions=champions)
    pd.testing.assert_frame_equal(chunked, whole)
    assert len(chunked) == 250 and chunked["customer_id"].tolist() == features["customer_id"].tolist()


def test_the_reports_scoring_gives_the_same_scores_and_the_drivers_its_written_reasons_give(
    synthetic_store: MlflowConfig,
) -> None:
    features = churn_frame(250, seed=14)[list(FEATURES)].assign(customer_id=lambda f: f.index.astype(str))
    champions = load_champions(synthetic_store)
    full = score_features(features, synthetic_store, champions=champions)
    base = score_base(features, champions, chunk_rows=60)
    written = [c for c in full if str(c).endswith(REASONS_SUFFIX)]
    pd.testing.assert_frame_equal(base.scores, full.drop(columns=written))
    assert list(base.hits) == [c.removesuffix(REASONS_SUFFIX) for c in written]
    assert reason_pushes(full["churn_reasons"])  # the churn model's risk is raised for some customers
    assert "plan=basic" in base.hits["churn"]  # a category's level is a driver of its own
    for column in written:
        expected = reason_pushes(full[column])
        found = base.hits[column.removesuffix(REASONS_SUFFIX)]
        assert list(found) == list(expected)
        for family, (rows, pushes) in expected.items():
            np.testing.assert_array_equal(found[family][0], rows)
            np.testing.assert_array_equal(found[family][1], pushes)
