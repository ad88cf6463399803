"""Training-set builders: which examples, which keys and labels, which cutoffs."""

from __future__ import annotations

import itertools

import pandas as pd

from features.config import ChurnConfig, WorkspaceConfig
from features.training_sets import build_churn_set, build_satisfaction_set, default_cutoffs
from tests.features.conftest import CONFIG, random_tables

TABLES = random_tables(60, seed=3)


def test_the_satisfaction_set_has_one_example_per_survey_answer_labelled_by_its_score() -> None:
    ts = build_satisfaction_set(TABLES, CONFIG)
    assert len(ts.frame) == len(TABLES["surveys"])
    assert list(ts.frame.columns[:4]) == ["customer_id", "metric", "responded_at", "score"]
    assert ts.frame["score"].tolist() == TABLES["surveys"]["score"].tolist()
    assert (ts.label, ts.time_column, ts.feature_set) == ("score", "responded_at", "satisfaction_v1")
    assert set(ts.features) <= set(ts.frame.columns) and set(ts.features) == set(ts.descriptions)


def test_default_cutoffs_are_monthly_and_end_a_horizon_before_the_data_ends() -> None:
    churn = ChurnConfig(horizon_days=90, n_cutoffs=6, cutoff_every_days=30)
    cutoffs = default_cutoffs(TABLES, churn)
    latest = max(
        TABLES[t][c].max()
        for t in TABLES
        for c in TABLES[t]
        if isinstance(TABLES[t][c].dtype, pd.DatetimeTZDtype)
    )
    assert len(cutoffs) == 6
    assert all(b - a == pd.Timedelta(days=30) for a, b in itertools.pairwise(cutoffs))
    assert latest - pd.Timedelta(days=91) < cutoffs[-1] <= latest - pd.Timedelta(days=90)


def test_the_churn_set_uses_the_cutoffs_the_config_declares() -> None:
    config = WorkspaceConfig(
        windows_days=(30,), churn=ChurnConfig(cutoffs=(pd.Timestamp("2024-01-01").date(),))
    )
    ts = build_churn_set(TABLES, config)
    assert set(ts.frame["cutoff"]) == {pd.Timestamp("2024-01-01T00:00:00Z")}
    assert (ts.label, ts.time_column, ts.feature_set) == ("churned", "cutoff", "churn_v1")
