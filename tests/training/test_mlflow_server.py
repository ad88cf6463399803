"""`mlflow server` on the tracking store that training wrote serves its runs, plots and champions."""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from serving.scorer import RegistryUnavailable, champion_versions, load_champions
from tests.serving.server_process import free_port, stop_server
from tests.training.conftest import churn_set, satisfaction_set, temporary_mlflow
from training.pipeline import HoldoutSpec, train_workspace
from training.tracking import MlflowConfig


@contextlib.contextmanager
def mlflow_server(config: MlflowConfig, log: Path, artifacts: Path | None = None) -> Iterator[str]:
    """The real `mlflow server` process on a free port over `config`'s store; yields its base URL.

    With `artifacts`, the server stores (and proxies) the artifacts its clients log there.
    """
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
        *(["--artifacts-destination", str(artifacts)] if artifacts else []),
    ]
    with log.open("ab") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, server, log)
        yield base
    finally:
        # killed, not stopped: its graceful shutdown waits ~20 s on its job runner, and the test is over
        stop_server(server, signal.SIGKILL)


def _wait_ready(base: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 300) -> None:
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


def test_mlflow_server_shows_runs_plots_and_both_champions(
    synthetic_store: MlflowConfig, tmp_path: Path
) -> None:
    # given a store that one local training run of each model wrote, when `mlflow server` serves it
    with mlflow_server(synthetic_store, tmp_path / "mlflow-server.log") as base:
        experiment = _get(base, "experiments/get-by-name", experiment_name=synthetic_store.experiment)
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
            name = synthetic_store.model_name(kind)
            model = _get(base, "registered-models/get", name=name)["registered_model"]
            assert {a["alias"] for a in model["aliases"]} == {synthetic_store.serving_alias}
            version = _get(base, "registered-models/alias", name=name, alias=synthetic_store.serving_alias)
            assert version["model_version"]["version"] == "1"


def test_training_logs_and_registers_through_a_tracking_server_and_serving_reads_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = temporary_mlflow(tmp_path)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with mlflow_server(store, tmp_path / "mlflow-server.log", tmp_path / "served-artifacts") as base:
        # given a client that knows only the server's URL (artifacts go through the server too)
        remote = MlflowConfig(tracking_uri=base)
        holdout = HoldoutSpec(holdout_from=dt.date(2024, 10, 1))
        train_workspace(satisfaction_set(600), churn_set(600), holdout, remote)
        # then the runs, their models and both @champion aliases are in the server's store
        experiment = _get(base, "experiments/get-by-name", experiment_name=remote.experiment)
        assert experiment["experiment"]["artifact_location"].startswith("mlflow-artifacts:")
        assert champion_versions(remote) == {"cx-satisfaction": "1", "cx-churn": "1"}
        assert list((tmp_path / "served-artifacts").rglob("MLmodel"))  # written by the server, not the client
        # and serving loads the champions through the server
        assert load_champions(remote, horizon_days=90).versions == {"cx-satisfaction": "1", "cx-churn": "1"}
    # when the server is gone, serving says so rather than "nothing trained yet"
    with pytest.raises(RegistryUnavailable, match="cannot be reached"):
        champion_versions(remote)
