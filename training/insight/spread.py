"""How sure a what-if's NPS change is, from the experience model refitted on halves of the customers.

Design: the change a what-if reads from the experience model (`Predictor.experience`) moves with
the answers the model happened to be trained on; another company of the same kind, or the same one
a year later, would read it differently. `fitting.fit_halves` refits the model on complementary
halves of the customers (`pairs` times), and each what-if is read once more from each half. A
half-sample's estimate varies twice as much as the whole's (it has half the customers), so the
whole's standard error is the halves' standard deviation over √2, and the 95% interval uses
Student's t with one degree of freedom fewer than the halves (six halves: t = 2.57). Two drivers
are told apart when their *difference*, read the same way from the same halves, is outside its own
interval: the halves move both changes together, so the difference is surer than either.

The interval covers which customers' answers trained the model; it does not cover what the model
cannot see (a driver confounded with a cause that no feature records) or the scenario's own
assumptions (`what_if_basis`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from scipy import stats

HALVES = "nps_change_halves"  # the rows' internal key: the change read from each half
INTERVAL = "nps_change_interval"
AHEAD = "ahead_of_next"


def standard_error(halves: Sequence[float]) -> float | None:
    """The whole model's standard error from the halves' changes; None with fewer than two."""
    if len(halves) < 2:
        return None
    return float(np.std(np.asarray(halves, dtype=float), ddof=1) / np.sqrt(2.0))


def half_interval(point: float, halves: Sequence[float]) -> list[float] | None:
    """The 95% interval of `point`, the whole model's change; None without halves."""
    se = standard_error(halves)
    if se is None:
        return None
    reach = float(stats.t.ppf(0.975, len(halves) - 1)) * se
    return [round(point - reach, 2), round(point + reach, 2)]


def told_apart(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool | None:
    """Whether `first`'s NPS change is surely larger than `second`'s; None where either has no halves.

    Args:
        first: a row with `nps_change` and its halves (`HALVES`).
        second: another, read from the same halves.
    """
    a, b = first.get(HALVES), second.get(HALVES)
    if not a or not b or len(a) != len(b):
        return None
    gap = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    interval = half_interval(float(first["nps_change"]) - float(second["nps_change"]), list(gap))
    return interval is not None and interval[0] > 0


def with_intervals(rows: list[dict[str, Any]], ranked: bool = False) -> list[dict[str, Any]]:
    """The rows with each NPS change's interval (and, when `ranked`, whether it is ahead of the next).

    The halves' own changes are dropped: they serve the intervals alone.
    """
    out = []
    for k, row in enumerate(rows):
        halves = row.get(HALVES) or []
        change = row.get("nps_change")
        shown = {key: value for key, value in row.items() if key != HALVES}
        if isinstance(change, float | int):
            shown[INTERVAL] = half_interval(float(change), halves)
        if ranked:
            shown[AHEAD] = told_apart(row, rows[k + 1]) if k + 1 < len(rows) else None
        out.append(shown)
    return out
