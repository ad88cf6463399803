"""The served company on a state database that fails for real: sessions terminated, Postgres stopped and
started, a read-only SQLite file. Readiness says so, writes answer 503 with the reason, the service
comes back by itself, and every event it acknowledged is stored.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from features.config import load_config
from features.online import OnlineStore
from features.online_db import connect
from features.validation import load_workspace
from models.mlflow_config import MlflowConfig
from serving.actions import ActionCenter
from serving.keys import Role
from serving.state import database_url
from tests.serving.databases import private_cluster, stored_orders, terminate, unique_name
from tests.serving.receiver import Receiver, serving, wait_for
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import bearer, copy_workspace, create_keys, late_delivery

pytestmark = pytest.mark.slow


class Client:
    """The served company as a test sees it."""

    def __init__(self, base: str, keys: dict[Role, str]) -> None:
        self.http, self.keys, self.acknowledged = httpx.Client(base_url=base, timeout=30), keys, []

    def ready(self) -> bool:
        return self.http.get("/readyz").status_code == 200

    def customer(self, customer_id: str) -> httpx.Response:
        return self.http.get(f"/customers/{customer_id}", headers=bearer(self.keys[Role.AGENT]))

    def post_delivery(self, customer_id: str, order_id: str) -> httpx.Response:
        as_of = pd.Timestamp("2026-06-20T00:00:00Z")
        events = {"deliveries": [late_delivery(customer_id, as_of, order_id)]}
        posted = self.http.post("/events", json=events, headers=bearer(self.keys[Role.INGEST]))
        if posted.status_code == 200:
            self.acknowledged.append(order_id)
        return posted


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def test_postgres_terminated_stopped_and_started_under_a_running_service(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, receiver: Receiver
) -> None:
    log, port, name = tmp_path / "server.log", free_port(), unique_name("cxservice")
    with private_cluster(free_port()) as cluster:
        state = {"CX_DATABASE_URL": f"{cluster.server}?application_name={name}"}
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        base = f"http://127.0.0.1:{port}"
        client = Client(base, create_keys(workspace, state))
        server = start_server(workspace, trained[1], port, log, state)
        try:
            wait_ready(base, server, log)
            assert client.post_delivery("C0000011", "PG-1").status_code == 200
            # every session of the service is terminated: reads go on at once on new sessions
            assert terminate(cluster.server, name) >= 3
            assert client.customer("C0000014").status_code == 200  # not cached: read from the store
            wait_for(lambda: client.post_delivery("C0000011", "PG-2").status_code == 200, 30, "a write again")
            wait_for(client.ready, 30, "/readyz after the terminate")
            # Postgres stops: not ready, writes refused with the reason, reads of cached answers go on
            cluster.stop()
            wait_for(lambda: not client.ready(), 30, "/readyz to turn false")
            refused = client.post_delivery("C0000012", "PG-3")
            assert refused.status_code == 503 and "unreachable" in refused.json()["detail"], refused.text
            # Postgres is back: ready again by itself, writes stored, rules act
            cluster.start()
            wait_for(client.ready, 60, "/readyz to turn true again")
            posted = client.post_delivery("C0000012", "PG-4")
            assert posted.status_code == 200, posted.text
            notify = next(a for a in posted.json()["customers"][0]["actions"] if a["kind"] == "notify")
            wait_for(lambda: notify["idempotency_key"] in receiver.accepted_keys(), 30, "the webhook")
            assert set(client.acknowledged) <= stored_orders(cluster.server + "?application_name=check")
        finally:
            stop_server(server)
    assert "Traceback" not in log.read_text()


def materialise(workspace: Path) -> None:
    """The state a first start leaves (online store, actions tables), written here, then closed."""
    loaded = load_workspace(workspace, load_config(workspace))
    url = database_url(workspace)
    store = OnlineStore.open(url)
    store.materialise(loaded.tables, loaded.config)
    store.close()
    center = ActionCenter.open(connect(url), workspace / "rules.yml")
    center.db.close()


def chattr(flag: str, path: Path) -> None:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this file system cannot make a file read-only for root: {done.stderr.strip()}")


def test_a_read_only_sqlite_state_is_not_ready_refuses_writes_with_the_reason_and_recovers(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, receiver: Receiver
) -> None:
    log, port = tmp_path / "server.log", free_port()
    workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
    client = Client(f"http://127.0.0.1:{port}", create_keys(workspace))
    materialise(workspace)
    state_file = workspace / "_service" / "cx.db"
    chattr("+i", state_file)
    server = start_server(workspace, trained[1], port, log)
    try:
        wait_for(lambda: server.poll() is None and _answers(client), 180, "the models to load")
        wait_for(lambda: not client.ready(), 30, "/readyz to say the state is read-only")
        refused = client.post_delivery("C0000013", "RO-1")
        assert refused.status_code == 503 and "read-only" in refused.json()["detail"], refused.text
        chattr("-i", state_file)
        wait_for(client.ready, 60, "/readyz to turn true once writable")
        assert client.post_delivery("C0000013", "RO-2").status_code == 200
    finally:
        chattr("-i", state_file)
        stop_server(server)
    text = log.read_text()
    assert text.count("outbox cx_outbox paused") == 1 and "outbox pass failed" not in text, text[-3000:]
    assert stored_orders(str(state_file)) >= {"RO-2"} and "RO-1" not in stored_orders(str(state_file))


def _answers(client: Client) -> bool:
    try:
        return client.customer("C0000013").status_code == 200
    except httpx.TransportError:
        return False
