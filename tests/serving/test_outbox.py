"""The outbox delivers to a real receiver: signed, with its idempotency key, retried, dead-lettered."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.online_db import Database, connect
from serving.delivery import Deliverer
from serving.outbox import DeliveryPolicy, Outbox, load_delivery_policy
from serving.webhooks import verify
from tests.serving.databases import KINDS, database_url, drop_prefixed, opened, unique_prefix
from tests.serving.receiver import Receiver, serving, wait_for

SECRET = "test-secret"
OPENED: list[Database] = []  # the connections a test opened, closed before its tables are dropped
FAST = DeliveryPolicy(max_attempts=4, backoff_s=10.0, backoff_max_s=40.0, timeout_s=2.0, lease_s=30.0)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=KINDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A database URL and a table prefix of this test's own."""
    prefix, url = unique_prefix(), database_url(request.param, tmp_path)
    yield url, prefix
    for db in OPENED:
        db.close()
    OPENED.clear()
    with opened(request.param, tmp_path) as db:
        drop_prefixed(db, prefix)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


def outbox_at(place: tuple[str, str], policy: DeliveryPolicy = FAST) -> Outbox:
    url, prefix = place
    OPENED.append(connect(url))
    return Outbox(OPENED[-1], prefix, policy)


def enqueue(outbox: Outbox, key: str, url: str, at: float) -> str:
    action = {"rule": "churn-alert", "kind": "notify", "team": "retention", "url": url, "customer_id": "C1"}
    delivery_id = outbox.enqueue(key, action, {"customer_id": "C1", "idempotency_key": key}, at)
    outbox.db.commit()
    return delivery_id


def test_a_delivery_arrives_signed_with_its_idempotency_key(
    place: tuple[str, str], receiver: Receiver
) -> None:
    outbox, clock = outbox_at(place), Clock()
    enqueue(outbox, "k1", receiver.url(), clock.now)
    assert Deliverer(outbox, threading.RLock(), SECRET, clock).run_once() == 1
    [request] = receiver.accepted()
    assert request.headers["Idempotency-Key"] == "k1"
    assert verify(SECRET, request.body, request.headers["X-Cx-Signature"])
    assert not verify("another-secret", request.body, request.headers["X-Cx-Signature"])
    assert json.loads(request.body) == {"customer_id": "C1", "idempotency_key": "k1"}
    [row] = outbox.list()
    assert (row["status"], row["attempts"]) == ("delivered", 1)


def test_a_body_is_strict_json_even_when_a_score_is_not_a_number(
    place: tuple[str, str], receiver: Receiver
) -> None:
    outbox = outbox_at(place)
    action = {"kind": "notify", "url": receiver.url()}
    outbox.enqueue("k1", action, {"churn": {"probability": float("nan")}, "value": [float("inf")]}, 1.0)
    outbox.db.commit()
    Deliverer(outbox, threading.RLock(), SECRET, Clock()).run_once()
    [request] = receiver.accepted()
    assert json.loads(request.body, parse_constant=pytest.fail) == {
        "churn": {"probability": None},
        "value": [None],
    }


def test_purging_forgets_only_old_delivered_deliveries(place: tuple[str, str], receiver: Receiver) -> None:
    outbox, clock = outbox_at(place), Clock()
    enqueue(outbox, "old", receiver.url(), clock.now)
    Deliverer(outbox, threading.RLock(), SECRET, clock).run_once()
    enqueue(outbox, "waiting", receiver.url("/elsewhere"), clock.now)
    assert outbox.purge(clock.now) == 0  # delivered at that very moment: not before
    assert outbox.purge(clock.now + 1) == 1
    assert [row["idempotency_key"] for row in outbox.list()] == ["waiting"]


def test_the_same_key_is_queued_once(place: tuple[str, str], receiver: Receiver) -> None:
    outbox = outbox_at(place)
    assert enqueue(outbox, "k1", receiver.url(), 1.0) == enqueue(outbox, "k1", receiver.url(), 2.0)
    assert outbox.counters()["queued"] == 1


def test_a_failing_receiver_is_retried_with_backoff_and_gets_each_key_once(
    place: tuple[str, str], receiver: Receiver
) -> None:
    outbox, clock = outbox_at(place), Clock()
    sender = Deliverer(outbox, threading.RLock(), SECRET, clock)
    for key in ("k1", "k2"):
        enqueue(outbox, key, receiver.url(), clock.now)
    receiver.failing = True
    assert sender.run_once() == 2  # first try fails: next in 10 s
    clock.now += 9
    assert sender.run_once() == 0  # not due yet
    clock.now += 1
    assert sender.run_once() == 2  # second try fails: next in 20 s
    assert outbox.counters()["failed"] == 2
    receiver.failing = False
    clock.now += 20
    assert sender.run_once() == 2
    assert sorted(receiver.accepted_keys()) == ["k1", "k2"]
    assert {(r["status"], r["attempts"], r["last_error"]) for r in outbox.list()} == {("delivered", 3, None)}
    clock.now += 1000
    assert sender.run_once() == 0  # delivered is final


def test_a_delivery_is_dead_after_the_last_try_and_can_be_requeued(
    place: tuple[str, str], receiver: Receiver
) -> None:
    outbox, clock = outbox_at(place), Clock()
    sender = Deliverer(outbox, threading.RLock(), SECRET, clock)
    enqueue(outbox, "k1", receiver.url(), clock.now)
    receiver.failing = True
    for _ in range(FAST.max_attempts):
        assert sender.run_once() == 1
        clock.now += FAST.backoff_max_s
    assert sender.run_once() == 0
    [dead] = outbox.list(status="dead")
    assert (dead["attempts"], dead["last_error"]) == (FAST.max_attempts, "HTTP 503 Service Unavailable")
    assert len(receiver.requests) == FAST.max_attempts
    receiver.failing = False
    assert outbox.requeue_dead(clock.now) == 1
    outbox.db.commit()
    assert sender.run_once() == 1
    assert receiver.accepted_keys() == ["k1"]


def test_a_receiver_that_is_down_loses_nothing(place: tuple[str, str]) -> None:
    # given deliveries queued while nothing listens on the receiver's port
    policy = DeliveryPolicy(max_attempts=50, backoff_s=0.02, backoff_max_s=0.1, poll_s=0.02)
    outbox, down = outbox_at(place, policy), Receiver()
    with serving(down):
        pass  # learn a free port, then close it
    for key in ("k1", "k2", "k3"):
        enqueue(outbox, key, down.url(), time.time())
    sender = Deliverer(outbox, threading.RLock(), SECRET)
    sender.start()
    try:
        wait_for(lambda: outbox_at(place).counters()["failed"] == 3, what="every delivery to fail once")
        # when the receiver comes back on the same port
        with serving(Receiver(port=down.port)) as back:
            # delivered is final: once the outbox says so and the receiver answers nothing, no
            # duplicate can still arrive
            wait_for(lambda: outbox_at(place).counters()["delivered"] == 3 and back.idle(), what="deliveries")
    finally:
        sender.stop()
    # then each key arrived exactly once and the sender is still healthy
    assert sorted(back.accepted_keys()) == ["k1", "k2", "k3"]


def test_a_sender_that_died_mid_delivery_is_taken_over_after_its_lease(
    place: tuple[str, str], receiver: Receiver
) -> None:
    first, clock = outbox_at(place), Clock()
    enqueue(first, "k1", receiver.url(), clock.now)
    assert len(first.claim(clock.now)) == 1  # then the process is killed
    first.db.close()
    second = outbox_at(place)
    sender = Deliverer(second, threading.RLock(), SECRET, clock)
    assert sender.run_once() == 0  # still leased to the dead process
    clock.now += FAST.lease_s + 1
    assert sender.run_once() == 1
    assert receiver.accepted_keys() == ["k1"]


def test_two_senders_never_send_the_same_delivery(place: tuple[str, str], receiver: Receiver) -> None:
    keys = [f"k{i}" for i in range(40)]
    writer = outbox_at(place)
    for key in keys:
        enqueue(writer, key, receiver.url(), time.time())
    senders = [Deliverer(outbox_at(place), threading.RLock(), SECRET) for _ in range(2)]
    threads = [threading.Thread(target=lambda s=s: [s.run_once() for _ in range(5)]) for s in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a sender did not finish"
    assert sorted(receiver.accepted_keys()) == sorted(keys)


def test_by_default_a_receiver_may_be_down_for_ten_minutes_before_anything_is_dead() -> None:
    policy = DeliveryPolicy()
    assert sum(policy.delay(n) for n in range(1, policy.max_attempts)) > 10 * 60
    assert policy.batch * policy.timeout_s < policy.lease_s  # a claimed batch is sent within its lease


def test_a_redirect_is_a_failed_delivery(place: tuple[str, str]) -> None:
    with serving(Receiver(redirect="/elsewhere")) as moved:
        outbox, clock = outbox_at(place), Clock()
        enqueue(outbox, "k1", moved.url(), clock.now)
        Deliverer(outbox, threading.RLock(), SECRET, clock).run_once()
    [row] = outbox.list()
    assert (row["status"], row["last_error"]) == ("failed", "HTTP 307 Temporary Redirect")
    assert [r.path for r in moved.requests] == ["/hook"]  # never followed


def test_the_policy_reads_its_environment_variables() -> None:
    policy = load_delivery_policy({"CX_OUTBOX_MAX_ATTEMPTS": "3", "CX_OUTBOX_BACKOFF_S": "0.5"})
    assert (policy.max_attempts, policy.backoff_s) == (3, 0.5)
    assert [policy.delay(n) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="CX_OUTBOX_BACKOFF_S"):
        load_delivery_policy({"CX_OUTBOX_BACKOFF_S": "-1"})


def test_a_claim_skips_deliveries_another_process_is_claiming_rather_than_waiting() -> None:
    place = (database_url("postgres", Path()), unique_prefix())
    try:
        holder, claimer = outbox_at(place), outbox_at(place)
        enqueue(holder, "held", "http://127.0.0.1:9/hook", 1.0)
        enqueue(holder, "free", "http://127.0.0.1:9/hook", 2.0)
        holder.db.commit()
        # another replica's claim in flight: its transaction holds the oldest row
        holder.db.execute(f"SELECT id FROM {holder.table} WHERE idempotency_key = 'held' FOR UPDATE")
        claimer.db.execute("SET lock_timeout = '2s'")  # without SKIP LOCKED the claim would wait here
        claimed = claimer.claim(10.0)
        assert [d.idempotency_key for d in claimed] == ["free"]
        holder.db.rollback()
        assert [d.idempotency_key for d in claimer.claim(10.0)] == ["held"]
    finally:
        for db in OPENED:
            db.close()
        OPENED.clear()
        with opened("postgres", Path()) as db:
            drop_prefixed(db, place[1])
