from __future__ import annotations

import numpy as np

from features.contract import DEFAULT_METRICS
from training.evaluate import churn_metrics, metric_metrics, within_chance

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


def test_a_model_that_gives_everyone_the_same_probability_is_within_chance() -> None:
    labels = np.r_[np.ones(60), np.zeros(400)]
    why = within_chance(labels, np.full(len(labels), 0.13))
    assert why is not None and "AUC 0.500 on 60 bad and 400 other outcomes" in why


def test_noise_is_within_chance_and_a_real_ranking_is_not() -> None:
    rng = np.random.default_rng(0)
    labels = (rng.uniform(size=2000) < 0.2).astype(int)
    assert within_chance(labels, rng.uniform(size=2000)) is not None
    assert within_chance(labels, labels * 0.2 + rng.uniform(size=2000)) is None  # AUC about 0.7


def test_a_holdout_too_small_to_tell_says_nothing() -> None:
    labels = np.r_[np.ones(49), np.zeros(1000)]
    assert within_chance(labels, np.full(len(labels), 0.5)) is None
