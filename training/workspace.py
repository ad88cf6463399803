"""From a validated workspace's tables to trained models: the feature engine's sets, then training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from features.config import WorkspaceConfig
from features.training_sets import TrainingFrame, build_churn_set, build_satisfaction_set
from training.datasets import TrainingSet
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec, train_workspace
from training.tracking import MlflowConfig


def as_training_set(built: TrainingFrame) -> TrainingSet:
    """The training set of a feature-engine result (the catalogue stays with the feature engine)."""
    return TrainingSet(
        built.frame, built.features, built.label, built.time_column, built.descriptions, built.feature_set
    )


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
    satisfaction = as_training_set(build_satisfaction_set(tables, config)) if "surveys" in tables else None
    churn = as_training_set(build_churn_set(tables, config)) if "churn" in tables else None
    return train_workspace(satisfaction, churn, holdout, mlflow_config, config.scales, options)
