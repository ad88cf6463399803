"""Champions trained on another workspace's features are refused with the reason, never served blind."""

from __future__ import annotations

import shutil
from pathlib import Path

from models.mlflow_config import MlflowConfig
from serving.runtime import Runtime
from serving.settings import ServiceSettings


def test_champions_whose_features_the_workspace_lacks_keep_the_service_not_ready_saying_why(
    trained: tuple[Path, MlflowConfig], synthetic_store: MlflowConfig, tmp_path: Path
) -> None:
    # given champions trained on another company's features (late_deliveries_30d, plan, ...)
    other = synthetic_store
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
