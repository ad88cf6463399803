"""The whole base's satisfaction from a workspace and its @champion models: the `report` figures.

Wiring only: which customers form the base, which answers fall in the window, scoring at the
window's start and now; the estimates themselves live in `training.insight`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.config import WorkspaceConfig
from features.problems import DataProblem
from features.training_sets import build_scoring_set, default_as_of
from models.predictor import REASONS_SUFFIX
from pipelines.scoring import score_features
from pipelines.what_if import customer_value, what_if
from training.insight.calibration import calibration_curves
from training.insight.drivers import TOP_DRIVERS, population_drivers
from training.insight.population import Population, population_figures
from training.insight.worklist import worklist_head
from training.tracking import MlflowConfig

WINDOW_DAYS = 90
MAX_LEVELS = 20  # a customers column with more levels is an attribute, not a segment
KEYS = ("customer_id", "as_of")
THEME_MARK = "theme_"  # the text themes' features: `theme_<slug>` counts of negative texts
ALL = 10**9


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
    population = build_population(tables, config, mlflow_config, start, moment)
    figures = population_figures(population, config.scales)
    if not any(key for key in figures if key not in ("by", "response", "assumptions")):
        raise DataProblem("the satisfaction @champion predicts none of the answered metrics; retrain it")
    ids = population.customer_id.tolist()
    window = {"start": start.isoformat(), "end": moment.isoformat(), "days": window_days}
    return {
        "as_of": moment.isoformat(),
        "window": window,
        "customers": len(population.customer_id),
        **figures,
        "drivers": drivers(population),
        "themes": drivers(population, THEME_MARK),
        **what_if(tables, config, mlflow_config, moment, population),
        "calibration": calibration_curves(population, config.scales),
        "worklist": worklist_head(
            population.customer_id, population.current, customer_value(tables["customers"], ids)[1]
        ),
    }


def drivers(population: Population, mark: str = "") -> list[dict[str, Any]]:
    """The features that raise each model's risk most across the base (see `population_drivers`).

    Args:
        population: the scored base.
        mark: keep only features whose name holds this (`theme_`: the text themes), each model's top ones.
    """
    rows: list[dict[str, Any]] = []
    for column in population.current.columns:
        if column.endswith(REASONS_SUFFIX):
            model = column.removesuffix(REASONS_SUFFIX)
            found = population_drivers(population.current[column], population.groups, model, ALL)
            rows += [r for r in found if mark in str(r["feature"])][:TOP_DRIVERS]
    return rows


def build_population(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    start: pd.Timestamp,
    moment: pd.Timestamp,
) -> Population:
    """Customers who existed at `start` and had not churned by `moment`, scored at both moments."""
    before = build_scoring_set(tables, config, start)
    answers = _answers(tables["surveys"], start, moment)
    if answers.empty:
        raise DataProblem(
            f"no survey answer falls between {start:%Y-%m-%d} and {moment:%Y-%m-%d}: "
            "there are no answers to correct the predictions with; choose another --as-of or --window-days"
        )
    if before.empty:
        raise DataProblem(_nobody_before(tables["customers"], start, moment))
    now = build_scoring_set(tables, config, moment)
    ids = active_customers(tables, moment, set(before["customer_id"]) & set(now["customer_id"]))
    before, now = (_rows(frame, ids) for frame in (before, now))
    baseline = score_features(before, mlflow_config, ("satisfaction",))
    current = score_features(now, mlflow_config)  # churn too: its reasons are drivers
    columns = [c for c in before.columns if c not in KEYS]
    customers = tables["customers"].set_index("customer_id")
    groups = customers.loc[ids, segment_columns(customers)].reset_index(drop=True)
    return Population(pd.Series(ids), current, baseline, before, columns, answers, groups)


def _answers(surveys: pd.DataFrame, start: pd.Timestamp, moment: pd.Timestamp) -> pd.DataFrame:
    inside = (surveys["responded_at"] >= start) & (surveys["responded_at"] < moment)
    ordered = surveys.loc[inside].sort_values("responded_at")
    return ordered[["customer_id", "metric", "score"]].reset_index(drop=True)


def active_customers(tables: Mapping[str, pd.DataFrame], moment: pd.Timestamp, ids: set[str]) -> list[str]:
    """`ids` less those who churned before `moment`, sorted."""
    churn = tables.get("churn")
    if churn is not None:
        ids -= set(churn.loc[churn["churned_at"] < moment, "customer_id"])
    return sorted(ids)


def _rows(frame: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    return frame.set_index("customer_id").loc[ids].reset_index()


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
