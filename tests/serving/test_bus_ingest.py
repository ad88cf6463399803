"""`cxpredict ingest` against real brokers (RabbitMQ, NATS JetStream) and a real `cxpredict serve`.

Messages are stored and rescored; a consumer SIGKILLed mid-stream and restarted leaves every message
stored exactly once; a malformed message goes to the dead-letter queue with its reason.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from models.mlflow_config import MlflowConfig
from serving.bus.transport import REASON_HEADER
from serving.keys import Role
from tests.serving.bus import (
    bus_url,
    dead_letters,
    drop,
    publish,
    queued,
    start_consumer,
    store_count,
    unique,
    verbatim_body,
)
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import angry_call, bearer, copy_workspace, create_keys, late_delivery

Served = tuple[Path, str, dict[Role, str]]
BUSES = ["amqp", "nats"]


@pytest.fixture(scope="module")
def served(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("bus")
    workspace = copy_workspace(trained, root / "ws", "http://127.0.0.1:9/unused")
    keys, port = create_keys(workspace), free_port()
    base, log = f"http://127.0.0.1:{port}", root / "server.log"
    server = start_server(workspace, trained[1], port, log)
    try:
        wait_ready(base, server, log)
        yield workspace, base, keys
    finally:
        stop_server(server)


@pytest.fixture(params=BUSES)
def bus(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    kind, name = request.param, unique(request.param)
    yield kind, name
    drop(kind, name)


def _as_of(base: str, keys: dict[Role, str], customer: str) -> pd.Timestamp:
    seen = httpx.get(f"{base}/customers/{customer}", headers=bearer(keys[Role.AGENT]), timeout=60)
    assert seen.status_code == 200, seen.text
    return pd.Timestamp(seen.json()["freshness"]["as_of"])


def _verbatims(workspace: Path, customers: list[str]) -> int:
    marks = ", ".join("?" for _ in customers)
    return store_count(
        workspace, f"SELECT COUNT(*) FROM cx_src_verbatims WHERE customer_id IN ({marks})", customers
    )


def _receipts(workspace: Path) -> int:
    return store_count(workspace, "SELECT COUNT(*) FROM cx_event_receipts")


def _finish(consumer: subprocess.Popen[bytes], log: Path, timeout_s: float = 240) -> str:
    try:
        consumer.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        consumer.kill()
        raise AssertionError(f"the consumer did not stop:\n{log.read_text()[-3000:]}") from None
    text = log.read_text()
    assert consumer.returncode == 0, text[-3000:]
    return text


def test_a_repeated_idempotency_key_is_stored_once(served: Served) -> None:
    workspace, base, keys = served
    customer = "C0000301"
    body = json.loads(verbatim_body(customer, _as_of(base, keys, customer).isoformat(), "Late again."))
    before = _verbatims(workspace, [customer])
    headers = bearer(keys[Role.INGEST]) | {"Idempotency-Key": "test/once"}
    answers = [httpx.post(f"{base}/events", json=body, headers=headers, timeout=120) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], answers[-1].text
    assert [a.json()["replayed"] for a in answers] == [False, True]
    assert _verbatims(workspace, [customer]) == before + 1


def test_messages_from_the_bus_are_stored_and_rescored(
    served: Served, bus: tuple[str, str], tmp_path: Path
) -> None:
    workspace, base, keys = served
    kind, name = bus
    customer = "C0000310" if kind == "amqp" else "C0000311"
    before = httpx.get(f"{base}/customers/{customer}", headers=bearer(keys[Role.AGENT]), timeout=60).json()
    as_of = pd.Timestamp(before["freshness"]["as_of"])
    events = {
        "deliveries": [late_delivery(customer, as_of, f"BUS-{kind}")],
        "calls": [angry_call(customer, as_of, f"BUS-{kind}")],
    }
    publish(kind, name, [json.dumps(events).encode()])
    log = tmp_path / "consumer.log"
    _finish(
        start_consumer(workspace, bus_url(kind, name), base, keys[Role.INGEST], log, "--idle-exit", "2"), log
    )
    after = httpx.get(f"{base}/customers/{customer}", headers=bearer(keys[Role.AGENT]), timeout=60).json()
    assert after["freshness"]["as_of"] > before["freshness"]["as_of"]
    assert after["churn"]["probability"] != before["churn"]["probability"]
    assert (
        store_count(workspace, "SELECT COUNT(*) FROM cx_src_deliveries WHERE order_id = ?", [f"BUS-{kind}"])
        == 1
    )


@pytest.mark.slow
def test_a_killed_consumer_leaves_every_message_stored_once_and_poison_dead_lettered(
    served: Served, bus: tuple[str, str], tmp_path: Path
) -> None:
    workspace, base, keys = served
    kind, name = bus
    customers = [f"C00003{n:02d}" for n in (range(20, 26) if kind == "amqp" else range(30, 36))]
    start = max(_as_of(base, keys, c) for c in customers)
    bodies = [
        verbatim_body(
            customers[n % len(customers)], (start + pd.Timedelta(seconds=n)).isoformat(), f"Message {n}."
        )
        for n in range(120)
    ]
    bodies.insert(40, b'{"verbatims": [{"customer_id": "C0000320", "posted_at": ')  # cut short: not JSON
    stored_before, receipts_before = _verbatims(workspace, customers), _receipts(workspace)
    publish(kind, name, bodies)
    url, log = bus_url(kind, name), tmp_path / "consumer.log"
    for kill_at in (25, 70):  # SIGKILL, mid-stream, twice: a message in the service is delivered again
        consumer = start_consumer(workspace, url, base, keys[Role.INGEST], log)
        deadline = time.monotonic() + 180
        while _verbatims(workspace, customers) - stored_before < kill_at:
            assert consumer.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.02)
        consumer.send_signal(signal.SIGKILL)
        consumer.wait()
    text = _finish(start_consumer(workspace, url, base, keys[Role.INGEST], log, "--idle-exit", "4"), log)
    assert _receipts(workspace) - receipts_before == 120, text[-3000:]  # every message's key, once
    assert _verbatims(workspace, customers) - stored_before == 120, text[-3000:]  # and its one row
    dead = dead_letters(kind, name)
    assert [body for _, body in dead] == [bodies[40]]
    assert str(dead[0][0][REASON_HEADER]).startswith("422")


def test_an_unreachable_service_leaves_the_message_on_the_bus_and_sigterm_stops_cleanly(
    served: Served, tmp_path: Path
) -> None:
    workspace, _, keys = served
    name = unique("amqp")
    try:
        publish("amqp", name, [verbatim_body("C0000340", "2026-06-01T00:00:00Z", "Late.")])
        log, nowhere = tmp_path / "consumer.log", f"http://127.0.0.1:{free_port()}"
        consumer = start_consumer(workspace, bus_url("amqp", name), nowhere, keys[Role.INGEST], log)
        deadline = time.monotonic() + 60
        while log.read_text().count("not taken") < 2:
            assert consumer.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(timeout=60) == 0, log.read_text()[-3000:]
        assert queued("amqp", name) == 1 and dead_letters("amqp", name) == []
    finally:
        drop("amqp", name)


def test_a_refused_key_stops_the_consumer_in_one_sentence(served: Served, tmp_path: Path) -> None:
    workspace, base, keys = served
    name = unique("amqp")
    try:
        publish("amqp", name, [verbatim_body("C0000341", "2026-06-01T00:00:00Z", "Late.")])
        log = tmp_path / "consumer.log"
        consumer = start_consumer(workspace, bus_url("amqp", name), base, keys[Role.AGENT], log)
        assert consumer.wait(timeout=120) == 2
        assert "refused the API key (403)" in log.read_text() and "Traceback" not in log.read_text()
        assert queued("amqp", name) == 1
    finally:
        drop("amqp", name)


def test_a_url_without_its_queue_is_refused_in_one_sentence(tmp_path: Path) -> None:
    log = tmp_path / "consumer.log"
    consumer = start_consumer(tmp_path, "amqp://guest:secret@127.0.0.1:5672/%2F", "http://x", "k", log)
    assert consumer.wait(timeout=120) == 2
    text = log.read_text()
    assert "names no queue" in text and "secret" not in text and "Traceback" not in text
