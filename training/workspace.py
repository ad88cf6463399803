"""From a validated workspace's tables to trained models: the feature engine's sets, then training."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.config import WorkspaceConfig
from features.harm import harm_directions, unheld
from features.problems import DataProblem
from features.training_sets import TrainingFrame, build_churn_set, build_satisfaction_set
from training.datasets import TrainingSet
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec, train_workspace
from training.tracking import MlflowConfig


def as_training_set(built: TrainingFrame, label_days: int = 0) -> TrainingSet:
    """The training set of a feature-engine result (the catalogue stays with the feature engine).

    Args:
        built: the feature engine's set.
        label_days: how far after its moment each label looks (churn's horizon), so that a time
            split purges the training examples whose label reaches into the holdout.
    """
    return TrainingSet(
        built.frame,
        built.features,
        built.label,
        built.time_column,
        built.descriptions,
        built.feature_set,
        label_days,
    )


def churn_training_set(built: TrainingFrame, horizon_days: int) -> TrainingSet:
    """The churn set as training reads it: without what no constraint holds (`features.harm.unheld`)."""
    whole = as_training_set(built, horizon_days)
    left_out = unheld(built.catalogue)
    return dataclasses.replace(whole, features=tuple(f for f in whole.features if f not in left_out))


def constrained(options: FitOptions | None, built: TrainingFrame) -> FitOptions:
    """`options` with each harmful feature of `built` held monotone: more of it never lowers risk.

    Directions the caller gives in `options.monotone` win over these defaults.
    """
    options = options or FitOptions()
    harmful = {f: d for f, d in harm_directions(built.catalogue).items() if f in built.features}
    return dataclasses.replace(options, monotone={**harmful, **options.monotone})


SOURCE_TABLE = {"satisfaction": "surveys", "churn": "churn"}


def train_from_tables(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    holdout: HoldoutSpec,
    options: FitOptions | None = None,
) -> dict[str, Any]:
    """Build the training sets a workspace allows (surveys -> satisfaction, churn -> churn) and train.

    Churn cutoffs and horizon come from `config.churn`. Returns the contract's metrics dict, where a
    model whose table is missing is absent.
    """
    sets = {
        kind: prepared(kind, tables, config, options)
        for kind, table in SOURCE_TABLE.items()
        if table in tables
    }
    # both sets come from the same catalogue, so either one's harmful features serve both
    options = next((fit_options for _, fit_options in sets.values()), options)
    training = {kind: ts for kind, (ts, _) in sets.items()}
    return train_workspace(
        training.get("satisfaction"), training.get("churn"), holdout, mlflow_config, config.scales, options
    )


def train_supported(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    holdout: HoldoutSpec,
    options: FitOptions | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Train every model the workspace supports; say in one sentence why each other one is not.

    Returns:
        The metrics of the models trained (as `train_from_tables`), and for each model not
        trained the sentence naming what the data lacks for it.
    """
    metrics: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for kind, table in SOURCE_TABLE.items():
        if table not in tables:
            skipped[kind] = f"{kind} needs a {table} table"
            continue
        try:
            metrics |= _train_kind(kind, tables, config, mlflow_config, holdout, options)
        except DataProblem as exc:
            skipped[kind] = str(exc)
    return metrics, skipped


def _train_kind(
    kind: str,
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    holdout: HoldoutSpec,
    options: FitOptions | None,
) -> dict[str, Any]:
    ts, fit_options = prepared(kind, tables, config, options)
    churn, satisfaction = (ts, None) if kind == "churn" else (None, ts)
    return train_workspace(satisfaction, churn, holdout, mlflow_config, config.scales, fit_options)


def prepared(
    kind: str,
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    options: FitOptions | None = None,
) -> tuple[TrainingSet, FitOptions]:
    """The training set of `kind` ("satisfaction" or "churn") and its fit options, as `train` fits them.

    Everything that fits a model outside `train` (a benchmark, a test's champion) starts here, so
    that it judges the model users get: harms held monotone, the churn set without `unheld`.
    """
    if kind == "churn":
        built = build_churn_set(tables, config)
        return churn_training_set(built, config.churn.horizon_days), constrained(options, built)
    built = build_satisfaction_set(tables, config)
    return as_training_set(built), constrained(options, built)
