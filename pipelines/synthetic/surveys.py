"""Surveys: invitations at touchpoints, who answers (response bias), and scores as noisy readings.

An invitation waits in `World.invites` for the step its moment falls in, so that the answer reads
the latent satisfaction *after* the experience that prompted it (a late parcel, a closed ticket).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic import params as P
from pipelines.synthetic.params import RATES
from pipelines.synthetic.timegrid import DAY
from pipelines.synthetic.world import LATENT_BANDS, World

METRICS = ("nps", "csat", "ces")
TOUCHPOINT_METRICS = {
    "after_delivery": ("nps", "csat"),
    "after_ticket_close": ("csat", "ces"),
    "relationship": ("nps",),
}
RESPONSE_RATE = np.array(
    [RATES.respond_after_delivery, RATES.respond_after_ticket, RATES.respond_relationship]
)
TONES = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Reading:
    """How a metric reads satisfaction: `center + slope * (reading - 7)` plus normal noise, rounded.

    The answer is that value rounded and clipped to `low..high`; `negative` says which answers
    are the metric's negative side (`("<=", 6)`: six or less).
    """

    center: float
    slope: float
    noise_sd: float
    low: int
    high: int
    negative: tuple[str, float]


READINGS = {
    "nps": Reading(7.0, 1.0, RATES.nps_noise_sd, 0, 10, ("<=", 6)),
    "csat": Reading(3.3, 0.75, 0.75, 1, 5, ("<=", 2)),
    "ces": Reading(3.0, -0.65, 0.9, 1, 7, (">=", 5)),
}


def invite(w: World, cust: np.ndarray, at: np.ndarray, touchpoint: str) -> None:
    """Queue invitations for the steps their moments fall in; those after the window never happen."""
    steps = w.grid.step_of(at)
    code = P.TOUCHPOINTS.index(touchpoint)
    for step in np.unique(steps[steps < w.grid.steps]):
        due = steps == step
        w.invites[int(step)].append(
            {"cust": cust[due], "at": at[due], "touchpoint": np.full(due.sum(), code, np.int8)}
        )


def relationship_invites(w: World, active: np.ndarray, t0: int, t1: int) -> None:
    """Every customer is asked the relationship NPS once a quarter (12 steps), staggered by customer."""
    due = active[(active + w.step) % 12 == 0]
    invite(w, due, w.moments(due, t0, t1), "relationship")


def propensity(latent: np.ndarray) -> np.ndarray:
    """Relative readiness to post a review or comment: the very unhappy and the very happy more (mean ~1)."""
    z = (latent - 7.2) / 1.6
    return np.clip(0.55 + 0.45 * z**2, 0.0, 3.0)


def readiness(w: World, cust: np.ndarray, latent: np.ndarray) -> np.ndarray:
    """Relative readiness to answer (mean ~1), mostly from what the `customers` table shows.

    Older and premium customers answer more readily (`params.AGE_RESPONSE`, `PLAN_RESPONSE`); that
    part a propensity model can see. The rest cannot be seen: the very unhappy and the very happy
    answer a little more, as real respondents do.
    """
    z = (latent - 7.2) / 1.6
    seen = P.AGE_RESPONSE[w.customers.age_band[cust]] * P.PLAN_RESPONSE[w.customers.plan[cust]]
    return seen * np.clip(0.95 + 0.05 * z**2, 0.0, 1.25)


def answer_due(w: World) -> None:
    """Decide which of this step's invitations are answered, and log the answers with their scores."""
    chunks = w.invites.pop(w.step, [])
    if not chunks:
        return
    cust, at, tp = (np.concatenate([c[k] for c in chunks]) for k in ("cust", "at", "touchpoint"))
    alive = w.churned_at[cust] > at
    cust, at, tp = cust[alive], at[alive], tp[alive]
    latent = w.latent[cust]
    answers = w.rng.random(len(cust)) < RESPONSE_RATE[tp] * readiness(w, cust, latent)
    responded = at + (w.rng.exponential(1.0, len(cust)) * DAY).astype(np.int64)
    answers &= (responded < w.grid.end) & (responded < w.churned_at[cust])
    _count(w, tp, latent, answers)
    _log_answers(w, cust[answers], responded[answers], tp[answers], latent[answers])


def _count(w: World, tp: np.ndarray, latent: np.ndarray, answers: np.ndarray) -> None:
    for code, name in enumerate(P.TOUCHPOINTS):
        at_tp = tp == code
        for metric in TOUCHPOINT_METRICS[name]:
            w.surveys.invited[metric] += int(at_tp.sum())
            w.surveys.answered[metric] += int((at_tp & answers).sum())
    band = np.digitize(latent, LATENT_BANDS)
    w.surveys.band_invited += np.bincount(band, minlength=len(LATENT_BANDS) + 1)
    w.surveys.band_answered += np.bincount(band[answers], minlength=len(LATENT_BANDS) + 1)


def read_scores(rng: np.random.Generator, reading: np.ndarray) -> dict[str, np.ndarray]:
    """Each metric's answer as a noisy, rounded reading of latent satisfaction on its own scale."""
    n, nps, csat, ces = len(reading), READINGS["nps"], READINGS["csat"], READINGS["ces"]
    # NPS reads the latent value itself (no centring), so its draws stay bit-identical
    return {
        "nps": np.clip(np.rint(reading + rng.normal(0.0, nps.noise_sd, n)), nps.low, nps.high)
        + 0.0,  # no -0.0
        "csat": np.clip(
            np.rint(csat.center + csat.slope * (reading - 7.0) + rng.normal(0.0, csat.noise_sd, n)),
            csat.low,
            csat.high,
        ),
        "ces": np.clip(
            np.rint(ces.center + ces.slope * (reading - 7.0) + rng.normal(0.0, ces.noise_sd, n)),
            ces.low,
            ces.high,
        ),
    }


def _log_answers(
    w: World, cust: np.ndarray, responded: np.ndarray, tp: np.ndarray, latent: np.ndarray
) -> None:
    rng = w.rng
    scores = read_scores(rng, latent + w.customers.rater_bias[cust])
    asked = {
        m: np.isin(tp, [P.TOUCHPOINTS.index(t) for t, ms in TOUCHPOINT_METRICS.items() if m in ms])
        for m in METRICS
    }
    for metric in METRICS:
        scores[metric] = np.where(asked[metric], scores[metric], np.nan)
    # The comment's tone follows the first question's answer: NPS where asked, else CSAT.
    first = np.where(
        asked["nps"], np.digitize(scores["nps"], [6.5, 8.5]), np.digitize(scores["csat"], [2.5, 3.5])
    )
    issue = w.recent_issue(cust)
    fallback = rng.integers(0, len(P.ISSUES), len(cust)).astype(np.int8)
    w.log.add(
        "responses",
        cust=cust,
        responded=responded,
        touchpoint=tp,
        latent=latent,
        comment=rng.random(len(cust)) < RATES.comment,
        tone=first.astype(np.int8),
        issue=np.where(issue >= 0, issue, fallback).astype(np.int8),
        **scores,
    )
