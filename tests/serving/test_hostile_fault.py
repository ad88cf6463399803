"""Fault: a burst of events for many customers with colliding keys, the server SIGKILLed mid-burst.

After a restart, every customer holds every event acknowledged to them, nothing refused to them,
and nothing of another customer's: a key is held by one customer at most. An event whose answer
the kill cut off may or may not be stored (the client cannot know), but only for its own customer.
"""

from __future__ import annotations

import itertools
import random
import signal
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
import pytest

from features.online import OnlineStore
from models.mlflow_config import MlflowConfig
from serving.keys import Role
from serving.state import database_url
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import (
    bearer,
    copy_workspace,
    create_keys,
    environment,
    late_delivery,
    state_store,
)

CUSTOMERS = [f"C00001{n:02d}" for n in range(12)]
SHARED_KEYS = [f"CLASH-{n}" for n in range(8)]  # every customer tries these: the first one keeps each


class Burst:
    """What each customer was told: acknowledged, refused, or no answer (cut off by the kill)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.acknowledged: dict[str, set[str]] = defaultdict(set)
        self.refused: dict[str, set[str]] = defaultdict(set)
        self.unanswered: dict[str, set[str]] = defaultdict(set)
        self.stop = threading.Event()

    def send(self, base: str, key: str, worker: int, as_of: pd.Timestamp) -> None:
        rng, counter = random.Random(worker), itertools.count()
        with httpx.Client(base_url=base, headers=bearer(key), timeout=30) as http:
            while not self.stop.is_set():
                customer = rng.choice(CUSTOMERS)
                order = rng.choice(SHARED_KEYS) if rng.random() < 0.4 else f"OWN-{worker}-{next(counter)}"
                body = {"deliveries": [late_delivery(customer, as_of, order)]}
                try:
                    status = http.post("/events", json=body).status_code
                except httpx.TransportError:
                    status = None
                with self.lock:
                    outcome = {200: self.acknowledged, 422: self.refused}.get(status, self.unanswered)  # type: ignore[arg-type]
                    outcome[customer].add(order)
                if status is None:
                    return

    def count(self) -> int:
        with self.lock:
            return sum(len(orders) for orders in self.acknowledged.values())


def _stored(url: str) -> dict[str, set[str]]:
    store = OnlineStore.open(url)
    try:
        sql = "SELECT customer_id, order_id FROM cx_src_deliveries WHERE order_id LIKE ? OR order_id LIKE ?"
        rows = store.db.query(sql, ("CLASH-%", "OWN-%"))
    finally:
        store.close()
    held: dict[str, set[str]] = defaultdict(set)
    for customer, order in rows:
        held[customer].add(order)
    return held


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_burst_with_colliding_keys_killed_mid_way_keeps_each_customer_exactly_its_own(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, kind: str
) -> None:
    log, burst = tmp_path / "server.log", Burst()
    with serving(Receiver()) as receiver, state_store(kind) as state:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        keys, port = create_keys(workspace, state), free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(workspace, trained[1], port, log, state)
        try:
            wait_ready(base, server, log)
            as_of = pd.Timestamp(
                httpx.get(
                    f"{base}/customers/{CUSTOMERS[0]}", headers=bearer(keys[Role.AGENT]), timeout=30
                ).json()["freshness"]["as_of"]
            )
            with ThreadPoolExecutor(6) as pool:
                for worker in range(6):
                    pool.submit(burst.send, base, keys[Role.INGEST], worker, as_of)
                deadline = time.monotonic() + 120
                while burst.count() < 60 and time.monotonic() < deadline:
                    time.sleep(0.05)
                stop_server(server, signal.SIGKILL)  # mid-burst: requests in flight lose their answers
                burst.stop.set()
            server = start_server(workspace, trained[1], port, log, state)
            wait_ready(base, server, log)
        finally:
            stop_server(server)
        with environment(state):
            held = _stored(database_url(workspace))
    assert burst.count() >= 60
    owners: dict[str, list[str]] = defaultdict(list)
    for customer, orders in held.items():
        for order in orders:
            owners[order].append(customer)
    assert {order: who for order, who in owners.items() if len(who) > 1} == {}  # no key held twice
    for customer in CUSTOMERS:
        mine = held.get(customer, set())
        assert burst.acknowledged[customer] <= mine, customer  # nothing acknowledged is lost
        assert mine <= burst.acknowledged[customer] | burst.unanswered[customer], (
            customer
        )  # nor taken from others
        assert not (mine & (burst.refused[customer] - burst.acknowledged[customer])), customer
