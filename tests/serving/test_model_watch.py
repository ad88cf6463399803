"""A service with `CX_MODEL_POLL_S` follows the @champion alias: a promotion is served with no reload call."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mlflow import MlflowClient
from starlette.testclient import TestClient

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from serving.settings import load_settings
from tests.serving.service_env import bearer, copy_workspace, create_keys, environment, service_environment


def test_a_service_polling_the_registry_serves_a_moved_champion_without_a_reload_call(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given a service on a registry of its own (the shared one stays as it was), polling every 0.2 s
    shutil.copy(trained[1].tracking_uri.removeprefix("sqlite:///"), tmp_path / "mlflow.db")
    config = trained[1].model_copy(update={"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    workspace = copy_workspace((trained[0], config), tmp_path / "ws", "http://127.0.0.1:9/unused")
    agent = create_keys(workspace)[Role.AGENT]
    variables = service_environment(workspace, config) | {
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "CX_MODEL_POLL_S": "0.2",
    }
    with environment(variables):
        from serving.service import CxService

        with TestClient(CxService.to_asgi(), raise_server_exceptions=False) as client:  # type: ignore[attr-defined]
            assert _served(client, agent, lambda versions: versions.get("cx-churn") == "1")
            # when @champion moves to a new version in the registry
            registry = MlflowClient(config.tracking_uri)
            current = registry.get_model_version_by_alias("cx-churn", "champion")
            new = registry.create_model_version("cx-churn", str(current.source), current.run_id)
            registry.set_registered_model_alias("cx-churn", "champion", new.version)
            # then the service serves it on its own
            assert _served(client, agent, lambda versions: versions.get("cx-churn") == str(new.version))


def _served(
    client: TestClient, key: str, wanted: Callable[[dict[str, str]], bool], timeout_s: float = 60
) -> bool:
    """Whether an answer names versions that satisfy `wanted` before the timeout (503s while loading)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get("/customers/C0000002", headers=bearer(key))
        if response.status_code == 200 and wanted(response.json()["model_versions"]):
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("value", ["-1", "soon", "inf"])
def test_a_poll_interval_that_is_not_seconds_is_refused_naming_the_variable(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(
        ValueError, match=f"CX_MODEL_POLL_S must be a number of seconds, 0 or more, got '{value}'"
    ):
        load_settings({"CX_WORKSPACE": str(tmp_path), "CX_MODEL_POLL_S": value})
