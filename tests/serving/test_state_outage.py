"""The outbox on a state database that really fails: a terminated session, a stopped server, a read-only file.

Each fault is the real one (no exception raised by a test double): the sender must say so in one
line, back off, reconnect by itself and then deliver everything, each key once.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.online_db import Database, StoreUnavailable, connect
from serving.delivery import Deliverer
from serving.outbox import DeliveryPolicy, Outbox, load_delivery_policy
from tests.serving.databases import (
    POSTGRES,
    drop_prefixed,
    private_cluster,
    terminate,
    unique_name,
    unique_prefix,
)
from tests.serving.receiver import Receiver, serving, wait_for
from tests.serving.server_process import free_port

SECRET = "s"
QUICK = DeliveryPolicy(backoff_s=0.05, backoff_max_s=0.2, poll_s=0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def enqueue(url: str, prefix: str, key: str, hook: str) -> None:
    """Queue a delivery on a connection of its own, as the service's request path would."""
    db = connect(url)
    try:
        Outbox(db, prefix).enqueue(key, {"url": hook, "kind": "notify"}, {"key": key}, time.time())
        db.commit()
    finally:
        db.close()


@pytest.fixture
def sending(receiver: Receiver) -> Iterator[list[Deliverer]]:
    """Senders started by a test, stopped after it."""
    started: list[Deliverer] = []
    yield started
    for sender in started:
        sender.stop()
        sender.outbox.db.close()


def start(sending: list[Deliverer], url: str, prefix: str, policy: DeliveryPolicy = QUICK) -> Deliverer:
    sender = Deliverer(Outbox(connect(url), prefix, policy), threading.RLock(), SECRET)
    sender.start()
    sending.append(sender)
    return sender


def outbox_lines(caplog: pytest.LogCaptureFixture, prefix: str) -> list[logging.LogRecord]:
    """What this test's outbox logged (senders of other tests may still be winding down)."""
    return [r for r in caplog.records if r.name == "serving.delivery" and f"{prefix}outbox" in r.getMessage()]


def test_a_terminated_postgres_session_is_replaced_and_delivery_goes_on(
    receiver: Receiver, sending: list[Deliverer], caplog: pytest.LogCaptureFixture
) -> None:
    name, prefix = unique_name(), unique_prefix()
    url = f"{POSTGRES}?application_name={name}"
    try:
        start(sending, url, prefix)
        enqueue(POSTGRES, prefix, "k1", receiver.url())
        wait_for(lambda: receiver.accepted_keys() == ["k1"], what="the first delivery")
        assert terminate(POSTGRES, name) == 1  # the sender's own session, and no one else's
        enqueue(POSTGRES, prefix, "k2", receiver.url())
        wait_for(lambda: receiver.accepted_keys() == ["k1", "k2"], what="a delivery after the terminate")
    finally:
        for sender in sending:
            sender.stop()
            sender.outbox.db.close()
        db = connect(POSTGRES)
        drop_prefixed(db, prefix)
        db.close()
    assert not [r for r in caplog.records if r.name == "serving.delivery" and r.exc_info]  # not a traceback


def test_postgres_stopped_and_started_pauses_delivery_and_resumes_it(
    receiver: Receiver, sending: list[Deliverer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with private_cluster(free_port()) as cluster:
        url, prefix = cluster.server, unique_prefix()
        sender = start(sending, url, prefix)
        enqueue(url, prefix, "k1", receiver.url())
        wait_for(lambda: receiver.accepted_keys() == ["k1"], what="the first delivery")
        cluster.stop()
        wait_for(lambda: sender.outbox.db.problem is not None, what="the sender to notice")
        assert "unreachable" in str(sender.outbox.db.problem)
        cluster.start()
        enqueue(url, prefix, "k2", receiver.url())
        wait_for(lambda: receiver.accepted_keys() == ["k1", "k2"], 30, "a delivery after the restart")
        assert_one_line_per_outage(caplog, prefix)
        sender.stop()  # before the cluster stops for good


def assert_one_line_per_outage(caplog: pytest.LogCaptureFixture, prefix: str) -> None:
    """Paused and resumed in turn, a line each (a server shutting down may flicker once), no traceback."""
    # "resumed" is logged once the pass that delivered returns: a moment after the receiver saw it
    wait_for(lambda: "resumed" in outbox_lines(caplog, prefix)[-1].getMessage(), 10, "the resumed line")
    lines = [
        r.getMessage().split(":")[0].replace(f" {prefix}outbox", "") for r in outbox_lines(caplog, prefix)
    ]
    assert lines[:2] == ["outbox paused", "outbox resumed"] and len(lines) <= 4, lines
    assert lines == ["outbox paused", "outbox resumed"] * (len(lines) // 2), lines
    assert not [r for r in caplog.records if r.name == "serving.delivery" and r.exc_info]


def chattr(flag: str, path: Path) -> None:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"this file system cannot make a file read-only for root: {done.stderr.strip()}")


def test_a_read_only_sqlite_database_pauses_delivery_in_one_line_and_resumes_when_writable(
    receiver: Receiver, sending: list[Deliverer], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.INFO)
    url, prefix = str(tmp_path / "cx.db"), unique_prefix()
    enqueue(url, prefix, "k1", receiver.url())  # the connection closes cleanly: no WAL is left behind
    chattr("+i", tmp_path / "cx.db")  # immutable: read-only even for root
    try:
        sender = start(sending, url, prefix)
        wait_for(lambda: sender.outbox.db.problem is not None, what="the sender to notice")
        assert "read-only" in str(sender.outbox.db.problem)
        time.sleep(0.5)  # many polls' worth: a sender that logged each failed try would show it here
        assert receiver.requests == []
    finally:
        chattr("-i", tmp_path / "cx.db")
    wait_for(lambda: receiver.accepted_keys() == ["k1"], 30, "the delivery once writable")
    assert_one_line_per_outage(caplog, prefix)


def test_a_read_only_database_says_so_and_the_next_try_waits_a_growing_backoff(tmp_path: Path) -> None:
    clock = [0.0]
    url = tmp_path / "cx.db"
    connect(str(url)).close()
    chattr("+i", url)
    try:
        db = Database(lambda: connect(str(url)).connection, postgres=False, clock=lambda: clock[0])
        with pytest.raises(StoreUnavailable, match="read-only"):
            db.execute("CREATE TABLE t (a INTEGER)")
        with pytest.raises(StoreUnavailable, match="read-only"):  # within the backoff: no new try
            db.query("SELECT 1")
        clock[0] += 0.25
        assert db.query("SELECT 1") == [(1,)]  # reads go on
        assert db.probe() is not None
    finally:
        chattr("-i", url)
    clock[0] += 10
    assert db.probe() is None and db.problem is None
    db.execute("CREATE TABLE t (a INTEGER)")
    db.close()


def test_a_lease_shorter_than_twice_the_timeout_is_refused_at_load() -> None:
    with pytest.raises(ValueError, match="CX_OUTBOX_LEASE_S"):
        load_delivery_policy({"CX_OUTBOX_TIMEOUT_S": "1", "CX_OUTBOX_LEASE_S": "0.5"})
    with pytest.raises(ValueError, match="at least twice"):
        load_delivery_policy({"CX_OUTBOX_TIMEOUT_S": "40"})  # the default lease is 60 s
    assert load_delivery_policy({"CX_OUTBOX_TIMEOUT_S": "1", "CX_OUTBOX_LEASE_S": "2"}).lease_s == 2


@pytest.mark.serial  # a 0.8 s receiver against a 1 s timeout: run alone
def test_a_receiver_slower_than_the_lease_allows_never_gets_a_second_copy_from_another_sender(
    sending: list[Deliverer], tmp_path: Path
) -> None:
    # the shortest lease the loader accepts for a 1 s timeout, and a receiver that takes 0.8 s
    policy = load_delivery_policy({"CX_OUTBOX_TIMEOUT_S": "1", "CX_OUTBOX_LEASE_S": "2"})
    policy = DeliveryPolicy(**{**policy.__dict__, "poll_s": 0.02})
    url, prefix = str(tmp_path / "cx.db"), unique_prefix()
    with serving(Receiver(delay_s=0.8)) as slow:
        for key in ("k1", "k2", "k3"):
            enqueue(url, prefix, key, slow.url())
        for _ in range(2):  # two processes' senders on one outbox
            start(sending, url, prefix, policy)
        wait_for(lambda: len(slow.accepted()) >= 3, 30, "three slow deliveries")
        db = connect(url)
        wait_for(lambda: Outbox(db, prefix).counters()["delivered"] == 3 and slow.idle(), 30, "records")
        db.close()
    assert sorted(slow.arrived) == ["k1", "k2", "k3"]


def test_a_read_that_opens_a_transaction_survives_a_terminated_session_at_once() -> None:
    name = unique_name()
    db = connect(f"{POSTGRES}?application_name={name}")
    try:
        assert db.query("SELECT 1") == [(1,)]
        db.commit()
        assert terminate(POSTGRES, name) == 1
        assert db.query("SELECT 2") == [(2,)]  # a new session, with nothing lost on the old one
        db.execute("CREATE TEMP TABLE t (a INTEGER)")
        assert terminate(POSTGRES, name) == 1
        with pytest.raises(StoreUnavailable, match="unreachable"):  # mid-transaction: the caller must know
            db.query("SELECT a FROM t")
    finally:
        db.close()
