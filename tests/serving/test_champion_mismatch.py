"""Champions trained on another workspace's features are refused with the reason, never served blind."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from models.mlflow_config import MlflowConfig
from serving.runtime import Runtime
from serving.settings import ServiceSettings
from tests.training.conftest import churn_set, satisfaction_set, temporary_mlflow
from training.pipeline import HoldoutSpec, train_workspace


def test_champions_whose_features_the_workspace_lacks_keep_the_service_not_ready_saying_why(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given champions trained on another company's features (late_deliveries_30d, plan, ...)
    other = temporary_mlflow(tmp_path / "other")
    train_workspace(
        satisfaction_set(600), churn_set(600), HoldoutSpec(holdout_from=dt.date(2024, 10, 1)), other
    )
    workspace = Path(shutil.copytree(trained[0], tmp_path / "ws", ignore=shutil.ignore_patterns("_service")))
    runtime = Runtime(ServiceSettings(workspace, other))
    try:
        runtime.start()
        # then the service does not become ready, and says which features are missing and what to do
        assert not runtime.ready.is_set()
        [problem] = runtime.problems()
        assert "feature(s) this workspace does not have" in problem and "late_deliveries_30d" in problem
        assert "cxpredict train" in problem
    finally:
        runtime.stop()


def test_champions_trained_on_the_workspace_pass_the_same_check(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    workspace = Path(shutil.copytree(trained[0], tmp_path / "ws", ignore=shutil.ignore_patterns("_service")))
    runtime = Runtime(ServiceSettings(workspace, trained[1]))
    try:
        runtime.start()
        assert runtime.ready.is_set() and runtime.problems() == [], runtime.error
    finally:
        runtime.stop()
