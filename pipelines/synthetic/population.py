"""The whole base's true satisfaction as the surveys measure it: what every customer would answer.

A survey answer is a noisy, rounded reading of latent satisfaction plus the customer's rater habit
(`surveys.read_scores`). The figure an estimate from answers can reach is therefore the *expected
answer* of every active customer, had each been asked at the end, not the class of their latent
value (`nps_true`): the two differ because answer noise moves passives to either side. Both are in
`_truth/summary.json`; the expected answers also per customer in `_truth/customers.parquet`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtr

from pipelines.synthetic import params as P
from pipelines.synthetic.simulate import History
from pipelines.synthetic.surveys import METRICS, READINGS, Reading
from pipelines.synthetic.tables import Context

DEFINITION = (
    "expected answers had every customer active at the end been asked then (rater habit and answer "
    "noise included); nps = 100 × (P(promoter) − P(detractor)), `<metric>_mean` on the metric's scale, "
    "`<metric>_negative_share` in % of answers on the metric's negative side"
)


def _centre(reading: Reading, value: np.ndarray) -> np.ndarray:
    return value if reading.slope == 1.0 else reading.center + reading.slope * (value - 7.0)


def at_least(reading: Reading, value: np.ndarray, score: float) -> np.ndarray:
    """P(answer ≥ `score`) for a customer whose reading (latent + rater habit) is `value`."""
    return np.asarray(ndtr((_centre(reading, value) - (score - 0.5)) / reading.noise_sd), dtype=float)


def expected_answers(value: np.ndarray) -> dict[str, np.ndarray]:
    """Per customer: each metric's expected answer and negative-side probability; NPS's classes."""
    out: dict[str, np.ndarray] = {}
    for metric in METRICS:
        reading = READINGS[metric]
        steps = [at_least(reading, value, k + 1) for k in range(reading.low, reading.high)]
        out[f"{metric}_expected"] = reading.low + np.sum(steps, axis=0)
        out[f"{metric}_negative_p"] = negative_p(reading, value)
    out["nps_promoter_p"] = at_least(READINGS["nps"], value, 9)
    out["nps_detractor_p"] = out["nps_negative_p"]
    return out


def negative_p(reading: Reading, value: np.ndarray) -> np.ndarray:
    """P(answer on the metric's negative side) for a customer whose reading is `value`."""
    side, bound = reading.negative
    above = at_least(reading, value, bound if side == ">=" else bound + 1)
    return above if side == ">=" else 1.0 - above


def expected_nps(value: np.ndarray) -> float:
    """The NPS of expected answers (`figures`'s `nps`) of customers whose readings are `value`."""
    reading = READINGS["nps"]
    return float(100 * (at_least(reading, value, 9).mean() - negative_p(reading, value).mean()))


def expected_table(ctx: Context, history: History) -> pa.Table:
    """Every customer's expected answers at the end, and whether they were still a customer then."""
    value = history.snapshots[-1].astype(float) + ctx.customers.rater_bias
    columns = {"active_at_end": history.alive[-1], **expected_answers(value)}
    return pa.table(columns)


def figures(answers: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, float]:
    """The base's figures over `rows` (a boolean mask of customers)."""
    out = {
        "customers": int(rows.sum()),
        "nps": float(
            100 * (answers["nps_promoter_p"][rows].mean() - answers["nps_detractor_p"][rows].mean())
        ),
    }
    for metric in METRICS:
        out[f"{metric}_mean"] = float(answers[f"{metric}_expected"][rows].mean())
        out[f"{metric}_negative_share"] = float(100 * answers[f"{metric}_negative_p"][rows].mean())
    return out


def population_truth(ctx: Context, history: History) -> dict[str, Any]:
    """The `population` section of the truth summary: whole base, per segment and per region."""
    value = history.snapshots[-1].astype(float) + ctx.customers.rater_bias
    answers, active = expected_answers(value), history.alive[-1]
    by: dict[str, dict[str, dict[str, float]]] = {}
    for column, levels in (("segment", P.SEGMENTS), ("region", P.REGIONS)):
        codes = getattr(ctx.customers, column)
        by[column] = {level: figures(answers, active & (codes == k)) for k, level in enumerate(levels)}
    return {"definition": DEFINITION, **figures(answers, active), "by": by}
