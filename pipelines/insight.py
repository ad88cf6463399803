"""The whole base's satisfaction from a workspace and its @champion models: the `report` figures.

Wiring only: which customers form the base, which answers fall in the window, scoring at the
window's start and now; the estimates themselves live in `training.insight`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from features.config import WorkspaceConfig
from features.problems import DataProblem
from features.training_sets import build_scoring_sets, default_as_of
from models.predictor import REASONS_SUFFIX
from pipelines.base_scores import score_base
from pipelines.scoring import Champions, load_champions, score_features
from pipelines.what_if import customer_value, what_if
from training.insight.calibration import calibration_curves
from training.insight.drivers import TOP_DRIVERS, Hits, drivers_of
from training.insight.exposure import exposure_tables, window_exposure
from training.insight.population import EVENT_DAYS, Population, population_figures
from training.insight.reach import latest_event_days
from training.insight.worklist import worklist_head, worklist_rows
from training.tracking import MlflowConfig

WINDOW_DAYS = 90
MAX_LEVELS = 20  # a customers column with more levels is an attribute, not a segment
KEYS = ("customer_id", "as_of")
THEME_MARK = "theme_"  # the text themes' features: `theme_<slug>` counts of negative texts
ALL = 10**9


@dataclass(frozen=True)
class ScoredPopulation:
    """The `Population`, with what the drivers, the what-ifs and the worklist read besides.

    Attributes:
        now: features now, one row per customer in the population's order.
        hits: model -> driver -> (rows, summed pushes) of the scores now (`score_base`).
    """

    population: Population
    now: pd.DataFrame
    hits: dict[str, Hits]


def whole_base(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    as_of: dt.datetime | None = None,
    window_days: int = WINDOW_DAYS,
) -> dict[str, Any]:
    """The `summary.json` figures: every supported figure three ways, whole base and per segment.

    Raises:
        DataProblem: without surveys, without answers in the window, or without a satisfaction model.
    """
    if "surveys" not in tables:
        raise DataProblem("the whole base's satisfaction needs a surveys table, and this workspace has none")
    moment = default_as_of(tables) if as_of is None else pd.Timestamp(as_of)
    start = moment - pd.Timedelta(days=window_days)
    champions = load_champions(mlflow_config)  # once: every pass below scores with the same models
    scored = build_population(tables, config, mlflow_config, start, moment, champions)
    population = scored.population
    figures = population_figures(population, config.scales)
    if not any(key for key in figures if key not in ("by", "response", "assumptions")):
        raise DataProblem("the satisfaction @champion predicts none of the answered metrics; retrain it")
    found = every_driver(scored.hits, population)
    window = {"start": start.isoformat(), "end": moment.isoformat(), "days": window_days}
    return {
        "as_of": moment.isoformat(),
        "window": window,
        "customers": len(population.customer_id),
        **figures,
        "drivers": drivers(found),
        "themes": drivers(found, THEME_MARK),
        **what_if(tables, config, mlflow_config, moment, population, champions, scored.now),
        "calibration": calibration_curves(population, config.scales),
        "worklist": worklist(tables, mlflow_config, scored, champions),
    }


def every_driver(hits: Mapping[str, Hits], population: Population) -> dict[str, list[dict[str, Any]]]:
    """Model -> every feature that raises its risk across the base, strongest first (`drivers_of`)."""
    n = len(population.customer_id)
    return {model: drivers_of(found, n, population.groups, model, ALL) for model, found in hits.items()}


def drivers(found: Mapping[str, list[dict[str, Any]]], mark: str = "") -> list[dict[str, Any]]:
    """Each model's top drivers of `every_driver`'s.

    Args:
        found: `every_driver`'s rows, computed once for the drivers and the themes.
        mark: keep only features whose name holds this (`theme_`: the text themes), each model's top ones.
    """
    rows: list[dict[str, Any]] = []
    for model_rows in found.values():
        rows += [r for r in model_rows if mark in str(r["feature"])][:TOP_DRIVERS]
    return rows


def worklist(
    tables: Mapping[str, pd.DataFrame],
    mlflow_config: MlflowConfig,
    scored: ScoredPopulation,
    champions: Champions,
) -> list[dict[str, object]]:
    """`worklist_head` of the base, the reasons written for the listed customers alone."""
    population = scored.population
    value = customer_value(tables["customers"], population.customer_id.tolist())[1]
    head = worklist_rows(population.current, value)
    if not len(head):
        return []
    explained = score_features(scored.now.iloc[head], mlflow_config, champions=champions)
    written = [c for c in explained.columns if c.endswith(REASONS_SUFFIX)]
    listed = population.current.iloc[head].reset_index(drop=True).assign(**explained[written])
    ids = population.customer_id.iloc[head].reset_index(drop=True)
    return worklist_head(ids, listed, None if value is None else value[head])


def build_population(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    start: pd.Timestamp,
    moment: pd.Timestamp,
    champions: Champions | None = None,
) -> ScoredPopulation:
    """Customers who existed at `start` and had not churned by `moment`, scored at both moments.

    Their features at both moments, and at each window answer's moment, come from one engine pass.
    Only the scores now carry reasons (they give the drivers), summed per driver as numbers; the
    start's features feed the response propensity, and the answers' the predictions they correct.
    """
    answers = _answers(tables["surveys"], start, moment)
    if answers.empty:
        raise DataProblem(
            f"no survey answer falls between {start:%Y-%m-%d} and {moment:%Y-%m-%d}: "
            "there are no answers to correct the predictions with; choose another --as-of or --window-days"
        )
    customers = tables["customers"]
    existed = customers["customer_id"]
    if "created_at" in customers:
        existed = existed[~(customers["created_at"] >= start)]  # as `build_scoring_set` keeps them
    if existed.empty:
        raise DataProblem(_nobody_before(customers, start, moment))
    ids = active_customers(tables, moment, set(existed))
    answers = answers[answers["customer_id"].isin(set(ids))].reset_index(drop=True)
    if answers.empty:
        raise DataProblem(
            "none of the window's answers came from a customer of the base (one who existed at its start "
            "and had not churned by its end); choose another --as-of or --window-days"
        )
    # each answer against the satisfaction model's prediction at its own moment (`estimates.aipw`);
    # a delivery's NPS and CSAT answers share theirs, built and scored once
    keys = answers[["customer_id", "responded_at"]]
    point = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    points = keys.drop_duplicates().rename(columns={"responded_at": "as_of"})
    before, now, at_points = build_scoring_sets(tables, config, ids, (start, moment), points=points)
    champions = load_champions(mlflow_config) if champions is None else champions
    predicted = score_features(at_points, mlflow_config, ("satisfaction",), False, champions)
    answers = pd.concat(
        [answers, predicted.drop(columns="customer_id").iloc[point].reset_index(drop=True)], axis=1
    )
    events = list(exposure_tables(tables))  # how far the base now lies from the answers' moments
    answers[EVENT_DAYS] = latest_event_days(at_points, events)[point]
    current = score_base(now, champions)  # churn too: its reasons are drivers
    # The propensity reads the start's features and the window's events (what invites a survey)
    exposure = window_exposure(tables, ids, start, moment)
    seen = pd.concat([before.reset_index(drop=True), exposure], axis=1)
    columns = [c for c in seen.columns if c not in KEYS]
    indexed = customers.set_index("customer_id")
    groups = indexed.loc[ids, segment_columns(indexed)].reset_index(drop=True)
    population = Population(
        pd.Series(ids), current.scores, seen, columns, answers, groups, latest_event_days(now, events)
    )
    return ScoredPopulation(population, now, current.hits)


def _answers(surveys: pd.DataFrame, start: pd.Timestamp, moment: pd.Timestamp) -> pd.DataFrame:
    """The window's answers, the latest of each customer and metric only (the one the figures read)."""
    inside = (surveys["responded_at"] >= start) & (surveys["responded_at"] < moment)
    ordered = surveys.loc[inside].sort_values("responded_at", kind="stable")
    latest = ordered.drop_duplicates(["customer_id", "metric"], keep="last")
    return latest[["customer_id", "metric", "responded_at", "score"]].reset_index(drop=True)


def active_customers(tables: Mapping[str, pd.DataFrame], moment: pd.Timestamp, ids: set[str]) -> list[str]:
    """`ids` less those who churned before `moment`, sorted."""
    churn = tables.get("churn")
    if churn is not None:
        ids -= set(churn.loc[churn["churned_at"] < moment, "customer_id"])
    return sorted(ids)


def segment_columns(customers: pd.DataFrame) -> list[str]:
    """Text columns of `customers` with a few levels (segment, region, plan …)."""
    return [
        c
        for c in customers.columns
        if not pd.api.types.is_numeric_dtype(customers[c])
        and not pd.api.types.is_datetime64_any_dtype(customers[c])
        and 2 <= customers[c].nunique() <= MAX_LEVELS
    ]


def _nobody_before(customers: pd.DataFrame, start: pd.Timestamp, moment: pd.Timestamp) -> str:
    """Why no customer existed at the window's start, and what to change."""
    joined = customers["created_at"].min() if "created_at" in customers else None
    if joined is not None and joined >= moment - pd.Timedelta(days=1):
        return (
            f"every customer joined at the data's end ({joined:%Y-%m-%d}), as in an undated export: no one "
            "existed before the window to correct; give customers their real created_at or leave it out"
        )
    return f"no customer existed at the window's start {start:%Y-%m-%d}; shorten --window-days"
