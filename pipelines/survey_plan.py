"""`cxpredict survey-plan`: whom to invite next, from the workspace and the satisfaction @champion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.config import WorkspaceConfig
from features.problems import DataProblem
from features.training_sets import build_scoring_set, default_as_of
from pipelines.insight import WINDOW_DAYS, active_customers, segment_columns
from pipelines.scoring import score_features
from training.insight.survey_plan import PlanRules, draw_plan, uncertainty, under_sampled
from training.tracking import MlflowConfig


def survey_plan(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    rules: PlanRules,
    as_of: dt.datetime | None = None,
) -> pd.DataFrame:
    """The plan: `customer_id`, `inclusion_probability`, `weight`, `reason`, `invite_on`, segment.

    Raises:
        DataProblem: without surveys, or when the fatigue rule leaves no one to invite.
    """
    if "surveys" not in tables:
        raise DataProblem("a survey plan needs a surveys table to know who answered when, and there is none")
    moment = default_as_of(tables) if as_of is None else pd.Timestamp(as_of)
    features = build_scoring_set(tables, config, moment)
    ids = active_customers(tables, moment, set(features["customer_id"]))
    features = features.set_index("customer_id").loc[ids].reset_index()
    scores = score_features(features, mlflow_config, ("satisfaction",))
    last = tables["surveys"].groupby("customer_id")["responded_at"].max().reindex(ids)
    eligible = ~(last >= moment - pd.Timedelta(days=rules.min_days_since_answer)).to_numpy()
    if not eligible.any():
        raise DataProblem(
            f"every customer answered within {rules.min_days_since_answer} days: no one to invite"
        )
    customers = tables["customers"].set_index("customer_id").loc[ids]
    groups = segment_columns(customers)
    weights = uncertainty(scores)
    if groups:
        recent = (last >= moment - pd.Timedelta(days=WINDOW_DAYS)).to_numpy()
        weights = weights * under_sampled(customers[groups[0]].reset_index(drop=True), recent)
    plan = draw_plan(pd.Series(ids), weights, eligible, rules)
    first_day = moment.normalize() + pd.Timedelta(days=1)
    plan["invite_on"] = (first_day + pd.to_timedelta(plan.pop("day"), unit="D")).dt.date
    if groups:
        plan[groups[0]] = customers[groups[0]].reindex(plan["customer_id"]).to_numpy()
    return plan


def plan_lines(plan: pd.DataFrame, rules: PlanRules) -> list[str]:
    """A few lines on the plan: size, audit part, days, weights."""
    audit = int((plan["reason"] == "audit").sum())
    days = plan["invite_on"].nunique()
    return [
        f"{len(plan):,} invitations (budget {rules.budget:,}): {audit:,} audit, "
        f"{len(plan) - audit:,} targeted, "
        f"over {days} day(s) at most {rules.per_day:,} a day",
        f"weights 1/π from {plan['weight'].min():.2f} to {plan['weight'].max():.2f}; "
        f"mean inclusion probability {np.mean(plan['inclusion_probability']):.3f}",
    ]
