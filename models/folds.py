"""Undated rows: fold models averaged into one booster, their settings chosen out of fold.

An undated snapshot has no order to imitate the future with, so the time slices of
`models.boosting` have nothing to follow; every row is exchangeable. There, k stratified folds do
more with the same rows: each fold's model grows on the other folds and stops early on its own,
so every row grows trees in k-1 models and judges one; the k models' average is the model (one
booster of all their trees, leaves scaled by 1/k: the same output, the same SHAP values, saved
and explained like any other); and each row's out-of-fold score is honest, so the calibrator and
the choice among a few settings both see every row. On the real-data benchmarks' customer
holdouts this lifted churn AUC over the time-slice fit (see docs/benchmarks.md, `real`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import roc_auc_score

from models.boosting import BoosterParams, IndexArray, balanced_weights, stratified_slices, train_booster

Parameters = Callable[[BoosterParams], dict[str, Any]]  # tree settings -> LightGBM's parameter dict


def fold_rows(labels: NDArray[Any], folds: int, seed: int) -> list[IndexArray]:
    """Each fold's rows: seeded, each label split in the same shares."""
    return stratified_slices(labels, [1.0] * folds, seed)


def fit_by_folds(
    X: pd.DataFrame, y: NDArray[Any], params: BoosterParams, parameters: Parameters, seed: int
) -> tuple[lgb.Booster, NDArray[np.float64]]:
    """(the averaged booster, each row's out-of-fold raw score) of the best of `params.fold_choices`.

    Settings are judged by out-of-fold AUC on the training rows alone; ties keep the earlier.
    """
    folds = fold_rows(y, params.folds, seed)
    best: tuple[float, list[lgb.Booster], NDArray[np.float64]] | None = None
    for choice in params.fold_choices or ((),):
        boosters, scores = _fold_models(X, y, dataclasses.replace(params, **dict(choice)), parameters, folds)
        auc = float(roc_auc_score(y, scores))
        if best is None or auc > best[0]:
            best = (auc, boosters, scores)
    assert best is not None
    return averaged_booster(best[1]), best[2]


def _fold_models(
    X: pd.DataFrame, y: NDArray[Any], params: BoosterParams, parameters: Parameters, folds: list[IndexArray]
) -> tuple[list[lgb.Booster], NDArray[np.float64]]:
    """One booster per fold, grown on the other folds and stopped on its own; out-of-fold scores."""
    scores = np.zeros(len(y))
    boosters = []
    lgb_parameters = parameters(params)
    stopped_only = dataclasses.replace(params, refit=False)  # a fold's model keeps its own early stop
    for k, held in enumerate(folds):
        grown = np.sort(np.concatenate([f for j, f in enumerate(folds) if j != k]))
        fit, stop = (
            (X.iloc[rows], y[rows], balanced_weights(y[rows]) if params.balance_classes else None)
            for rows in (grown, held)
        )
        booster = train_booster(lgb_parameters, stopped_only, fit, stop)
        scores[held] = booster.predict(X.iloc[held], raw_score=True, num_iteration=booster.best_iteration)
        boosters.append(booster)
    return boosters, scores


def averaged_booster(boosters: Sequence[lgb.Booster]) -> lgb.Booster:
    """One booster whose raw output is the mean of the boosters' (each cut at its best iteration)."""
    texts = [b.model_to_string(num_iteration=b.best_iteration or None) for b in boosters]
    header = "\n".join(
        line for line in texts[0].split("\nTree=", 1)[0].splitlines() if not line.startswith("tree_sizes=")
    )
    tail = texts[0].split("end of trees", 1)[1]
    blocks = []
    for text in texts:
        trees = ("Tree=" + text.split("\nTree=", 1)[1]).split("end of trees", 1)[0].strip().split("\n\n")
        blocks += [_scaled(block, len(boosters)) for block in trees if block.strip()]
    numbered = [f"Tree={i}\n" + block.split("\n", 1)[1] for i, block in enumerate(blocks)]
    return lgb.Booster(model_str=header + "\n\n" + "\n\n".join(numbered) + "\n\nend of trees" + tail)


def _scaled(block: str, count: int) -> str:
    """A tree's text with its leaf and internal values divided by `count`."""
    lines = []
    for line in block.strip().splitlines():
        key, _, values = line.partition("=")
        if key in ("leaf_value", "internal_value"):
            line = key + "=" + " ".join(repr(float(v) / count) for v in values.split())
        lines.append(line)
    return "\n".join(lines)
