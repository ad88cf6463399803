"""The time loop: each step draws every active customer's experiences at once.

Then it moves their latent satisfaction, collects survey answers and posts, and lets some churn.

The loop runs over steps only; inside a step all work is vectorised across customers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pipelines.synthetic import params as P
from pipelines.synthetic.customers import YEAR
from pipelines.synthetic.operations import step_background_contacts, step_orders
from pipelines.synthetic.surveys import answer_due, propensity, relationship_invites
from pipelines.synthetic.timegrid import DAY
from pipelines.synthetic.world import NEVER, World

CHURN_REASONS = (
    "delivery problems",
    "product quality",
    "billing problems",
    "poor service",
    *P.CHURN_REASONS_OTHER,
)
# Which churn reason a customer gives after each issue (indexes CHURN_REASONS, in ISSUES order).
ISSUE_REASON = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3], dtype=np.int8)
HAZARD_SLOPE = 0.8  # log-hazard per point of latent satisfaction below 6.8


@dataclass(frozen=True)
class History:
    """What the loop leaves for the ground truth, beyond the event log.

    Attributes:
        snapshots: (months, n) latent satisfaction at each month's end.
        alive: (months, n) whether each customer was a customer at that moment.
        cutoff: the churn oracle's cutoff, in seconds (~90 days before the end).
        cutoff_hazard: per-step churn hazard at the cutoff; `cutoff_alive` says who it applies to.
        final_hazard: per-step churn hazard at the end of the window.
    """

    snapshots: np.ndarray
    alive: np.ndarray
    cutoff: int
    cutoff_hazard: np.ndarray
    cutoff_alive: np.ndarray
    final_hazard: np.ndarray


def hazard(w: World, cust: np.ndarray, at: int) -> np.ndarray:
    """Churn probability per step: base (plan, segment) x satisfaction x a new customer's fragility."""
    c = w.customers
    tenure = (at - c.created[cust]) / YEAR
    lift = np.exp(HAZARD_SLOPE * (6.8 - w.latent[cust])) * (1.0 + 1.5 * np.exp(-np.maximum(tenure, 0) / 0.5))
    return np.minimum(c.hazard_base[cust] * lift, 0.5).astype(np.float32)


def step_verbatims(w: World, active: np.ndarray, t0: int, t1: int) -> None:
    """Reviews, posts, e-mails and chats: more after a bad experience, tone from latent satisfaction."""
    rng = w.rng
    issue = w.recent_issue(active)
    rate = (
        P.RATES.verbatim * w.customers.voice[active] * (1 + 2.0 * (issue >= 0)) * propensity(w.latent[active])
    )
    posts = rng.random(len(active)) < rate
    cust, issue = active[posts], issue[posts]
    latent = w.latent[cust]
    tone = np.digitize(latent + rng.normal(0.0, 0.8, len(cust)), [6.3, 8.0]).astype(np.int8)
    fallback = rng.integers(0, len(P.ISSUES), len(cust)).astype(np.int8)
    w.log.add(
        "verbatims",
        cust=cust,
        posted=w.moments(cust, t0, t1),
        tone=tone,
        latent=latent,
        issue=np.where(issue >= 0, issue, fallback).astype(np.int8),
        source=rng.choice(len(P.SOURCES), len(cust), p=P.SOURCE_SHARE).astype(np.int8),
    )


def _churn(w: World, active: np.ndarray, risk: np.ndarray, t0: int, t1: int) -> None:
    rng = w.rng
    leaving = rng.random(len(active)) < risk
    cust = active[leaving]
    at = w.moments(cust, t0, t1)
    issue = w.recent_issue(cust, within=12)
    other = rng.integers(4, len(CHURN_REASONS), len(cust))
    reason = np.where(issue >= 0, ISSUE_REASON[np.maximum(issue, 0)], other).astype(np.int8)
    w.churned_at[cust] = at
    w.log.add("churn", cust=cust, churned=at, reason=reason)


def simulate(w: World, progress: Callable[[str], None]) -> History:
    """Run every step; the world's log then holds every table's rows."""
    grid, n = w.grid, len(w.customers)
    snapshots = np.zeros((len(grid.month_steps), n), np.float32)
    alive = np.zeros((len(grid.month_steps), n), bool)
    cutoff_step = grid.step_nearest(grid.end - 90 * DAY)
    cutoff_hazard, cutoff_alive = np.zeros(n, np.float32), np.zeros(n, bool)
    risk = np.zeros(0, np.float32)
    for k in range(grid.steps):
        if k % 12 == 0:
            progress(f"month {k // 4 + 1} of {len(grid.month_steps)}")
        w.step, t0, t1 = k, int(grid.bounds[k]), int(grid.bounds[k + 1])
        active = np.flatnonzero((w.customers.created < t1) & (w.churned_at == NEVER))
        step_orders(w, active, t0, t1)
        step_background_contacts(w, active, t0, t1)
        relationship_invites(w, active, t0, t1)
        w.settle()
        answer_due(w)
        step_verbatims(w, active, t0, t1)
        risk = hazard(w, active, t1)
        if k == cutoff_step:
            cutoff_hazard[active], cutoff_alive[active] = risk, True
        _churn(w, active, risk, t0, t1)
        month = np.searchsorted(grid.month_steps, k)
        if month < len(grid.month_steps) and grid.month_steps[month] == k:
            snapshots[month] = w.latent
            alive[month] = (w.customers.created < t1) & (w.churned_at >= t1)
    final = np.zeros(n, np.float32)
    final[active] = risk
    return History(snapshots, alive, int(grid.bounds[cutoff_step + 1]), cutoff_hazard, cutoff_alive, final)
