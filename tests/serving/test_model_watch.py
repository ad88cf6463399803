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
from tests.serving.databases import own_database
from tests.serving.registry import own_registry, second_version


def test_a_service_polling_the_registry_serves_a_moved_champion_without_a_reload_call(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given a service's runtime on a registry of its own (the shared one stays as it was), polling every 0.2 s
    config = own_registry(trained[1], tmp_path)
    workspace = Path(shutil.copytree(trained[0], tmp_path / "ws", ignore=shutil.ignore_patterns("_service")))
    runtime = Runtime(ServiceSettings(workspace, config, model_poll_s=0.2))
    try:
        runtime.start()
        assert _versions(runtime)["cx-churn"] == "1"
        # when @champion moves to a new version in the registry
        registry = MlflowClient(config.tracking_uri)
        new = second_version(config, "cx-churn")
        registry.set_registered_model_alias("cx-churn", "champion", new)
        # then the service answers with it on its own
        deadline = time.monotonic() + 60
        while _versions(runtime)["cx-churn"] != new:
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


def test_a_reload_in_one_process_reaches_the_others_on_the_same_postgres(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two processes' runtimes on one Postgres state, neither polling the registry
    config = own_registry(trained[1], tmp_path)
    workspace = Path(shutil.copytree(trained[0], tmp_path / "ws", ignore=shutil.ignore_patterns("_service")))
    with own_database() as url:
        monkeypatch.setenv("CX_DATABASE_URL", url)
        runtimes = [Runtime(ServiceSettings(workspace, config)) for _ in range(2)]
        try:
            for runtime in runtimes:
                runtime.start()
            assert [_versions(r)["cx-churn"] for r in runtimes] == ["1", "1"]
            # when @champion moves and only the first is told (`POST /admin/reload` lands on one worker)
            registry = MlflowClient(config.tracking_uri)
            new = second_version(config, "cx-churn")
            registry.set_registered_model_alias("cx-churn", "champion", new)
            assert runtimes[0].reload().changed
            # then the second serves it too, on its own
            deadline = time.monotonic() + 60
            while _versions(runtimes[1])["cx-churn"] != new:
                assert time.monotonic() < deadline, "the other process never reloaded"
                time.sleep(0.2)
        finally:
            for runtime in runtimes:
                runtime.stop()
