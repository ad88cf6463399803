"""Start the real service: the BentoML HTTP server with the `CxService` class, for one workspace.

One server per state database: each keeps its answers cached in memory, so a second server on the
same state would serve scores that the first one's events made stale. `check_servable` takes a lock
that says so (a file lock beside the SQLite database, a Postgres advisory lock) and keeps it until
the process ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Any

from features.online_db import StoreUnavailable, connect
from models.mlflow_config import load_mlflow_config
from serving.outbox import load_delivery_policy
from serving.scorer import champion_versions
from serving.settings import service_environment
from serving.state import URL_VARIABLE, database_url

SERVICE = "serving.service:CxService"
# one thread per model call: requests already run side by side, and OpenMP spinning on a busy
# 2-core machine stalls single-row predictions
QUIET_ENVIRONMENT = {"BENTOML_DO_NOT_TRACK": "true", "OMP_NUM_THREADS": "1"}
# a tracking server that is down is reported in seconds, not after MLflow's minutes of retries
MLFLOW_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
_ADVISORY_KEY = 0x43585F5345525645  # "CX_SERVE": the Postgres advisory lock of the one server
_HELD: list[Any] = []  # the locks this process holds, kept open until it exits


class AlreadyServed(ValueError):
    """Another `cxpredict serve` holds the workspace's state database."""


def check_servable(workspace: Path, mlflow_file: Path) -> dict[str, str]:
    """The champion versions the service would load, once this process holds the state database.

    Raises:
        ValueError: when the workspace is not a folder, the outbox settings are inconsistent, or
            another server holds the state database (`AlreadyServed`).
        LookupError: when no model has a champion yet, or the registry cannot be reached.
    """
    if not workspace.is_dir():
        raise ValueError(f"{workspace} is not a workspace folder")
    load_delivery_policy(os.environ)
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
    """Take the one-server lock of the workspace's state database for the rest of this process.

    Raises:
        AlreadyServed: when another process holds it.
    """
    url = database_url(workspace)
    if url.startswith(("postgresql://", "postgres://")):
        try:
            db = connect(url)
            held = bool(db.scalar("SELECT pg_try_advisory_lock(?)", (_ADVISORY_KEY,)))
            db.commit()  # the lock belongs to the session, not the transaction: it stays
        except StoreUnavailable as exc:
            raise ValueError(f"{URL_VARIABLE}: {exc}") from exc
        if not held:
            db.close()
            raise AlreadyServed(
                f"another `cxpredict serve` already uses the state database of {URL_VARIABLE}: "
                "run one server per state database (a second one would serve stale cached scores)"
            )
        _HELD.append(db)
        return
    lock = Path(url).with_name(Path(url).name + ".serve.lock").open("a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise AlreadyServed(
            f"another `cxpredict serve` is already serving {workspace}: stop it first "
            "(a second server on the same state would serve stale cached scores)"
        ) from None
    _HELD.append(lock)


def serve(workspace: Path, mlflow_file: Path, *, host: str = "127.0.0.1", port: int = 3000) -> None:
    """Serve `workspace` until interrupted (the models load in the worker; /readyz says when)."""
    import bentoml

    for name, value in (QUIET_ENVIRONMENT | MLFLOW_RETRIES).items():
        os.environ.setdefault(name, value)
    os.environ.update(service_environment(workspace, mlflow_file))
    bentoml.serve(SERVICE, host=host, port=port, working_dir=os.getcwd(), blocking=True)
