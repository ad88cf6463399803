"""`mlflow server` on the tracking store that training wrote serves its runs, plots and champions."""

from __future__ import annotations

import contextlib
import datetime as dt
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.serving.server_process import free_port
from tests.training.conftest import churn_set, satisfaction_set, temporary_mlflow
from training.pipeline import HoldoutSpec, train_workspace
from training.tracking import MlflowConfig


@contextlib.contextmanager
def mlflow_server(config: MlflowConfig, log: Path) -> Iterator[str]:
    """The real `mlflow server` process on a free port over `config`'s store; yields its base URL."""
    port = free_port()
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        "--backend-store-uri",
        config.tracking_uri,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log.open("ab") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server, log)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert server.poll() is None, f"mlflow server exited:\n{log.read_text()[-3000:]}"
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        time.sleep(0.5)
    raise AssertionError(f"mlflow server did not become ready:\n{log.read_text()[-3000:]}")


def _get(base: str, endpoint: str, **params: Any) -> dict[str, Any]:
    response = httpx.get(f"{base}/api/2.0/mlflow/{endpoint}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.fixture(scope="module")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowConfig:
    """A tracking store after one small training of both models."""
    folder = tmp_path_factory.mktemp("mlflow-store")
    config = temporary_mlflow(folder)
    holdout = HoldoutSpec(holdout_from=dt.date(2024, 10, 1))
    train_workspace(satisfaction_set(1500), churn_set(1500), holdout, config)
    return config


def test_mlflow_server_shows_runs_plots_and_both_champions(
    trained_store: MlflowConfig, tmp_path: Path
) -> None:
    # given a store that one training run of each model wrote, when `mlflow server` serves it
    with mlflow_server(trained_store, tmp_path / "mlflow-server.log") as base:
        experiment = _get(base, "experiments/get-by-name", experiment_name=trained_store.experiment)
        experiment_id = experiment["experiment"]["experiment_id"]
        runs = httpx.post(
            f"{base}/api/2.0/mlflow/runs/search", json={"experiment_ids": [experiment_id]}, timeout=30
        ).json()["runs"]
        # then both runs are listed with their metrics
        assert {r["info"]["run_name"].split("-")[0] for r in runs} == {"churn", "satisfaction"}
        churn_run = next(r for r in runs if r["info"]["run_name"].startswith("churn"))
        assert "auc" in {m["key"] for m in churn_run["data"]["metrics"]}
        # and the report's plots and page are artifacts the server can list and send
        run_id = churn_run["info"]["run_id"]
        listed = _get(base, "artifacts/list", run_id=run_id, path="report")["files"]
        names = {Path(f["path"]).name for f in listed}
        assert "report.html" in names and "churn_roc.png" in names
        png = httpx.get(
            f"{base}/get-artifact", params={"path": "report/churn_roc.png", "run_uuid": run_id}, timeout=30
        )
        assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
        # and both registered models carry the @champion alias
        for kind in ("satisfaction", "churn"):
            name = trained_store.model_name(kind)
            model = _get(base, "registered-models/get", name=name)["registered_model"]
            assert {a["alias"] for a in model["aliases"]} == {trained_store.serving_alias}
            version = _get(base, "registered-models/alias", name=name, alias=trained_store.serving_alias)
            assert version["model_version"]["version"] == "1"
