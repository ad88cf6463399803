"""Registries of their own for tests that add versions or move aliases (the shared one stays as it was)."""

from __future__ import annotations

import shutil
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from models.mlflow_config import MlflowConfig


def own_registry(config: MlflowConfig, folder: Path, **promotion: float) -> MlflowConfig:
    """A copy of `config`'s SQLite registry in `folder`, with the promotion rule changed by `promotion`."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(config.tracking_uri.removeprefix("sqlite:///"), folder / "mlflow.db")
    rule = config.promotion.model_copy(update=promotion)
    return config.model_copy(update={"tracking_uri": f"sqlite:///{folder}/mlflow.db", "promotion": rule})


def second_version(config: MlflowConfig, name: str, alias: str = "champion") -> str:
    """A new version of `name` holding the model its `alias` points at: its number.

    MLflow resolves a `models:/m-…` source through the process-wide tracking URI, not the client's:
    it is pointed at `config`'s registry first, whatever another test left it on.
    """
    mlflow.set_tracking_uri(config.tracking_uri)
    registry = MlflowClient(config.tracking_uri)
    current = registry.get_model_version_by_alias(name, alias)
    return str(registry.create_model_version(name, str(current.source), current.run_id).version)
