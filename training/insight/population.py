"""The whole base's satisfaction three ways, over every customer and within each segment.

Design: the model-based figure is the mean of the predictions *now*. Each answer of the window is
set against the prediction made at its own moment, from the features known just before it (as the
model was trained), so that no prediction reads the answer it is judged by; the response propensity
reads the features at the window's *start* and the window's events, never the answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from features.contract import MetricScale
from training.insight.anchor import anchored, choose_anchor
from training.insight.estimates import Estimate, Floats, estimate
from training.insight.figures import Figure, supported_figures
from training.insight.propensity import CLIP_LOW, design_matrix, response_propensity
from training.insight.reach import reach, reach_edge

EVENT_DAYS = "event_days"
ASSUMPTIONS = {
    "respondents": "the customers who answered in the window are like those who did not; "
    "surveys' own response bias makes this rarely true",
    "model": "the models' predicted answers are right on average for every customer, including "
    "kinds of customer who seldom answer and so were seldom trained on",
    "corrected": "given the features known at the window's start and how many events of each kind "
    "(deliveries, tickets, calls ...) the window brought them, whether a customer answers does not "
    "depend on what they would answer (no unobserved reason links the two); every customer had a chance "
    "to answer (propensities are clipped at {clip}); the models' error for a customer at the moment "
    "they answered is their error for that customer at the window's end (the response table shows "
    "how many days after an event the answers came and how much of the base is further past its "
    "latest event now); beyond a metric's reach (further past an event than 95% of its answers "
    "came) its prediction is read off a metric whose answers reach at least twice as far, through the two "
    "models' relation among the customers within reach (`beyond_reach_read_from`), so the figure "
    "rests there on that relation holding far from an event as near one; the interval covers "
    "sampling noise only, not a breach of these",
}


@dataclass(frozen=True)
class Population:
    """Every customer of the base, one row each and in the same order in every frame.

    Attributes:
        current: scores now (the model-based figure).
        features: features at the window's start and the window's event counts (what the response
            propensity reads; `exposure.window_exposure`).
        feature_columns: the feature columns of `features`.
        answers: `customer_id`, `metric`, `score` of the window's answers (latest per customer and
            metric wins), each with the score columns predicted at its moment (what it corrects).
        groups: segment-like columns to break the figures down by.
        event_days: days since each customer's latest event now (`reach`); the answers then hold
            theirs at each answer's moment in an `event_days` column. None: not measured.
    """

    customer_id: pd.Series
    current: pd.DataFrame
    features: pd.DataFrame
    feature_columns: Sequence[str]
    answers: pd.DataFrame
    groups: pd.DataFrame
    event_days: NDArray[np.float64] | None = None


def answers_of(population: Population, metric: str, column: str = "score") -> np.ndarray:
    """Each customer's latest answer of `metric` in the window (or `column` of its row); NaN where none."""
    rows = population.answers[population.answers["metric"] == metric]
    latest = rows.drop_duplicates("customer_id", keep="last").set_index("customer_id")[column]
    return population.customer_id.map(latest).to_numpy(dtype=float)


def predicted_at_answers(population: Population, metric: str) -> pd.DataFrame:
    """The scores predicted at the moment of each customer's latest `metric` answer; NaN rows where none."""
    rows = population.answers[population.answers["metric"] == metric]
    latest = rows.drop_duplicates("customer_id", keep="last").set_index("customer_id")
    columns = [c for c in population.current.columns if c in latest.columns]
    return latest[columns].reindex(population.customer_id).reset_index(drop=True)


def population_figures(
    population: Population, scales: Mapping[str, MetricScale], clip: float = CLIP_LOW
) -> dict[str, object]:
    """Every supported figure over the whole base and per group level, with the assumptions behind them."""
    metrics = set(population.answers["metric"].unique())
    figures = supported_figures(scales, population.current, metrics)
    whole: dict[str, object] = {}
    by: dict[str, list[dict[str, object]]] = {c: [] for c in population.groups.columns}
    response: dict[str, object] = {}
    metric_names = sorted({f.metric for f in figures})
    # encoded once: the encoding does not depend on who answered, only each metric's fit does
    design = design_matrix(population.features, population.feature_columns) if metric_names else None
    edges = _edges(population)
    counts = _answer_counts(population)
    for metric in metric_names:
        answers = answers_of(population, metric)
        answered = ~np.isnan(answers)
        propensity = response_propensity(
            population.features, population.feature_columns, answered, clip, design
        )
        anchor = choose_anchor(metric, edges, counts, population.current)
        response[metric] = _response(population, metric, answered, propensity, clip, anchor)
        for figure in (f for f in figures if f.metric == metric):
            current, predicted, given = figure_values(figure, population, answers)
            outcome = _outcome(population, current, edges, metric, anchor)
            values = (current, predicted, given, outcome)
            whole[figure.name] = estimate(current, predicted, given, propensity, outcome).as_dict()
            for column in population.groups.columns:
                _add_levels(by[column], figure.name, population.groups[column], values, propensity)
    return {
        **whole,
        "by": by,
        "response": response,
        "assumptions": {k: v.format(clip=clip) for k, v in ASSUMPTIONS.items()},
    }


def _response(
    population: Population,
    metric: str,
    answered: NDArray[np.bool_],
    propensity: Floats,
    clip: float,
    anchor: str | None,
) -> dict[str, object]:
    """Who answered `metric`, whose chance was clipped, its reach, and the metric it is read off if any."""
    return {
        "rate": round(float(answered.mean()), 4),
        "clipped_share": round(float((propensity <= clip).mean()), 4),
        **_reach(population, metric),
        **({"beyond_reach_read_from": anchor} if anchor else {}),
    }


def _reach(population: Population, metric: str) -> dict[str, float | None]:
    """`reach.reach` of one metric's answers, where the population measured event recency."""
    if population.event_days is None or EVENT_DAYS not in population.answers.columns:
        return {}
    return reach(answers_of(population, metric, EVENT_DAYS), population.event_days)


def _edges(population: Population) -> dict[str, float | None]:
    """Answered metric -> how many days past an event 95% of its answers came; empty where not measured."""
    if population.event_days is None or EVENT_DAYS not in population.answers.columns:
        return {}
    metrics = sorted(population.answers["metric"].unique())
    return {m: reach_edge(answers_of(population, m, EVENT_DAYS)) for m in metrics}


def _answer_counts(population: Population) -> dict[str, int]:
    """Metric -> how many answers it has in the window."""
    return {str(m): int(n) for m, n in population.answers["metric"].value_counts().items()}


def _outcome(
    population: Population,
    current: Floats,
    edges: Mapping[str, float | None],
    metric: str,
    anchor: str | None,
) -> Floats:
    """The predictions the correction starts from: `current`, read off `anchor` beyond the metric's reach."""
    edge = edges.get(metric)
    if anchor is None or edge is None or population.event_days is None:
        return current
    scores = population.current[f"{anchor}_score"].to_numpy(dtype=float)
    return anchored(current, scores, population.event_days, edge)


def starting_predictions(population: Population, metric: str, current: Floats) -> Floats:
    """The predictions now that the correction of a `metric` figure starts from, as `population_figures`'.

    `current` itself, or read off a metric reaching much further beyond `metric`'s reach (`anchor`).
    """
    edges = _edges(population)
    counts = _answer_counts(population)
    return _outcome(
        population, current, edges, metric, choose_anchor(metric, edges, counts, population.current)
    )


def figure_values(
    figure: Figure, population: Population, answers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(predictions now, predictions at the answers' moments, answers) of one figure, by customer."""
    answered = ~np.isnan(answers)
    values = np.full(len(answers), np.nan)
    values[answered] = figure.answer(answers[answered])
    at_answers = figure.prediction(predicted_at_answers(population, figure.metric))
    return figure.prediction(population.current), at_answers, values


def _add_levels(
    rows: list[dict[str, object]],
    name: str,
    groups: pd.Series,
    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    propensity: np.ndarray,
) -> None:
    """Add one figure's estimate to each level's row (rows are created on the first figure)."""
    levels = sorted(groups.dropna().astype(str).unique())
    labels = groups.astype("string").fillna("").to_numpy()
    for level in levels:
        row = next((r for r in rows if r["level"] == level), None)
        if row is None:
            row = {"level": level, "customers": int((labels == level).sum())}
            rows.append(row)
        inside = labels == level
        current, predicted, answers, outcome = (v[inside] for v in values)
        part: Estimate = estimate(current, predicted, answers, propensity[inside], outcome)
        row[name] = part.as_dict()
