"""Holdout metrics in exactly the shape of the `cxpredict train --metrics-out` contract.

Evaluation reads a predictor's output frame, so the model in memory and a model loaded back from
the registry (the champion, for the promotion gate) are judged by the same code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import spearmanr
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from features.contract import MetricScale
from models.calibration import expected_calibration_error
from training.datasets import METRIC_COLUMN, TrainingSet

Metrics = dict[str, Any]
# Below this many examples of either class a holdout cannot tell a weak model from chance, so the
# check below stays silent: a small company's first model is still promoted as before.
MIN_CLASS_FOR_CHANCE = 50
Z_ONE_SIDED_95 = 1.6448536269514722


def churn_metrics(labels: ArrayLike, probabilities: ArrayLike, n_train: int) -> Metrics:
    """`{"n_train","n_test","auc","pr_auc","brier","ece"}`; a rank metric of one class is None."""
    y, p = np.asarray(labels, dtype=int), np.asarray(probabilities, dtype=float)
    both = len(np.unique(y)) == 2
    return {
        "n_train": int(n_train),
        "n_test": len(y),
        "auc": _finite(roc_auc_score(y, p)) if both else None,
        "pr_auc": _finite(average_precision_score(y, p)) if both else None,
        "brier": _finite(brier_score_loss(y, p, pos_label=1)) if len(y) else None,
        "ece": _finite(expected_calibration_error(y, p)),
    }


def metric_metrics(
    scores: ArrayLike, predicted: ArrayLike, p_negative: ArrayLike, scale: MetricScale, n_train: int
) -> Metrics:
    """`{"n_train","n_test","mae","spearman","auc_negative","brier_negative","ece_negative"}`."""
    s, s_hat = np.asarray(scores, dtype=float), np.asarray(predicted, dtype=float)
    negative = np.array([scale.is_negative(v) for v in s], dtype=int)
    risk = churn_metrics(negative, p_negative, n_train)
    varied = len(s) > 1 and np.ptp(s) > 0 and np.ptp(s_hat) > 0
    return {
        "n_train": int(n_train),
        "n_test": len(s),
        "mae": _finite(np.abs(s - s_hat).mean()) if len(s) else None,
        "spearman": _finite(spearmanr(s, s_hat).statistic) if varied else None,
        "auc_negative": risk["auc"],
        "brier_negative": risk["brier"],
        "ece_negative": risk["ece"],
    }


def evaluate_churn(predictions: pd.DataFrame, test: TrainingSet, n_train: int) -> Metrics:
    """Churn metrics of a predictor's output on the holdout rows (same index)."""
    return churn_metrics(test.y, predictions.loc[test.frame.index, "churn_probability"], n_train)


def evaluate_satisfaction(
    predictions: pd.DataFrame,
    test: TrainingSet,
    n_train: Mapping[str, int],
    scales: Mapping[str, MetricScale],
) -> dict[str, Metrics]:
    """Per trained metric (the keys of `n_train`), its metrics on that metric's holdout answers."""
    result = {}
    for metric, trained_on in n_train.items():
        rows = test.frame[test.frame[METRIC_COLUMN] == metric]
        out = predictions.loc[rows.index]
        result[metric] = metric_metrics(
            rows[test.label],
            out[f"{metric}_score"],
            out[f"{metric}_negative_probability"],
            scales[metric],
            trained_on,
        )
    return result


def headline(metrics: Mapping[str, Any], kind: str) -> tuple[float | None, float | None]:
    """(AUC, ECE) that the promotion gate compares: churn's own, or the mean over survey metrics."""
    if kind == "churn":
        return metrics["auc"], metrics["ece"]
    aucs = [m["auc_negative"] for m in metrics.values() if m["auc_negative"] is not None]
    eces = [m["ece_negative"] for m in metrics.values() if m["ece_negative"] is not None]
    return (float(np.mean(aucs)) if aucs else None, float(np.mean(eces)) if eces else None)


def within_chance(labels: ArrayLike, probabilities: ArrayLike) -> str | None:
    """Why the holdout cannot tell this model's ranking from chance; None when it can, or is too small.

    Under "no better than chance" the AUC (the Mann-Whitney statistic) has mean 0.5 and standard
    error sqrt((n1 + n2 + 1) / (12 n1 n2)); an AUC that does not clear 0.5 by 1.645 of those (one
    sided, 95%) is within chance, as is a model that gives every row the same probability.
    """
    y, p = np.asarray(labels, dtype=int), np.asarray(probabilities, dtype=float)
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if min(positives, negatives) < MIN_CLASS_FOR_CHANCE:
        return None
    auc = float(roc_auc_score(y, p))
    bar = 0.5 + Z_ONE_SIDED_95 * math.sqrt((positives + negatives + 1) / (12 * positives * negatives))
    if auc > bar:
        return None
    return (
        f"holdout AUC {auc:.3f} on {positives:,} bad and {negatives:,} other outcomes does not clear "
        f"chance ({bar:.3f} needed)"
    )


def _finite(value: Any) -> float | None:
    """A float for JSON, or None where the metric is undefined (NaN)."""
    number = float(value)
    return None if math.isnan(number) else number
