"""Fitting the text heads: which head each kind is, out-of-fold scores, and the comparison on a split.

Out-of-fold: each labelled text is scored by a head that never saw its customer's texts, so the
scores can feed the tabular models without their labels leaking in through the text head.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from models.text.heads import Head, HeadKind, LinearHead, TextInputs, customer_folds
from models.text.mlp import MLPHead
from models.text.splits import TextSplit
from models.text.stacked import StackedHead

HEAD_CLASSES: dict[str, Any] = {c.name: c for c in (LinearHead, MLPHead, StackedHead)}


@dataclass(frozen=True)
class HeadResult:
    """One head's figures on a split."""

    head: str
    n_train: int
    n_test: int
    auc: float
    auc_by_group: dict[str, float]


def make_head(kind: HeadKind, random_state: int = 0) -> Head:
    """An unfitted negative-side head: `tfidf` reads texts, `linear` and `mlp` vectors, `stacked` both."""
    if kind == "tfidf":
        return LinearHead("tfidf", random_state=random_state)
    if kind == "linear":
        return LinearHead("vectors", random_state=random_state)
    if kind == "mlp":
        return MLPHead(random_state=random_state)
    if kind == "stacked":
        return StackedHead(random_state=random_state)
    raise ValueError(f"unknown head {kind!r}; choose one of tfidf, linear, mlp, stacked")


def make_satisfaction_head(kind: HeadKind) -> LinearHead:
    """A ridge regression of the 0-1 satisfaction on what the negative head reads."""
    reads = {"tfidf": "tfidf", "stacked": "both"}.get(kind, "vectors")
    return LinearHead(reads, regress=True)  # type: ignore[arg-type]


def out_of_fold(make: Callable[[], Head], inputs: TextInputs, y: np.ndarray) -> np.ndarray:
    """Scores of every row from heads fitted on the other customers' folds."""
    predictions = np.full(len(y), np.nan)
    for train, test in customer_folds(inputs):
        predictions[test] = make().fit(inputs.take(train), y[train]).predict(inputs.take(test))
    return predictions


def fit_with_scores(make: Callable[[], Head], inputs: TextInputs, y: np.ndarray) -> tuple[Head, np.ndarray]:
    """A head fitted on every row, and every row's out-of-fold score (the stacked head brings its own)."""
    head = make().fit(inputs, y)
    own = getattr(head, "oof_", None)
    return head, own if own is not None else out_of_fold(make, inputs, y)


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def compare_on_split(
    kind: HeadKind,
    inputs: TextInputs,
    y: np.ndarray,
    split: TextSplit,
    groups: np.ndarray | None = None,
    random_state: int = 0,
) -> HeadResult:
    """Fit a head on the split's training rows, report AUC(negative) on its test rows.

    Args:
        kind: the head to fit.
        inputs: the labelled texts' inputs.
        y: their 0/1 negative labels.
        split: which rows train and which judge.
        groups: also report AUC per value of this (source, language...), one per row.
        random_state: seed of the head.
    """
    head = make_head(kind, random_state).fit(inputs.take(split.train), y[split.train])
    p, truth = head.predict(inputs.take(split.test)), y[split.test]
    by_group: dict[str, float] = {}
    if groups is not None:
        tested = groups[split.test]
        by_group = {str(g): _auc(truth[tested == g], p[tested == g]) for g in np.unique(tested)}
    return HeadResult(kind, int(split.train.sum()), int(split.test.sum()), _auc(truth, p), by_group)
