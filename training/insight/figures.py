"""Which figures a workspace supports, and how each reads an answer and a customer's scores.

NPS is the net promoter score (−100..100): an answer counts +100 as a promoter, −100 as a
detractor, and a customer's prediction is 100 × (P(promoter) − P(detractor)). Every metric also
gives its mean score on its own scale and the share of answers on its negative side (in %), read
from `<metric>_score` and `<metric>_negative_probability` as `cxpredict score` writes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from features.contract import MetricScale

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Figure:
    """One population figure of one survey metric.

    Attributes:
        name: its key in the summary (`nps`, `csat_mean`, `ces_negative_share`, ...).
        metric: the survey metric whose answers it reads.
        answer: answers (scores) → the figure's per-answer values.
        prediction: a frame of scores → each customer's predicted value.
        needs: the score columns `prediction` reads.
    """

    name: str
    metric: str
    answer: Callable[[Floats], Floats]
    prediction: Callable[[pd.DataFrame], Floats]
    needs: tuple[str, ...]


def _column(name: str, factor: float = 1.0) -> Callable[[pd.DataFrame], Floats]:
    return lambda scores: factor * scores[name].to_numpy(dtype=float)


def _net(scores: pd.DataFrame) -> Floats:
    return 100.0 * (
        scores["nps_promoter"].to_numpy(dtype=float) - scores["nps_detractor"].to_numpy(dtype=float)
    )


def _net_answer(values: Floats) -> Floats:
    return 100.0 * ((values >= 9).astype(float) - (values <= 6).astype(float))


def metric_figures(scale: MetricScale) -> Iterator[Figure]:
    """The figures of one metric: NPS's net score first, then its mean and its negative share."""
    m = scale.name
    if m == "nps":
        yield Figure("nps", m, _net_answer, _net, ("nps_promoter", "nps_detractor"))
    yield Figure(f"{m}_mean", m, lambda v: v, _column(f"{m}_score"), (f"{m}_score",))

    def negative(values: Floats) -> Floats:
        return 100.0 * np.array([scale.is_negative(v) for v in values], dtype=float)

    column = f"{m}_negative_probability"
    yield Figure(f"{m}_negative_share", m, negative, _column(column, 100.0), (column,))


def supported_figures(
    scales: Mapping[str, MetricScale], scores: pd.DataFrame, metrics: set[str]
) -> list[Figure]:
    """Every figure of a metric that was answered and whose predictions the scores hold."""
    return [
        figure
        for name, scale in scales.items()
        if name in metrics
        for figure in metric_figures(scale)
        if all(column in scores.columns for column in figure.needs)
    ]
