"""How far the base now lies from the moments its answers measured: days since each one's latest event.

The corrected figure carries the model's error at the answers' moments over to the base now
(`estimates`). A metric asked only after an experience (CSAT after a delivery or a closed ticket)
measures customers a day or two after an event, while most of the base is weeks past its latest
one: for them the figure rests on the model's reading of a state nobody was asked in. Set side by
side, the two recencies say how far each metric's figure reaches beyond what its answers saw.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd
from numpy.typing import NDArray

RECENCY = "_days_since_last"  # `<table>_days_since_last`: days since the table's latest row
REACH_QUANTILE = 0.95

Floats = NDArray[np.float64]


def latest_event_days(features: pd.DataFrame, tables: Iterable[str]) -> Floats:
    """Per row: days since its latest event of any of `tables` (NaN where it never had one)."""
    columns = [f"{t}{RECENCY}" for t in tables if f"{t}{RECENCY}" in features.columns]
    if not columns:
        return np.full(len(features), np.nan)
    values = features[columns].to_numpy(dtype=float)
    latest = np.full(len(features), np.nan)
    seen = ~np.isnan(values).all(axis=1)
    latest[seen] = np.nanmin(values[seen], axis=1)
    return latest


def reach_edge(answer_days: Floats) -> float | None:
    """How many days past an event `REACH_QUANTILE` of the answers came; None without any."""
    answered = answer_days[~np.isnan(answer_days)]
    return float(np.quantile(answered, REACH_QUANTILE)) if len(answered) else None


def reach(answer_days: Floats, base_days: Floats) -> dict[str, float | None]:
    """How the answers' recency compares with the base's now.

    Args:
        answer_days: days from each answer's latest event to the answer.
        base_days: days since each customer's latest event now; NaN (no event ever) counts as beyond.

    Returns:
        The medians of both (None without any), and the share of the base further past its latest
        event than `REACH_QUANTILE` of the answers were (`beyond_answers_share`, 0..1).
    """
    edge = reach_edge(answer_days)
    if edge is None or not len(base_days):
        return {"answer_event_days": None, "base_event_days": None, "beyond_answers_share": None}
    answered = answer_days[~np.isnan(answer_days)]
    known = base_days[~np.isnan(base_days)]
    beyond = np.isnan(base_days) | (base_days > edge)
    return {
        "answer_event_days": round(float(np.median(answered)), 1),
        "base_event_days": round(float(np.median(known)), 1) if len(known) else None,
        "beyond_answers_share": round(float(beyond.mean()), 4),
    }
