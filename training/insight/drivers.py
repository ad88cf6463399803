"""Population drivers: which features push risk up for the most customers, and by how much.

Each scored customer carries their strongest reasons (`<model>_reasons`: JSON lists of a feature,
its sentence, value and push on the log-odds of the bad outcome). Summed over the base, the pushes
that raise risk say what drags the whole base down: a feature pushing a little for many customers
can matter more than one pushing hard for a few, so drivers rank by their push per customer of the
base (mean over everyone, zero where the feature was not among a customer's reasons).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

TOP_DRIVERS = 10


def _pushes(reasons: Iterable[Any]) -> dict[str, list[tuple[int, float]]]:
    """Feature → (customer row, push) for every reason that raises risk."""
    out: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for row, cell in enumerate(reasons):
        for reason in json.loads(cell) if isinstance(cell, str) else cell or []:
            if reason["log_odds"] > 0:
                out[reason["feature"]].append((row, float(reason["log_odds"])))
    return out


def population_drivers(
    reasons: pd.Series, groups: pd.DataFrame, model: str, top: int = TOP_DRIVERS
) -> list[dict[str, object]]:
    """The `top` features that raise `model`'s risk most across the base, each with its reach per segment.

    Args:
        reasons: one cell per customer, a JSON list of reasons (as `cxpredict score` writes them).
        groups: segment-like columns, one row per customer in the same order.
        model: which risk the reasons explain (`nps`, `csat`, `churn` ...), named in each row.
        top: how many drivers to keep.
    """
    n = len(reasons)
    rows = []
    for feature, hits in _pushes(reasons).items():
        where = np.array([r for r, _ in hits])
        pushes = np.array([p for _, p in hits])
        reach = {
            column: _shares(groups[column].astype("string").fillna(""), where) for column in groups.columns
        }
        rows.append(
            {
                "model": model,
                "feature": feature,
                "customers": len(hits),
                "share": round(len(hits) / n, 4),
                "mean_push": round(float(pushes.mean()), 4),
                "push_per_customer": round(float(pushes.sum()) / n, 5),
                "share_by": reach,
            }
        )
    rows.sort(key=lambda r: -float(str(r["push_per_customer"])))
    return rows[:top]


def _shares(labels: pd.Series, where: np.ndarray) -> dict[str, float]:
    """Per level, the share of its customers this driver reaches."""
    hit = labels.iloc[where].value_counts()
    size = labels.value_counts()
    return {str(level): round(float(hit.get(level, 0)) / int(count), 4) for level, count in size.items()}
