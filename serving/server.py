"""Start the real service: the BentoML HTTP server with the `CxService` class, for one workspace.

Each process keeps answers cached in memory. On Postgres (`CX_DATABASE_URL`) any number of
processes may serve one state, as BentoML workers (`--workers N`, `CX_WORKERS`) or replicas: each
tells the others what it changed (`serving.changes`). A SQLite file is served by one process:
`check_servable` takes a file lock beside it, kept until the process ends, and a second server (or
more than one worker) is refused in one sentence.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from features.online_db import StoreUnavailable, connect
from models.mlflow_config import load_mlflow_config
from serving.outbox import load_delivery_policy
from serving.scorer import champion_versions
from serving.settings import service_environment
from serving.state import URL_VARIABLE, database_url

SERVICE = "serving.service:CxService"
OVERRIDES = "BENTOML_CONFIG_OVERRIDES"  # BentoML's JSON configuration overrides: the workers go there
# one thread per model call: requests already run side by side, and OpenMP spinning on a busy
# 2-core machine stalls single-row predictions
QUIET_ENVIRONMENT = {"BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}
# a tracking server that is down is reported in seconds, not after MLflow's minutes of retries
MLFLOW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
WORKERS_VARIABLE = "CX_WORKERS"
_HELD: list[Any] = []  # the locks this process holds, kept open until it exits


class AlreadyServed(ValueError):
    """Another `cxpredict serve` holds the workspace's state database."""


def check_servable(workspace: Path, mlflow_file: Path, workers: int = 1) -> dict[str, str]:
    """The champion versions the service would load, once this process may serve the state database.

    Raises:
        ValueError: when the workspace is not a folder, the outbox settings are inconsistent, more
            than one worker is asked of a SQLite state, or another server holds that SQLite file
            (`AlreadyServed`).
        LookupError: when no model has a champion yet, or the registry cannot be reached.
    """
    if not workspace.is_dir():
        raise ValueError(f"{workspace} is not a workspace folder")
    load_delivery_policy(os.environ)
    url = database_url(workspace)
    if workers > 1 and not url.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"{workers} workers need a Postgres state database ({URL_VARIABLE}): "
            f"the SQLite file of {workspace} is served by one process"
        )
    for name, value in MLFLOW_RETRIES.items():
        os.environ.setdefault(name, value)
    config = load_mlflow_config(mlflow_file)
    versions = champion_versions(config)
    if not versions:
        raise LookupError(
            f"no model has a @{config.serving_alias} in {config.tracking_uri}: "
            "run `cxpredict train WORKSPACE` first"
        )
    hold_state(workspace)
    return versions


def hold_state(workspace: Path) -> None:
    """Check that the state database can be reached; a SQLite file is locked for this process's life.

    Raises:
        ValueError: when Postgres cannot be reached.
        AlreadyServed: when another process serves the SQLite file.
    """
    url = database_url(workspace)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            connect(url).close()
        except StoreUnavailable as exc:
            raise ValueError(f"{URL_VARIABLE}: {exc}") from exc
        return
    lock = Path(url).with_name(Path(url).name + ".serve.lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise AlreadyServed(
            f"another `cxpredict serve` is already serving {workspace}: stop it first, or put the "
            f"state on Postgres ({URL_VARIABLE}) to run several"
        ) from None
    _HELD.append(lock)


def serve(
    workspace: Path, mlflow_file: Path, *, host: str = "127.0.0.1", port: int = 3000, workers: int = 1
) -> None:
    """Serve `workspace` with `workers` processes until interrupted (each loads the models; /readyz tells)."""
    import bentoml

    for name, value in (QUIET_ENVIRONMENT | MLFLOW_RETRIES).items():
        os.environ.setdefault(name, value)
    os.environ.update(service_environment(workspace, mlflow_file))
    os.environ[OVERRIDES] = json.dumps(with_workers(os.environ.get(OVERRIDES), workers))
    bentoml.serve(SERVICE, host=host, port=port, working_dir=os.getcwd(), blocking=True)


def with_workers(overrides: str | None, workers: int) -> dict[str, Any]:
    """BentoML's configuration overrides (`BENTOML_CONFIG_OVERRIDES`) with the service's worker count."""
    config: dict[str, Any] = json.loads(overrides) if overrides else {}
    config.setdefault("services", {}).setdefault("cxpredict", {})["workers"] = workers
    return config


def default_workers(environ: Mapping[str, str] = os.environ) -> int:
    """`CX_WORKERS`, else 1.

    Raises:
        ValueError: when it is not a whole number of 1 or more.
    """
    text = environ.get(WORKERS_VARIABLE, "1")
    if not text.strip().isdigit() or int(text) < 1:
        raise ValueError(f"{WORKERS_VARIABLE} must be a whole number of 1 or more, got {text!r}")
    return int(text)
