"""Fitting the text heads: out-of-fold predictions and the comparison of heads on a split.

Out-of-fold: each labelled text is scored by a head that never saw its customer's texts, so the
scores can feed the tabular models without their labels leaking in through the text head.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from models.text.heads import HeadKind, make_head
from models.text.splits import TextSplit, time_split


@dataclass(frozen=True)
class HeadResult:
    """One head's figures on a split."""

    head: str
    n_train: int
    n_test: int
    auc: float
    auc_by_group: dict[str, float]


def head_inputs(kind: HeadKind, vectors: np.ndarray | None, texts: Sequence[str]) -> Any:
    """What a head reads: the texts for TF-IDF, the vectors otherwise."""
    if kind == "tfidf":
        return np.asarray(texts, dtype=object)
    if vectors is None:
        raise ValueError(f"the {kind!r} head needs text vectors; switch the encoder on or use 'tfidf'")
    return vectors


def predict_one(head: Any, X: Any) -> np.ndarray:
    """A classifier's probability of class 1, a regressor's prediction."""
    return head.predict_proba(X)[:, 1] if hasattr(head, "predict_proba") else head.predict(X)


def out_of_fold(head: Any, X: Any, y: np.ndarray, groups: np.ndarray, folds: int = 5) -> np.ndarray:
    """Predictions of every row from a clone of `head` fitted on the other groups' (customers') folds."""
    predictions = np.full(len(y), np.nan)
    splits = min(folds, len(np.unique(groups)))
    for train, test in GroupKFold(n_splits=splits).split(X, y, groups):
        predictions[test] = predict_one(clone(head).fit(X[train], y[train]), X[test])
    return predictions


def _auc(y: np.ndarray, p: np.ndarray) -> float:
    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def compare_on_split(
    kind: HeadKind,
    labelled: pd.DataFrame,
    vectors: np.ndarray | None,
    split: TextSplit,
    group_column: str | None = None,
    random_state: int = 0,
) -> HeadResult:
    """Fit a head on the split's training texts, report AUC(negative) on its test texts.

    Args:
        kind: the head to fit.
        labelled: texts with `text` and a 0/1 `negative` (no missing labels).
        vectors: one row per row of `labelled` (None for the TF-IDF head).
        split: which rows train and which judge.
        group_column: also report AUC per value of this column (source, language...).
        random_state: seed of the head.
    """
    X = head_inputs(kind, vectors, labelled["text"].tolist())
    y = labelled["negative"].to_numpy(dtype=int)
    head = make_head(kind, random_state).fit(X[split.train], y[split.train])
    p = head.predict_proba(X[split.test])[:, 1]
    by_group: dict[str, float] = {}
    if group_column is not None:
        groups = labelled[group_column].to_numpy()[split.test]
        by_group = {str(g): _auc(y[split.test][groups == g], p[groups == g]) for g in np.unique(groups)}
    return HeadResult(kind, int(split.train.sum()), int(split.test.sum()), _auc(y[split.test], p), by_group)


def compare_on_time_split(
    kind: HeadKind,
    labelled: pd.DataFrame,
    vectors: np.ndarray | None,
    holdout_from: pd.Timestamp,
    group_column: str | None = None,
    random_state: int = 0,
) -> HeadResult:
    """`compare_on_split` on texts answered before `holdout_from` against those written from it on."""
    split = time_split(labelled, holdout_from)
    return compare_on_split(kind, labelled, vectors, split, group_column, random_state)
