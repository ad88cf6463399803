"""Fixtures of the service tests: one small trained company, keys per role, a rules file."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from starlette.testclient import TestClient

from models.mlflow_config import MlflowConfig
from serving.keys import KeyStore, Role
from serving.state import open_database
from tests.serving.databases import own_database, unique_name

RULES = """\
rules:
  - name: late-delivery-alert
    when: features.deliveries_late_count_30d >= 1 and churn.probability > 0
    cooldown_days: 7
    actions:
      - notify: {{team: retention, url: "{hook}"}}
      - worklist: {{team: retention, priority: 90}}
      - flag: late-delivery
"""


def copy_workspace(trained: tuple[Path, MlflowConfig], target: Path, hook: str) -> Path:
    """A fresh copy of the trained workspace (no service state) with a rules file notifying `hook`."""
    workspace = shutil.copytree(trained[0], target, ignore=shutil.ignore_patterns("_service"))
    (workspace / "rules.yml").write_text(RULES.format(hook=hook), encoding="utf-8")
    return Path(workspace)


def create_keys(workspace: Path, state: Mapping[str, str] | None = None) -> dict[Role, str]:
    """One key per role, in the workspace's state database (`state`: CX_DATABASE_URL when on Postgres)."""
    with environment(dict(state or {})):
        db = open_database(workspace)
    try:
        store = KeyStore(db)
        return {role: store.create(role, f"test-{role.value}") for role in Role}
    finally:
        db.close()


@contextmanager
def state_store(kind: str) -> Iterator[dict[str, str]]:
    """The variables that put a service's state on `kind`: SQLite in the workspace, or a Postgres database of its own."""
    if kind == "sqlite":
        yield {}
        return
    with own_database() as url:
        yield {"CX_DATABASE_URL": f"{url}?application_name={unique_name('cxservice')}"}


def bearer(key: str) -> dict[str, Any]:
    """The header that presents `key`."""
    return {"Authorization": f"Bearer {key}"}


def service_environment(workspace: Path, config: MlflowConfig) -> dict[str, Any]:
    """Variables a service process needs to serve `workspace` (fast outbox retries for tests)."""
    return {
        "CX_WORKSPACE": str(workspace),
        "MLFLOW_TRACKING_URI": config.tracking_uri,
        "CX_MLFLOW_CONFIG": str(workspace / "no-mlflow.yml"),
        "CX_OUTBOX_BACKOFF_S": "0.05",
        "CX_OUTBOX_BACKOFF_MAX_S": "0.5",
        # at 0.5 s between tries the default 12 would give up after ~6 s, less than a busy machine
        # takes to restart a killed server: the fault test would see dead letters, not durability
        "CX_OUTBOX_MAX_ATTEMPTS": "1000",
        "BENTOML_DO_NOT_TRACK": "true",
    }


@contextmanager
def environment(variables: Mapping[str, str]) -> Iterator[None]:
    """Set variables for the block, restoring the old values after."""
    old = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def late_delivery(customer_id: str, as_of: pd.Timestamp, order_id: str) -> dict[str, Any]:
    """A delivery promised 4 days before `as_of` and delivered an hour before it."""
    return {
        "customer_id": customer_id,
        "order_id": order_id,
        "ordered_at": (as_of - pd.Timedelta(days=7)).isoformat(),
        "promised_at": (as_of - pd.Timedelta(days=4)).isoformat(),
        "delivered_at": (as_of - pd.Timedelta(hours=1)).isoformat(),
        "amount": 180.0,
    }


def angry_call(customer_id: str, as_of: pd.Timestamp, call_id: str) -> dict[str, Any]:
    """A long call after a long wait, with a negative transcript."""
    return {
        "customer_id": customer_id,
        "call_id": call_id,
        "started_at": (as_of - pd.Timedelta(minutes=30)).isoformat(),
        "duration_s": 900.0,
        "wait_s": 1500.0,
        "transcript": "My order came four days late again. This is unacceptable, I want to cancel.",
    }


@contextmanager
def in_process(variables: Mapping[str, str], timeout_s: float = 120) -> Iterator[TestClient]:
    """The service in this process under `variables`, once ready; BentoML's metrics forgotten around it."""
    forget_request_metrics()  # another service built in this process before left its own registered
    with environment(variables):
        from serving.service import CxService

        try:
            with TestClient(CxService.to_asgi(), raise_server_exceptions=False) as client:  # type: ignore[attr-defined]
                deadline = time.monotonic() + timeout_s
                while (answer := client.get("/readyz")).status_code != 200:
                    assert time.monotonic() < deadline, f"the service did not become ready: {answer.text}"
                    time.sleep(0.2)
                yield client
        finally:
            forget_request_metrics()


def forget_request_metrics() -> None:
    """Unregister BentoML's request metrics from Prometheus's registry of this process.

    BentoML registers them there when a service's app starts: a second service built in the same
    process (another workspace served in-process) would register them again and fail to start.
    """
    from prometheus_client import REGISTRY

    for collector, names in list(REGISTRY._collector_to_names.items()):
        if any(name.startswith("bentoml_") for name in names):
            REGISTRY.unregister(collector)
