"""A service with `CX_MODEL_POLL_S` follows the @champion alias: a promotion is served with no reload call."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from mlflow import MlflowClient

from models.mlflow_config import MlflowConfig
from serving.runtime import Runtime
from serving.settings import ServiceSettings, load_settings


def test_a_service_polling_the_registry_serves_a_moved_champion_without_a_reload_call(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given a service's runtime on a registry of its own (the shared one stays as it was), polling every 0.2 s
    shutil.copy(trained[1].tracking_uri.removeprefix("sqlite:///"), tmp_path / "mlflow.db")
    config = trained[1].model_copy(update={"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    workspace = Path(shutil.copytree(trained[0], tmp_path / "ws", ignore=shutil.ignore_patterns("_service")))
    runtime = Runtime(ServiceSettings(workspace, config, model_poll_s=0.2))
    try:
        runtime.start()
        assert _versions(runtime)["cx-churn"] == "1"
        # when @champion moves to a new version in the registry
        registry = MlflowClient(config.tracking_uri)
        current = registry.get_model_version_by_alias("cx-churn", "champion")
        new = registry.create_model_version("cx-churn", str(current.source), current.run_id)
        registry.set_registered_model_alias("cx-churn", "champion", new.version)
        # then the service answers with it on its own
        deadline = time.monotonic() + 60
        while _versions(runtime)["cx-churn"] != str(new.version):
            assert time.monotonic() < deadline, "the moved champion was never served"
            time.sleep(0.2)
    finally:
        runtime.stop()


def _versions(runtime: Runtime) -> dict[str, str]:
    body = runtime.customer_json("C0000002")
    assert body is not None
    return dict(json.loads(body)["model_versions"])


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_a_poll_interval_that_is_not_seconds_is_refused_naming_the_variable(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(
        ValueError, match=f"CX_MODEL_POLL_S must be a number of seconds, 0 or more, got '{value}'"
    ):
        load_settings({"CX_WORKSPACE": str(tmp_path), "CX_MODEL_POLL_S": value})
