from __future__ import annotations

from pathlib import Path

import pytest

from tests.models.synthetic import DESCRIPTIONS, FEATURES, churn_frame, satisfaction_frame
from training.datasets import TrainingSet
from training.tracking import MlflowConfig


def temporary_mlflow(folder: Path, **changes: object) -> MlflowConfig:
    """A tracking store and artifact root of their own, inside `folder`."""
    return MlflowConfig.model_validate(
        {
            "tracking_uri": f"sqlite:///{folder}/mlflow.db",
            "artifact_location": str(folder / "artifacts"),
            **changes,
        }
    )


@pytest.fixture
def mlflow_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MlflowConfig:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return temporary_mlflow(tmp_path)


def churn_set(rows: int = 2000, seed: int = 0) -> TrainingSet:
    return TrainingSet(churn_frame(rows, seed), FEATURES, "churned", "cutoff", DESCRIPTIONS, "churn_v1")


def satisfaction_set(rows: int = 2000, seed: int = 0) -> TrainingSet:
    return TrainingSet(
        satisfaction_frame(rows, seed), FEATURES, "score", "responded_at", DESCRIPTIONS, "satisfaction_v1"
    )
