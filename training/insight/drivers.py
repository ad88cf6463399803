"""Population drivers: which features push risk up for the most customers, and by how much.

Each scored customer carries their strongest reasons (`<model>_reasons`: JSON lists of a feature,
its sentence, value and push on the log-odds of the bad outcome). Summed over the base, the pushes
that raise risk say what drags the whole base down: a feature pushing a little for many customers
can matter more than one pushing hard for a few, so drivers rank by their push per customer of the
base (mean over everyone, zero where the feature was not among a customer's reasons).

A driver is a family of features: the same measure over its windows (`deliveries_days_late_sum_30d`,
`_90d`, `_all`) is one thing to fix, so a customer's pushes are summed over the family. Features of
past survey answers are left out: an earlier score is the customer's satisfaction itself, not a
cause the company can act on, and it would otherwise outrank every experience that shaped it.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

TOP_DRIVERS = 10
NOT_DRIVERS = ("surveys_",)  # past answers: the outcome itself (see the module's docstring)
_WINDOW = re.compile(r"_(?:\d+d|all)$")


def driver_family(feature: str) -> str | None:
    """The driver a feature belongs to: its name without the window; None for a past answer."""
    return None if feature.startswith(NOT_DRIVERS) else _WINDOW.sub("", feature)


def _pushes(reasons: Iterable[Any]) -> dict[str, list[tuple[int, float]]]:
    """Driver → (customer row, summed push) for every customer whose reasons raise risk through it."""
    out: dict[str, dict[int, float]] = defaultdict(dict)
    for row, cell in enumerate(reasons):
        for reason in json.loads(cell) if isinstance(cell, str) else cell or []:
            family = driver_family(reason["feature"])
            if reason["log_odds"] > 0 and family is not None:
                out[family][row] = out[family].get(row, 0.0) + float(reason["log_odds"])
    return {family: list(pushes.items()) for family, pushes in out.items()}


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
