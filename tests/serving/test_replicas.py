"""Replicas of `cxpredict serve` on one Postgres: each reads what another accepted within a second, and
a replica killed mid-burst loses no acknowledged event or queued action, each delivered once.

Every replica caches answers in memory; without the change feed (`serving.changes`) the second
replica would serve its cached, stale answer for ever.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from features.online_db import connect
from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.databases import stored_orders
from tests.serving.receiver import Receiver, serving, wait_for
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import bearer, copy_workspace, create_keys, late_delivery, state_store

pytestmark = pytest.mark.serial  # wall-time bounds: run alone (`make test`)

# a claim outlives a killed replica by at most this lease; the timeout fits a busy machine
OUTBOX = {"CX_OUTBOX_LEASE_S": "4", "CX_OUTBOX_TIMEOUT_S": "2"}
BURST = 24


@dataclass
class Replicas:
    """Replicas on one state database, the keys, the webhook receiver, and how to start one more."""

    bases: list[str]
    keys: dict[Role, str]
    receiver: Receiver
    state: dict[str, str]
    start: Any
    started: list[Any] = field(default_factory=list)


@pytest.fixture(scope="module")
def replicas(
    trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    """Two replicas started together on an empty Postgres database (one of them materialises it).

    The second runs two workers: its reads land on either, and both must follow the first's changes.
    """
    tmp_path = tmp_path_factory.mktemp("replicas")
    with serving(Receiver()) as receiver, state_store("postgres") as state:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        keys, started = create_keys(workspace, state), []

        def start(name: str, workers: int = 1) -> tuple[str, Any, Path]:
            port, log = free_port(), tmp_path / f"{name}.log"
            environment = state | OUTBOX | {"CX_WORKERS": str(workers)}
            server = start_server(workspace, trained[1], port, log, environment)
            started.append(server)
            return f"http://127.0.0.1:{port}", server, log

        try:
            pair = [start("a"), start("b", workers=2)]
            for base, server, log in pair:
                wait_ready(base, server, log)
            yield Replicas([base for base, _, _ in pair], keys, receiver, state, start, started)
        finally:
            for server in started:
                stop_server(server)


def _scores(base: str, customer: str, keys: dict[Role, str]) -> dict[str, Any]:
    answer = httpx.get(f"{base}/customers/{customer}", headers=bearer(keys[Role.AGENT]), timeout=30)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _as_of(base: str, customer: str, keys: dict[Role, str]) -> str:
    return str(_scores(base, customer, keys)["freshness"]["as_of"])


def _every_read(base: str, customer: str, keys: dict[Role, str], as_of: str, reads: int = 6) -> bool:
    """Whether `reads` reads in a row (spread over the replica's workers) answer the row of `as_of`."""
    return all(_as_of(base, customer, keys) == as_of for _ in range(reads))


def _first_streak(
    base: str, customer: str, keys: dict[Role, str], as_of: str, limit_s: float = 10.0
) -> float:
    """When the first streak of reads that all answer `as_of` began (monotonic seconds).

    The streak's own reads are not counted: on a busy machine six HTTP reads may take longer than
    the second the replica is allowed, and that is the test's time, not the service's.
    """
    deadline = time.monotonic() + limit_s
    while True:
        began = time.monotonic()
        if _every_read(base, customer, keys, as_of):
            return began
        assert began < deadline, f"{base} never answered the event's row"
        time.sleep(0.02)


def _post_late_delivery(base: str, customer: str, order: str, keys: dict[Role, str]) -> dict[str, Any]:
    """A late delivery for `customer`, as of their stored row; the service's answer."""
    as_of = pd.Timestamp(_scores(base, customer, keys)["freshness"]["as_of"])
    events = {"deliveries": [late_delivery(customer, as_of, order)]}
    posted = httpx.post(
        f"{base}/events",
        json=events,
        headers=bearer(keys[Role.INGEST]) | {"Idempotency-Key": order},
        timeout=30,
    )
    assert posted.status_code == 200, posted.text
    return dict(posted.json())


def _queued(result: dict[str, Any]) -> list[str]:
    return [
        a["idempotency_key"] for c in result["customers"] for a in c["actions"] if a["status"] == "queued"
    ]


@pytest.mark.slow
def test_an_event_accepted_by_one_replica_is_read_from_the_other_within_a_second(replicas: Replicas) -> None:
    keys = replicas.keys
    for writer, reader, customer in [(0, 1, "C0000007"), (1, 0, "C0000008")]:
        # given the reader's answer, cached (in each of its workers)
        before = _scores(replicas.bases[reader], customer, keys)
        assert _every_read(replicas.bases[reader], customer, keys, before["freshness"]["as_of"])
        # when the other replica accepts a late delivery for the customer
        result = _post_late_delivery(replicas.bases[writer], customer, f"REP-{customer}", keys)
        accepted, after = time.monotonic(), result["customers"][0]["after"]
        # then the reader answers with the new scores and the flag within a second
        seen = _first_streak(replicas.bases[reader], customer, keys, after["freshness"]["as_of"])
        assert seen - accepted < 1.0, f"the other replica read the event {seen - accepted:.2f} s after"
        read = _scores(replicas.bases[reader], customer, keys)
        assert read["flags"] == ["late-delivery"] and read["metrics"] == after["metrics"]
        assert read["freshness"]["as_of"] != before["freshness"]["as_of"]


@pytest.mark.slow
def test_a_replica_killed_mid_burst_loses_nothing_and_each_action_is_delivered_once(
    replicas: Replicas,
) -> None:
    keys, receiver = replicas.keys, replicas.receiver
    base, server, log = replicas.start("doomed")  # a third replica: the other two serve on
    wait_ready(base, server, log)
    targets = [base, replicas.bases[1]]
    acknowledged: dict[str, list[str]] = {}  # order id -> the idempotency keys of its queued actions
    receiver.failing = True  # nothing is delivered before the kill: no send is cut short by it
    try:

        def post(i: int) -> None:
            customer, order = f"C{200 + i:07d}", f"BURST-{i}"
            # the killed replica's requests fail: not acknowledged, so nothing is promised for them
            with contextlib.suppress(httpx.TransportError, AssertionError):
                acknowledged[order] = _queued(_post_late_delivery(targets[i % 2], customer, order, keys))

        with ThreadPoolExecutor(3) as pool:
            futures = [pool.submit(post, i) for i in range(BURST)]
            wait_for(lambda: len(acknowledged) >= BURST // 4, 120, "a quarter of the burst")
            stop_server(server, signal.SIGKILL)  # whole tree at once, as a crash
            for future in futures:
                future.result()
    finally:
        receiver.failing = False
    promised = {key for actions in acknowledged.values() for key in actions}
    assert len(acknowledged) >= BURST // 2 and len(promised) == len(acknowledged)  # one notify each
    # the two replicas left deliver everything, the killed one's claims too once its lease ends;
    # delivered is final and a send never outlives its lease: once every row says delivered and the
    # receiver answers nothing, no duplicate can still arrive
    url = replicas.state["CX_DATABASE_URL"]
    wait_for(lambda: _all_delivered(url) and receiver.idle(), 60, "every delivery recorded")
    accepted = receiver.accepted_keys()
    assert promised <= set(accepted), "an acknowledged action was never delivered"
    assert len(accepted) == len(set(accepted)), "a delivery arrived twice"
    assert set(acknowledged) <= stored_orders(replicas.state["CX_DATABASE_URL"])


def _all_delivered(url: str) -> bool:
    db = connect(url)
    try:
        return db.scalar("SELECT COUNT(*) FROM cx_outbox WHERE status <> 'delivered'") == 0
    finally:
        db.close()
