"""Beyond a metric's reach, the corrected figure reads it off a metric whose answers reach much further.

CSAT, asked after a delivery or a closed ticket, is answered a day or two after an event, while most
of the base is weeks past its latest one (`reach`). For those customers the CSAT model reads a state
none of its answers saw, and trees extrapolate flat from the nearest one they did: on the generated
company (seed 9, 20,000 customers) it scored customers more than 30 days past their latest event 0.08
above their true expected answer, where the NPS model, whose quarterly relationship survey reaches
them, erred by 0.032 at most. The corrected figure carries the answers' residuals to the whole base,
so it carried that extrapolation too, and its interval missed the truth.

So, for a metric whose answers reach much less far than another's (`choose_anchor`), the corrected
figure's per-customer prediction beyond its reach is that anchor's score read through a monotone fit
of the metric's predictions on the anchor's among the customers now within its reach, where both
models read states their answers saw. The answers' residuals then correct it as they correct any
prediction of such a state. The model-based figure stays the plain mean of the model's predictions,
as `cxpredict score` writes them. What this rests on: the two metrics' predictions relate far from
an event as they do near one.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.isotonic import IsotonicRegression

MIN_WITHIN = 50  # customers within reach that the monotone fit needs before it is trusted
REACH_RATIO = 2.0  # how many times as far past an event an anchor's answers must reach

Floats = NDArray[np.float64]


def choose_anchor(
    metric: str, edges: Mapping[str, float | None], answers: Mapping[str, int], current: pd.DataFrame
) -> str | None:
    """The metric that `metric` is read off beyond its reach; None where none reaches far enough further.

    Among the metrics whose answers reach at least `REACH_RATIO` times as far past an event as
    `metric`'s, and whose score the predictions hold, the one answered most: one reaching barely
    further would trade one model's extrapolation for another's fitted relation on as little ground,
    and of two reaching far enough, the more answered has the better-trained model.

    Args:
        metric: the metric whose figures are corrected.
        edges: metric -> how many days past an event 95% of its answers came (`reach.reach_edge`).
        answers: metric -> how many answers it has in the window.
        current: the scores now; a metric without a `<metric>_score` column cannot anchor.
    """
    edge = edges.get(metric)
    if edge is None:
        return None
    further = [
        m
        for m, e in edges.items()
        if e is not None and e > edge and e >= REACH_RATIO * edge and f"{m}_score" in current.columns
    ]
    return max(further, key=lambda m: answers.get(m, 0)) if further else None


def anchored(values: Floats, anchor_scores: Floats, days: Floats, edge: float) -> Floats:
    """`values` within `edge` days of an event; beyond, read off `anchor_scores` (module docstring).

    Args:
        values: each customer's prediction of one figure now.
        anchor_scores: each customer's anchor score now.
        days: days since each customer's latest event now; NaN (never one) counts as beyond.
        edge: the metric's reach, in days.

    Returns:
        The predictions the correction starts from; `values` itself where too few customers are
        within reach to fit the relation, or none lies beyond it.
    """
    within = days <= edge  # NaN compares False: a customer without any event lies beyond
    if within.sum() < MIN_WITHIN or within.all():
        return values
    fit = IsotonicRegression(increasing="auto", out_of_bounds="clip")
    fit.fit(anchor_scores[within], values[within])
    return np.where(within, values, fit.predict(anchor_scores))
