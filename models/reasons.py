"""Reason codes: the features that push one prediction's risk up and down, in plain words.

Sizes are SHAP contributions from LightGBM (`pred_contrib=True`) on the trees' log-odds, before
calibration: they add up exactly to the raw score, which a calibrated probability cannot promise.
A contribution of +0.7 log-odds roughly doubles the odds of the bad outcome.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray


@dataclass(frozen=True)
class Reason:
    """One feature's push on one prediction.

    Attributes:
        log_odds: the feature's contribution to the log-odds of the bad outcome; positive raises risk.
    """

    feature: str
    sentence: str
    value: float | str | None
    log_odds: float

    @property
    def raises_risk(self) -> bool:
        """Whether this feature pushes the risk up."""
        return self.log_odds > 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def describe(description: str, value: Any) -> str:
    """A sentence for a feature's value, built from the catalogue's one-line description.

    A description may place the value itself with `{value}`; otherwise a whole number leads a
    count-like description ("3 late deliveries in the last 30 days") and any other value follows
    it ("subscription plan: basic").
    """
    text = _format_value(value)
    if "{value}" in description:
        return description.replace("{value}", text)
    if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
        return f"{text} {description}"
    return f"{description}: {text}"


def _format_value(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    if isinstance(value, float):
        return f"{value:,.0f}" if value.is_integer() else f"{value:,.2f}"
    return str(value)


def top_reasons(
    contributions: pd.DataFrame,
    features: pd.DataFrame,
    descriptions: Mapping[str, str],
    top: int = 3,
) -> list[list[Reason]]:
    """Per row, up to `top` features raising the risk and up to `top` lowering it, largest first.

    Args:
        contributions: per row and feature the log-odds push (a `bias` column is ignored).
        features: the same rows' feature values, for the sentences.
        descriptions: feature -> one-line description; the name stands in when one is missing.
        top: how many reasons of each direction to keep.
    """
    columns = [str(c) for c in contributions.columns if c != "bias"]
    pushes = contributions[columns].to_numpy(dtype=float)
    return strongest_reasons(pushes, columns, features[columns].astype(object).to_numpy(), descriptions, top)


def strongest_reasons(
    pushes: NDArray[np.float64],
    columns: Sequence[str],
    values: NDArray[np.object_],
    descriptions: Mapping[str, str],
    top: int = 3,
) -> list[list[Reason]]:
    """`top_reasons` of plain arrays: pushes and values are (rows, columns), in `columns` order."""
    strongest_up = np.argsort(-pushes, axis=1, kind="stable")[:, :top]
    strongest_down = np.argsort(pushes, axis=1, kind="stable")[:, :top]
    result = []
    for i in range(len(pushes)):
        chosen = [j for j in strongest_up[i] if pushes[i, j] > 0] + [
            j for j in strongest_down[i] if pushes[i, j] < 0
        ]
        result.append([_reason(columns[j], values[i, j], pushes[i, j], descriptions) for j in chosen])
    return result


def _reason(feature: str, value: Any, push: float, descriptions: Mapping[str, str]) -> Reason:
    plain = None if pd.isna(value) else (value.item() if hasattr(value, "item") else value)
    return Reason(feature, describe(descriptions.get(feature, feature), plain), plain, float(push))
