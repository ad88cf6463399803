"""`train_workspace`: fit -> evaluate -> report -> log -> register -> gate, for each model given.

The wiring only: every step lives in its own module, and this one names what flows between them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd

from features.contract import DEFAULT_METRICS, MetricScale
from features.problems import DataProblem
from models.predictor import Predictor
from training.datasets import (
    DEFAULT_HOLDOUT_SHARE,
    METRIC_COLUMN,
    TrainingSet,
    split_by_customers,
    split_by_time,
    split_latest,
)
from training.evaluate import Metrics, evaluate_churn, evaluate_satisfaction, headline, within_chance
from training.fitting import FitOptions, answers_per_metric, fit_churn, fit_satisfaction, importance
from training.monitoring.profile import build_profile, holdout_calibration, holdout_curves, reference_rows
from training.registry import Decision, Score, champion_version, decide_promotion, promote_model, record_gate
from training.report import ReportSection, write_report
from training.tracking import MlflowConfig, activate, log_training_run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HoldoutSpec:
    """Which examples judge the model.

    Attributes:
        holdout_from: examples from this date on are the holdout.
        customers: else, this fraction of customers (seeded by `seed`) is held out.
        seed: seeds the customer draw.
        refit_all: with neither of the above, refit the registered model on every example; off,
            the model registered is the one the holdout judged (half the training time).
    When neither is given the latest 20% of the time range is held out, and the registered
    model is then refitted on every example unless `refit_all` is off.
    """

    holdout_from: dt.date | None = None
    customers: float | None = None
    seed: int = 0
    refit_all: bool = True

    @property
    def refit(self) -> bool:
        """Whether the registered model is refitted on all examples after evaluation."""
        return self.holdout_from is None and self.customers is None and self.refit_all

    def split(self, ts: TrainingSet) -> tuple[TrainingSet, TrainingSet]:
        """(train, holdout) of `ts` under this spec."""
        if self.holdout_from is not None:
            return split_by_time(ts, self.holdout_from)
        if self.customers is not None:
            return split_by_customers(ts, self.customers, self.seed)
        return split_latest(ts)

    def as_params(self) -> dict[str, Any]:
        """The spec as run parameters."""
        return {f"holdout.{k}": v for k, v in dataclasses.asdict(self).items()} | {"refit": self.refit}


def train_workspace(
    satisfaction: TrainingSet | None = None,
    churn: TrainingSet | None = None,
    holdout: HoldoutSpec = HoldoutSpec(),
    config: MlflowConfig | None = None,
    scales: Mapping[str, MetricScale] = DEFAULT_METRICS,
    options: FitOptions | None = None,
) -> dict[str, Any]:
    """Train, evaluate, log, register and gate each model whose training set is given.

    Returns:
        Holdout metrics in the `--metrics-out` contract's shape: `{"satisfaction": {metric: ...},
        "churn": ...}`, a model that was not trained being absent.
    """
    config, options = config or MlflowConfig(), options or FitOptions()
    activate(config)
    result: dict[str, Any] = {}
    for kind, ts in (("satisfaction", satisfaction), ("churn", churn)):
        if ts is not None:
            result[kind] = _train_one(kind, ts, holdout, config, scales, options)
    return result


def _fit(kind: str, ts: TrainingSet, scales: Mapping[str, MetricScale], options: FitOptions) -> Predictor:
    if kind == "churn" and ts.y.nunique() < 2:
        raise DataProblem(
            "churn needs customers who churned and customers who stayed among its training examples"
        )
    try:
        return fit_churn(ts, options) if kind == "churn" else fit_satisfaction(ts, scales, options)
    except ValueError as exc:  # what the fit found the data lacks, said in the fit's words
        raise DataProblem(f"{kind} cannot be trained on this data: {exc}") from exc


def _split_and_fit(
    kind: str,
    ts: TrainingSet,
    holdout: HoldoutSpec,
    scales: Mapping[str, MetricScale],
    options: FitOptions,
) -> tuple[TrainingSet, TrainingSet, Predictor]:
    """(train, holdout, the model fitted on train); the purge is given up when it leaves too little to fit.

    A small company's few churn cutoffs lose most of their churners to the purge; the model is then
    fitted on the purged examples too, and the warning says its holdout figures may flatter it.
    """
    try:
        train, test = split_for_training(kind, ts, holdout)
        return train, test, _fit(kind, train, scales, options)
    except DataProblem as exc:  # the purge left no training example, or too few churners to fit
        if not ts.label_days:
            raise
        log.warning(
            "%s: %s once the examples whose %d-day label reaches into the holdout are purged; fitting "
            "on them too, so the holdout's figures may promise more than later months give",
            kind,
            str(exc).removeprefix(f"{kind} cannot be trained on this data: "),
            ts.label_days,
        )
    train, test = split_for_training(kind, dataclasses.replace(ts, label_days=0), holdout)
    return train, test, _fit(kind, train, scales, options)


def split_for_training(kind: str, ts: TrainingSet, holdout: HoldoutSpec) -> tuple[TrainingSet, TrainingSet]:
    """(train, holdout) of `ts`; a `DataProblem` naming what the data lacks when either is empty.

    Without a holdout option, examples that all share one moment (a snapshot, undated data) are
    judged on a seeded fifth of the customers, since no time split exists.
    """
    if not len(ts):
        raise DataProblem(f"{kind} has no training examples in this workspace")
    times = pd.to_datetime(ts.times)
    by_customers = holdout.customers is not None
    if holdout.holdout_from is None and not by_customers and times.nunique() < 2:
        log.warning("%s: every example has one moment; holding out a fifth of customers instead", kind)
        holdout, by_customers = dataclasses.replace(holdout, customers=DEFAULT_HOLDOUT_SHARE), True
    train, test = holdout.split(ts)
    if len(train) and len(test):
        return train, test
    if by_customers:
        raise DataProblem(f"{kind} needs examples of two or more customers for a customer holdout")
    if times.nunique() < 2:
        raise DataProblem(
            f"{kind} needs examples at two or more distinct times for a time split; use --holdout-customers"
        )
    purged = f" (those whose {ts.label_days}-day label reaches the holdout purged)" if ts.label_days else ""
    raise DataProblem(
        f"{kind}: the time split leaves {len(train)} training examples{purged} and {len(test)} holdout; "
        f"choose --holdout-from between {times.min():%Y-%m-%d} and {times.max():%Y-%m-%d} "
        "or use --holdout-customers"
    )


def _train_one(
    kind: str,
    ts: TrainingSet,
    holdout: HoldoutSpec,
    config: MlflowConfig,
    scales: Mapping[str, MetricScale],
    options: FitOptions,
) -> Metrics:
    train, test, predictor = _split_and_fit(kind, ts, holdout, scales, options)
    predictions = predictor.predict(test.X)
    metrics = _evaluate(predictor, predictions, train, test, scales)
    sections = _sections(predictor, predictions, test, metrics)
    data = {"train": train, "holdout": test}
    if holdout.refit:
        predictor, data["fitted_on"] = _refit(kind, ts, predictor, scales, options), ts
    purged = len(train) + len(test) < len(ts)  # the time split left out the examples reaching into it
    params = {
        **holdout.as_params(),
        "purged_label_days": ts.label_days if purged else 0,
        "seed": options.seed,
    }
    params |= _prefixed(options)
    with tempfile.TemporaryDirectory() as folder:
        report = write_report(sections, Path(folder), f"{kind} model on holdout")
        reference = _reference_profile(predictor, data.get("fitted_on", train)) | {
            "calibration": holdout_calibration(sections),
            "holdout_curves": holdout_curves(sections),
        }
        info = log_training_run(config, predictor, data, params, metrics, report.parent, reference)
    chance = [f"{s.name}: {why}" for s in sections if (why := within_chance(s.labels, s.probabilities))]
    _gate(config, kind, str(info.registered_model_version), metrics, test, scales, chance)
    return metrics


def _refit(
    kind: str, ts: TrainingSet, judged: Predictor, scales: Mapping[str, MetricScale], options: FitOptions
) -> Predictor:
    """The model fitted again on every example, for the survey metrics the holdout judged.

    A metric too thin to fit on the training part has no holdout figures; every example might be
    enough to fit it, but nothing would say how good it is, so it is left out here too (and its
    "not trained" warning is not repeated).
    """
    if kind == "satisfaction":
        ts = ts.subset(ts.frame[METRIC_COLUMN].astype(str).isin(list(judged.metrics)))
    return _fit(kind, ts, scales, options)


def _reference_profile(predictor: Predictor, ts: TrainingSet) -> dict[str, Any]:
    """The profile of the latest training rows, each feature weighted by its share of the gain."""
    models = (
        [predictor.churn]
        if predictor.churn is not None
        else [m.negative_ for m in predictor.metrics.values()]
    )
    gains = [importance(model) for model in models]
    shares = sum((g / (g.sum() or 1.0) for g in gains), start=pd.Series(0.0, index=list(predictor.features)))
    rows = reference_rows(ts.frame, ts.time_column)
    profile = build_profile(rows, predictor.features, {str(k): float(v) for k, v in shares.items()})
    # where the reference ends: monitoring compares the text themes of the span up to it with today's
    return profile | {"until": pd.to_datetime(rows[ts.time_column], utc=True).max().isoformat()}


def _evaluate(
    predictor: Predictor,
    predictions: pd.DataFrame,
    train: TrainingSet,
    test: TrainingSet,
    scales: Mapping[str, MetricScale],
) -> Metrics:
    if predictor.kind == "churn":
        return evaluate_churn(predictions, test, len(train))
    return evaluate_satisfaction(predictions, test, answers_per_metric(train, predictor), scales)


def _sections(
    predictor: Predictor, predictions: pd.DataFrame, test: TrainingSet, metrics: Metrics
) -> list[ReportSection]:
    if predictor.churn is not None:
        churned, p_churn = test.y.astype(int), predictions["churn_probability"]
        return [ReportSection("churn", churned, p_churn, importance(predictor.churn), metrics)]
    sections = []
    for name, model in predictor.metrics.items():
        rows = test.frame[METRIC_COLUMN] == name
        y = test.y[rows].map(model.scale.is_negative).astype(int)
        p = predictions.loc[rows, f"{name}_negative_probability"]
        sections.append(ReportSection(f"{name}_negative", y, p, importance(model.negative_), metrics[name]))
    return sections


def _gate(
    config: MlflowConfig,
    kind: str,
    version: str,
    metrics: Metrics,
    test: TrainingSet,
    scales: Mapping[str, MetricScale],
    chance: list[str],
) -> Decision:
    """Compare the new version with the champion on the same holdout; move the alias if it wins.

    A version whose holdout cannot tell a model of it from chance (`chance`, one line each) is never
    promoted by the gate, not even as the first version: it would serve noise as risk.
    """
    name, alias = config.model_name(kind), config.serving_alias
    champion = champion_version(name, alias)
    if chance:
        decision = Decision(
            False, "no better than chance: " + "; ".join(chance) + "; promote by hand if intended"
        )
    elif champion is None:
        decision = decide_promotion(Score(*headline(metrics, kind)), None, config.promotion)
    else:
        decision = _versus_champion(f"models:/{name}@{alias}", kind, metrics, test, scales, config)
    record_gate(name, version, decision)
    # a refusal for noise is said where the user sees it: `score` would next find no champion
    (log.warning if chance else log.info)("%s version %s: %s", name, version, decision.reason)
    if decision.promote:
        promote_model(name, version, f"gate: {decision.reason}", alias)
    return decision


def _versus_champion(
    uri: str,
    kind: str,
    metrics: Metrics,
    test: TrainingSet,
    scales: Mapping[str, MetricScale],
    config: MlflowConfig,
) -> Decision:
    try:
        predictions = mlflow.pyfunc.load_model(uri).predict(test.X)
    except Exception as exc:  # a champion on another feature set cannot score this holdout at all
        return Decision(False, f"champion cannot score this holdout ({exc}); promote by hand if intended")
    if kind == "churn":
        champion_metrics = evaluate_churn(predictions, test, 0)
        return decide_promotion(
            Score(*headline(metrics, kind)), Score(*headline(champion_metrics, kind)), config.promotion
        )
    common = {m: 0 for m in metrics if f"{m}_negative_probability" in predictions.columns}
    if not common:
        return Decision(False, "champion predicts none of these survey metrics; promote by hand if intended")
    champion_metrics = evaluate_satisfaction(predictions, test, common, scales)
    candidate = Score(*headline({m: metrics[m] for m in common}, kind))
    return decide_promotion(candidate, Score(*headline(champion_metrics, kind)), config.promotion)


def _prefixed(options: FitOptions) -> dict[str, Any]:
    params = {f"lgb.{k}": v for k, v in dataclasses.asdict(options.params).items()}
    return params | {"monotone": dict(options.monotone), "top_reasons": options.top_reasons}
