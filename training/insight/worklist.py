"""The head of the worklist: the customers whose loss would cost most, with the reason on top.

Ranked by value at risk (churn probability × customer value) where the customers carry a value,
else by churn probability, else by the chance of a detractor answer.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

HEAD = 20


def _top_reason(cell: Any) -> str:
    reasons = json.loads(cell) if isinstance(cell, str) else list(cell) if cell is not None else []
    raising = [r for r in reasons if r.get("log_odds", 0) > 0]
    return str(raising[0].get("sentence", raising[0]["feature"])) if raising else ""


def worklist_rows(scores: pd.DataFrame, value: np.ndarray | None, head: int = HEAD) -> np.ndarray:
    """Positions of the `head` customers `worklist_head` lists, in its order (none without a risk)."""
    if "churn_probability" in scores.columns:
        risk = scores["churn_probability"].to_numpy(dtype=float)
        rank = risk if value is None else risk * value
    elif "nps_detractor" in scores.columns:
        rank = scores["nps_detractor"].to_numpy(dtype=float)
    else:
        return np.empty(0, dtype=np.intp)
    return np.argsort(-rank, kind="stable")[:head]


def worklist_head(
    customer_id: pd.Series, scores: pd.DataFrame, value: np.ndarray | None, head: int = HEAD
) -> list[dict[str, object]]:
    """The `head` customers most worth a call, each with their risks and top reason.

    Only the listed customers' reasons are read: `scores` may carry them for those rows alone.
    """
    order = worklist_rows(scores, value, head)
    if not len(order):
        return []
    churn = "churn_probability" in scores.columns
    risk = scores["churn_probability" if churn else "nps_detractor"].to_numpy(dtype=float)
    reasons, value = ("churn_reasons", value) if churn else ("nps_reasons", None)
    rows = []
    for i in order:
        row: dict[str, object] = {"customer_id": str(customer_id.iloc[i]), "risk": round(float(risk[i]), 4)}
        if value is not None:
            row["value_at_risk"] = round(float(risk[i] * value[i]), 2)
        if "nps_detractor" in scores.columns:
            row["detractor"] = round(float(scores["nps_detractor"].iloc[i]), 4)
        row["reason"] = _top_reason(scores[reasons].iloc[i]) if reasons in scores.columns else ""
        rows.append(row)
    return rows
