"""Training sets to fitted predictors: the churn model, and one satisfaction model per metric."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from features.contract import MetricScale
from models.boosting import DEFAULT_PARAMS, BoosterParams
from models.predictor import Predictor
from models.satisfaction import MetricModel, NpsClassifier
from models.tabular import ChurnModel, RiskClassifier
from training.datasets import CUSTOMER_COLUMN, METRIC_COLUMN, TrainingSet

log = logging.getLogger(__name__)
# below this many answers a metric's three time slices are too thin to fit and calibrate
MIN_ANSWERS = 100
# the features of the customer's past answers (`surveys_nps_last` ...), left out of `experience`
PAST_ANSWERS = "surveys_"
# `experience` refitted on complementary halves of the customers this many times: three pairs give
# an interval of five degrees of freedom for two more fits' time (each on half the rows)
HALF_PAIRS = 3
# ... and only when each half holds this many NPS answers: with fewer, the intervals are wider than
# most drivers' worth (3,000 customers, about 3,000 answers a half: late parcels ±2 NPS points), so
# they would tell nothing apart and the fits would only cost time
HALF_LEAST = 2_000


@dataclass(frozen=True)
class FitOptions:
    """How models are fitted.

    Attributes:
        monotone: feature -> +1 (never lowers risk) or -1 (never raises it), for both models.
        top_reasons: reasons kept per direction for each prediction.
    """

    seed: int = 0
    params: BoosterParams = DEFAULT_PARAMS
    monotone: Mapping[str, int] = field(default_factory=dict)
    top_reasons: int = 3


def fit_churn(ts: TrainingSet, options: FitOptions) -> Predictor:
    """The churn predictor fitted on every row of `ts` (label: churned within the horizon, 0/1).

    The booster settings are `options.params` chosen for the set's size (`BoosterParams.for_rows`).
    """
    params = options.params.for_rows(len(ts))
    model = ChurnModel(params, dict(options.monotone) or None, random_state=options.seed)
    model.fit(ts.X, ts.y.astype(int), ts.times)
    return Predictor("churn", ts.feature_set, dict(ts.descriptions), churn=model, top=options.top_reasons)


def fit_satisfaction(ts: TrainingSet, scales: Mapping[str, MetricScale], options: FitOptions) -> Predictor:
    """One model per survey metric with enough answers; metrics too thin to fit are logged and left out.

    Each metric's booster settings are `options.params` chosen for its number of answers
    (`BoosterParams.for_rows`).

    Raises:
        KeyError: for a metric without a known scale.
        ValueError: when no metric could be fitted.
    """
    predictor = Predictor("satisfaction", ts.feature_set, dict(ts.descriptions), top=options.top_reasons)
    for metric, rows in ts.frame.groupby(METRIC_COLUMN, sort=True, observed=True):
        name = str(metric)
        if name not in scales:
            raise KeyError(f"survey metric {name!r} has no scale; declare it under `metrics:` in cx.yml")
        if len(rows) < MIN_ANSWERS:
            log.warning("metric %s: %d answers, fewer than %d; not trained", name, len(rows), MIN_ANSWERS)
            continue
        params = options.params.for_rows(len(rows))
        model = MetricModel(scales[name], params, dict(options.monotone) or None, options.seed)
        try:
            predictor.metrics[name] = model.fit(rows[list(ts.features)], rows[ts.label], rows[ts.time_column])
        except ValueError as exc:  # a time slice without both outcomes cannot be calibrated
            log.warning("metric %s: not trained: %s", name, exc)
    if not predictor.metrics:
        raise ValueError(f"no survey metric of {ts.feature_set!r} has enough answers to train on")
    nps = predictor.metrics.get("nps")
    if nps is not None and nps.is_nps:
        predictor.experience = fit_experience(ts, options)
        if predictor.experience is not None:
            predictor.experience_halves = fit_halves(ts, options)
    return predictor


def fit_experience(ts: TrainingSet, options: FitOptions) -> NpsClassifier | None:
    """NPS classes from the experiences alone: the features without the customer's past answers.

    The what-ifs read it (`Predictor.experience`). On the generated company (20,000 customers,
    seed 0) the full model credits past answers with most of the late parcels' hurt: undoing every
    late parcel moved its predicted NPS +2.7 against the truth's +6.2 (`nps_if_removed`); this one's +5.8.
    None when no feature is left or the answers cannot be fitted (said in the log).
    """
    rows, features = _experience_rows(ts)
    return _fit_nps(ts, rows, features, options) if features else None


def fit_halves(
    ts: TrainingSet, options: FitOptions, pairs: int = HALF_PAIRS, least: int = HALF_LEAST
) -> list[NpsClassifier]:
    """`fit_experience`'s model on complementary halves of the customers, `pairs` times (seeded).

    A customer's answers stay together, so a half reads as another company's worth of customers half
    the size (`training.insight.spread`). Empty when a half would hold fewer than `least` NPS answers
    (at least `MIN_ANSWERS`) or cannot be fitted.
    """
    rows, features = _experience_rows(ts)
    if len(rows) < 2 * max(least, MIN_ANSWERS):
        return []
    halves: list[NpsClassifier] = []
    for inside in customer_halves(rows[CUSTOMER_COLUMN], pairs, options.seed):
        for part in (rows[inside], rows[~inside]):
            model = _fit_nps(ts, part, features, options) if len(part) >= MIN_ANSWERS else None
            if model is None:
                return []
            halves.append(model)
    return halves


def customer_halves(customers: pd.Series, pairs: int, seed: int) -> list[NDArray[np.bool_]]:
    """Per pair, which rows fall in its first half: a seeded half of the customers, all their rows."""
    unique = customers.unique()
    rng = np.random.default_rng(seed)
    return [customers.isin(rng.permutation(unique)[: len(unique) // 2]).to_numpy() for _ in range(pairs)]


def _experience_rows(ts: TrainingSet) -> tuple[pd.DataFrame, list[str]]:
    """The NPS answers of `ts`, and its features less the customers' past answers."""
    rows = ts.frame[ts.frame[METRIC_COLUMN].astype(str) == "nps"]
    return rows, [f for f in ts.features if not f.startswith(PAST_ANSWERS)]


def _fit_nps(
    ts: TrainingSet, rows: pd.DataFrame, features: list[str], options: FitOptions
) -> NpsClassifier | None:
    """NPS classes of `rows` of `ts` from `features`; None (logged) when they cannot be fitted."""
    model = NpsClassifier(options.params.for_rows(len(rows)), options.seed)
    try:
        return model.fit(rows[features], rows[ts.label], rows[ts.time_column])
    except ValueError as exc:
        log.warning("nps without past answers: not trained: %s", exc)
        return None


def answers_per_metric(ts: TrainingSet, predictor: Predictor) -> dict[str, int]:
    """Training rows of each metric the predictor holds."""
    counts = ts.frame[METRIC_COLUMN].astype(str).value_counts()
    return {m: int(counts.get(m, 0)) for m in predictor.metrics}


def importance(model: RiskClassifier) -> pd.Series:
    """Total split gain per feature of a risk model's trees."""
    gains = np.asarray(model.booster_.feature_importance(importance_type="gain"), dtype=float)
    return pd.Series(gains, index=list(model.schema_.features))
