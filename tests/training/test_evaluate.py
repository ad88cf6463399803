from __future__ import annotations

import numpy as np

from features.contract import DEFAULT_METRICS
from training.evaluate import churn_metrics, metric_metrics

CHURN_KEYS = {"n_train", "n_test", "auc", "pr_auc", "brier", "ece"}
SATISFACTION_KEYS = {"n_train", "n_test", "mae", "spearman", "auc_negative", "brier_negative", "ece_negative"}


def test_churn_metrics_have_exactly_the_contract_keys() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(size=500)
    metrics = churn_metrics((rng.uniform(size=500) < p).astype(int), p, n_train=1000)
    assert set(metrics) == CHURN_KEYS
    assert metrics["n_train"] == 1000 and metrics["n_test"] == 500
    assert 0.6 < metrics["auc"] < 1 and metrics["ece"] < 0.1


def test_satisfaction_metrics_have_exactly_the_contract_keys_and_use_the_negative_side() -> None:
    scores = np.array([0, 3, 6, 7, 9, 10] * 20, dtype=float)
    negative = (scores <= 6).astype(float)
    metrics = metric_metrics(scores, scores + 0.5, negative * 0.9 + 0.05, DEFAULT_METRICS["nps"], n_train=10)
    assert set(metrics) == SATISFACTION_KEYS
    assert metrics["mae"] == 0.5 and metrics["spearman"] == 1.0 and metrics["auc_negative"] == 1.0


def test_ces_counts_high_scores_as_negative() -> None:
    scores = np.array([1, 2, 6, 7] * 10, dtype=float)
    high_effort = np.array([0.1, 0.1, 0.9, 0.9] * 10)
    assert metric_metrics(scores, scores, high_effort, DEFAULT_METRICS["ces"], 1)["auc_negative"] == 1.0


def test_a_holdout_with_one_outcome_has_no_auc_rather_than_a_made_up_one() -> None:
    metrics = churn_metrics(np.zeros(20), np.full(20, 0.1), n_train=5)
    assert metrics["auc"] is None and metrics["pr_auc"] is None and metrics["brier"] is not None
