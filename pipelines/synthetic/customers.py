"""Customers: who they are (the `customers` table) and their hidden traits (the ground truth)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic import params as P
from pipelines.synthetic.timegrid import DAY, TimeGrid

YEAR = 365.25 * DAY


@dataclass(frozen=True)
class Customers:
    """One entry per customer in every array, indexed by the customer's row number.

    Attributes:
        baseline: the latent satisfaction (0-10 scale) a customer drifts back to.
        sensitivity: (n, 3) multipliers of the delivery, product and service driver groups.
        rater_bias: how much more generously than their latent value a customer scores surveys.
        order_rate: expected orders per step.
        hazard_base: churn hazard per step before satisfaction, tenure and plan move it.
        voice: propensity to post reviews and comments (multiplies the verbatim rate).
    """

    created: np.ndarray
    segment: np.ndarray
    region: np.ndarray
    plan: np.ndarray
    age_band: np.ndarray
    annual_value: np.ndarray
    baseline: np.ndarray
    sensitivity: np.ndarray
    rater_bias: np.ndarray
    order_rate: np.ndarray
    hazard_base: np.ndarray
    voice: np.ndarray

    def __len__(self) -> int:
        return len(self.created)


def _created(rng: np.random.Generator, n: int, grid: TimeGrid) -> np.ndarray:
    """About four in five joined before the window (tenure up to ~8 years), the rest during it."""
    during = rng.random(n) < 0.2
    before = grid.start - np.minimum(rng.exponential(2.0 * YEAR, n), 8 * YEAR)
    inside = grid.start + rng.random(n) * (grid.end - grid.start) * 0.97
    return np.where(during, inside, before).astype(np.int64)


def _annual_value(rng: np.random.Generator, segment: np.ndarray, plan: np.ndarray) -> np.ndarray:
    median = np.array([380.0, 4_200.0, 52_000.0])[segment] * np.array([0.8, 1.0, 1.5])[plan]
    return np.round(median * rng.lognormal(0.0, 0.7, len(segment)), 2)


def draw_customers(rng: np.random.Generator, n: int, grid: TimeGrid) -> Customers:
    """Draw `n` customers' attributes and hidden traits."""
    segment = rng.choice(len(P.SEGMENTS), n, p=P.SEGMENT_SHARE).astype(np.int8)
    plan = rng.choice(len(P.PLANS), n, p=P.PLAN_SHARE).astype(np.int8)
    age_band = rng.choice(len(P.AGE_BANDS), n, p=P.AGE_SHARE).astype(np.int8)
    baseline = (
        7.8
        + np.array([0.0, 0.2, 0.4])[plan]
        + np.array([0.0, -0.1, 0.1])[segment]
        + P.AGE_SATISFACTION[age_band]
    )
    steps_per_year = 12 * 4
    rate_mean = P.RATES.orders_per_year / steps_per_year * np.array([1.0, 1.8, 3.0])[segment]
    plan_hazard = np.array([1.3, 1.0, 0.7])[plan] * np.array([1.0, 0.8, 0.5])[segment]
    return Customers(
        created=_created(rng, n, grid),
        segment=segment,
        region=rng.choice(len(P.REGIONS), n, p=P.REGION_SHARE).astype(np.int8),
        plan=plan,
        age_band=age_band,
        annual_value=_annual_value(rng, segment, plan),
        baseline=(baseline + rng.normal(0.0, 1.25, n)).astype(np.float32),
        sensitivity=rng.lognormal(0.0, 0.5, (n, 3)).astype(np.float32),
        rater_bias=rng.normal(0.0, P.RATES.rater_bias_sd, n).astype(np.float32),
        order_rate=(rng.gamma(2.0, 0.5, n) * rate_mean).astype(np.float32),
        hazard_base=(P.RATES.churn_per_step * plan_hazard * rng.lognormal(-0.08, 0.4, n)).astype(np.float32),
        voice=rng.lognormal(-0.3, 0.8, n).astype(np.float32),
    )
