"""Drift of the text themes: what negative texts are about now, against the champions' training window.

Each negative text in `text_scores` carries the theme it was filed under. A theme the champions
read as a feature drifts like any feature; but a topic that is new, or one no model weighs, shows
only in the mix of themes. The mix of the last `RECENT_DAYS` is compared with the mix of the same
span ending where the champions' reference rows end (the Jensen-Shannon distance, base 2, drifted
from `DriftRule.jensen_shannon` as for a categorical feature), and the themes whose share grew
most are named. Both windows come from today's `text_scores`, so re-scored texts compare alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from training.monitoring.profile import RECENT_DAYS

MIN_TEXTS = 30  # themed texts per window below which the mix is reported, never judged
NAMED = 3


@dataclass(frozen=True)
class ThemeCheck:
    """The theme mix before and now, its distance, and the themes that grew most.

    Attributes:
        reference: theme -> share of the negative texts in the reference window.
        current: theme -> share now.
        grown: the themes whose share grew most, largest first, with "(new)" for one never seen.
    """

    texts: tuple[int, int]
    reference: dict[str, float]
    current: dict[str, float]
    distance: float | None
    drifted: bool
    grown: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON-ready values."""
        keys = ("reference", "current", "distance", "drifted", "grown")
        return {k: getattr(self, k) for k in keys} | {"texts": list(self.texts)}

    def reason(self) -> str:
        """The sentence the verdict quotes."""
        return (
            f"the mix of negative text themes moved by {self.distance:.2f} (grown: {', '.join(self.grown)})"
        )


def theme_check(
    tables: Mapping[str, pd.DataFrame], reference_end: pd.Timestamp, now: pd.Timestamp, threshold: float
) -> ThemeCheck | None:
    """The theme mix of the window ending at `reference_end` against the one ending at `now`.

    Returns:
        None when the workspace has no themed texts.
    """
    scores = tables.get("text_scores")
    if scores is None or "theme" not in scores or scores["theme"].notna().sum() == 0:
        return None
    span = pd.Timedelta(days=RECENT_DAYS)
    at = pd.to_datetime(scores["at"], utc=True)
    (before, n_before), (after, n_after) = (
        _shares(scores, at, end - span, end) for end in (reference_end, now)
    )
    texts = (n_before, n_after)
    if min(texts) < MIN_TEXTS:
        return ThemeCheck(texts, before, after, None, False, ())
    themes = sorted(set(before) | set(after))
    ref, cur = (np.array([shares.get(t, 0.0) for t in themes]) for shares in (before, after))
    distance = float(jensenshannon(ref, cur, base=2))
    growth = sorted(themes, key=lambda t: before.get(t, 0.0) - after.get(t, 0.0))
    grown = tuple(
        f"{t} (new)" if t not in before else t for t in growth if after.get(t, 0) > before.get(t, 0)
    )
    return ThemeCheck(texts, before, after, distance, distance >= threshold, grown[:NAMED])


def _shares(
    scores: pd.DataFrame, at: pd.Series, start: pd.Timestamp, end: pd.Timestamp
) -> tuple[dict[str, float], int]:
    """Theme -> share of the themed texts written (`at`) in [start, end), and how many texts that is."""
    themes = scores.loc[(at >= start) & (at < end), "theme"].dropna().astype(str)
    return {str(k): float(v) for k, v in themes.value_counts(normalize=True).items()}, len(themes)
