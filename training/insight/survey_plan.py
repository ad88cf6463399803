"""Whom to survey next: a uniform audit share plus the customers the models know least about.

One Poisson sample: each eligible customer is invited independently with probability

    π_i = min(1, a + c · w_i),

`a` the audit share of the budget spread evenly over every eligible customer (so answers keep
reaching everyone and the corrected estimate stays honest) and `w_i` a targeting weight: the models'
uncertainty about the customer times how under-answered their segment is; `c` is chosen so the
expected number of invitations is the budget. Every π_i is known, so later answers can be weighted
by 1/π_i (Horvitz-Thompson) whatever the targeting favoured.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Floats = NDArray[np.float64]
UNDER_SAMPLED_RANGE = (0.5, 3.0)  # a segment answers at most 3× too little or 2× too much to count


@dataclass(frozen=True)
class PlanRules:
    """What the CX manager decides.

    Attributes:
        budget: expected invitations in the plan.
        audit_share: the part of the budget drawn uniformly at random among eligible customers.
        min_days_since_answer: a customer who answered less than this many days ago is not asked.
        per_day: at most this many invitations a day (the plan spreads over as many days as needed).
        seed: seeds the draw.
    """

    budget: int
    audit_share: float = 0.3
    min_days_since_answer: int = 30
    per_day: int = 500
    seed: int = 0


def uncertainty(scores: pd.DataFrame) -> Floats:
    """How unsure the models are about each customer, 0..1: NPS class entropy, else negative-side p(1−p)."""
    classes = [c for c in ("nps_detractor", "nps_passive", "nps_promoter") if c in scores]
    if len(classes) == 3:
        p = np.clip(scores[classes].to_numpy(dtype=float), 1e-9, 1.0)
        return np.asarray(-(p * np.log(p)).sum(axis=1) / np.log(3), dtype=float)
    negative = [c for c in scores.columns if c.endswith("_negative_probability")]
    if not negative:
        raise ValueError("the scores hold no satisfaction prediction to be uncertain about")
    p = scores[negative[0]].to_numpy(dtype=float)
    return np.asarray(4 * p * (1 - p), dtype=float)


def under_sampled(groups: pd.Series, answered: NDArray[np.bool_]) -> Floats:
    """Per customer: their segment's share of the base over its share of recent answers (clipped)."""
    labels = groups.astype("string").fillna("")
    base = labels.value_counts(normalize=True)
    answers = labels[answered].value_counts(normalize=True)
    ratio = (base / answers.reindex(base.index).fillna(0.0).clip(lower=1e-9)).clip(*UNDER_SAMPLED_RANGE)
    return np.asarray(labels.map(ratio).to_numpy(dtype=float), dtype=np.float64)


def inclusion_probabilities(weights: Floats, eligible: NDArray[np.bool_], rules: PlanRules) -> Floats:
    """π_i for every customer (0 where not eligible), summing to the budget where it can."""
    n = int(eligible.sum())
    if n == 0:
        return np.zeros(len(weights))
    if rules.budget >= n:
        return eligible.astype(float)
    audit = rules.audit_share * rules.budget / n
    w = np.where(eligible, weights, 0.0)
    low, high = 0.0, rules.budget / max(float(w[eligible].min(initial=np.inf)), 1e-12) + 1.0
    for _ in range(100):  # bisection: the expected size grows with c
        c = (low + high) / 2
        size = np.minimum(1.0, audit + c * w)[eligible].sum()
        low, high = (c, high) if size < rules.budget else (low, c)
    return np.asarray(np.where(eligible, np.minimum(1.0, audit + low * w), 0.0), dtype=float)


def draw_plan(
    customer_id: pd.Series, weights: Floats, eligible: NDArray[np.bool_], rules: PlanRules
) -> pd.DataFrame:
    """The invited customers: inclusion probability, weight 1/π, why, and the day offset to invite on."""
    pi = inclusion_probabilities(weights, eligible, rules)
    rng = np.random.default_rng(rules.seed)
    u = rng.random(len(pi))
    chosen = u < pi
    audit = rules.audit_share * rules.budget / max(int(eligible.sum()), 1)
    plan = pd.DataFrame(
        {
            "customer_id": customer_id.to_numpy()[chosen],
            "inclusion_probability": pi[chosen].round(6),
            "weight": (1 / pi[chosen]).round(4),
            "reason": np.where(u[chosen] < audit, "audit", "targeted"),
        }
    )
    order = rng.permutation(len(plan))  # days filled in random order, so no kind of customer waits longest
    plan["day"] = np.empty(len(plan), dtype=int)
    plan.loc[plan.index[order], "day"] = np.arange(len(plan)) // max(rules.per_day, 1)
    return plan.sort_values(["day", "customer_id"]).reset_index(drop=True)
