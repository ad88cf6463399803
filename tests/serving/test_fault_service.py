"""Fault: the server is SIGKILLed while every webhook fails; after a restart nothing is lost or doubled.

On both state stores: the workspace's SQLite file and a Postgres database (`CX_DATABASE_URL`).
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd
import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.receiver import Receiver, serving, wait_for
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import (
    bearer,
    copy_workspace,
    create_keys,
    late_delivery,
    state_store,
)

CUSTOMERS = [f"C00000{n:02d}" for n in range(20, 26)]


def _delivered(base: str, keys: dict[Role, str]) -> int:
    metrics = httpx.get(f"{base}/metrics", headers=bearer(keys[Role.ADMIN]), timeout=30).text
    line = next(
        (x for x in metrics.splitlines() if x.startswith('cx_outbox_actions{status="delivered"}')), ""
    )
    return int(float(line.split()[-1])) if line else 0


def _queue_notifications(base: str, keys: dict[Role, str]) -> list[str]:
    """A late delivery for each customer; the idempotency keys of the notifications queued."""
    queued = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for n, customer in enumerate(CUSTOMERS):
            seen = http.get(f"/customers/{customer}", headers=bearer(keys[Role.AGENT])).json()
            as_of = pd.Timestamp(seen["freshness"]["as_of"])
            events = {"deliveries": [late_delivery(customer, as_of, f"FAULT-{n}")]}
            posted = http.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
            assert posted.status_code == 200, posted.text
            actions = posted.json()["customers"][0]["actions"]
            queued += [a["idempotency_key"] for a in actions if a["kind"] == "notify"]
    return queued


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_killed_server_delivers_every_queued_action_exactly_once_after_restart(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, kind: str
) -> None:
    log = tmp_path / "server.log"
    with serving(Receiver(failing=True)) as receiver, state_store(kind) as state:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        keys, port = create_keys(workspace, state), free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(workspace, trained[1], port, log, state)
        try:
            wait_ready(base, server, log)
            queued = _queue_notifications(base, keys)
            assert len(queued) == len(CUSTOMERS)
            deadline = time.monotonic() + 20
            while len({r.headers["Idempotency-Key"] for r in receiver.requests}) < len(queued):
                assert time.monotonic() < deadline, "not every delivery was tried"
                time.sleep(0.05)
        finally:
            stop_server(server, signal.SIGKILL)  # no shutdown hook runs: the outbox alone must hold
        assert receiver.accepted() == []
        receiver.failing = False
        server = start_server(workspace, trained[1], port, log, state)
        try:
            wait_ready(base, server, log)
            # a delivery recorded delivered is never sent again, and none is still being answered: once
            # the service's own figures say every one was delivered, no duplicate can still arrive
            wait_for(lambda: _delivered(base, keys) == len(queued) and receiver.idle(), 60, "every delivery")
        finally:
            stop_server(server)
    assert Counter(receiver.accepted_keys()) == dict.fromkeys(queued, 1)
