"""MLflow settings from `mlflow.yml`: read by training, which logs models, and serving, which loads them.

They live in `models/` because both `training/` and `serving/` may import it, while `serving/`
may never import `training/`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import mlflow
import yaml
from pydantic import Field, model_validator

from features.config import Frozen

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# each training run's profile of its data (drift) and its holdout's calibration (the Models page)
REFERENCE_PROFILE = "reference/profile.json"


class RegisteredModels(Frozen):
    """Registry names of the two models."""

    satisfaction: str = "cx-satisfaction"
    churn: str = "cx-churn"


class PromotionRule(Frozen):
    """When a new version may take the serving alias from the champion on the same holdout."""

    min_auc_gain: Annotated[float, Field(ge=0)] = 0.002
    max_ece_increase: Annotated[float, Field(ge=0)] = 0.005


class MlflowConfig(Frozen):
    """The contents of `mlflow.yml`; every key has a default."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment: str = "cxpredict"
    registered_models: RegisteredModels = RegisteredModels()
    serving_alias: str = "champion"
    shadow_alias: str = "challenger"  # scored beside the champion on live traffic, never served
    promotion: PromotionRule = PromotionRule()
    artifact_location: str | None = None  # for a new experiment; None: the tracking server's default

    @model_validator(mode="after")
    def _aliases_differ(self) -> MlflowConfig:
        if self.shadow_alias == self.serving_alias:  # the champion would be shadowed by itself
            raise ValueError(f"shadow_alias must differ from serving_alias ({self.serving_alias!r})")
        return self

    def model_name(self, kind: str) -> str:
        """The registry name for `churn` or `satisfaction`."""
        return str(getattr(self.registered_models, kind))


def load_mlflow_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> MlflowConfig:
    """Read `mlflow.yml` (absent: defaults); `MLFLOW_TRACKING_URI` in `environ` wins over the file.

    Raises:
        pydantic.ValidationError: on an unknown key or a bad value.
    """
    data: dict[str, Any] = {}
    if path is not None and path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if environ.get("MLFLOW_TRACKING_URI"):
        data["tracking_uri"] = environ["MLFLOW_TRACKING_URI"]
    return MlflowConfig.model_validate(data)


def activate(config: MlflowConfig) -> None:
    """Point MLflow at the configured tracking URI and experiment (created when missing)."""
    mlflow.set_tracking_uri(config.tracking_uri)
    if mlflow.get_experiment_by_name(config.experiment) is None:
        mlflow.create_experiment(config.experiment, artifact_location=config.artifact_location)
    mlflow.set_experiment(config.experiment)
