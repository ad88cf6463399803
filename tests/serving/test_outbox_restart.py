"""A process killed while its webhooks fail loses nothing: the next process delivers each key once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.online_db import connect
from serving.delivery import Deliverer
from serving.outbox import Delivery, DeliveryPolicy, Outbox
from tests.serving.databases import KINDS, database_url, drop_prefixed, opened, unique_prefix
from tests.serving.receiver import Receiver, serving

CUSTOMERS = 5
# Queues one notification per customer, starts delivering, then waits to be killed.
SENDER = """
import datetime as dt, sys, time
from pathlib import Path
from features.online_db import connect
from serving.actions import ActionCenter

url, prefix, rules, queue = sys.argv[1:5]
center = ActionCenter.open(connect(url), Path(rules), webhook_secret="s", prefix=prefix)
for i in range(int(queue)):
    center.apply(f"C{i}", {"churn": {"probability": 0.9}}, dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
center.start()
print("ready", flush=True)
time.sleep(600)
"""
RULES = """\
rules:
  - name: alert
    when: churn.probability > 0.5
    actions:
      - notify: {{team: retention, url: "{hook}"}}
"""


@pytest.fixture(params=KINDS)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    prefix = unique_prefix()
    yield database_url(request.param, tmp_path), prefix
    with opened(request.param, tmp_path) as db:
        drop_prefixed(db, prefix)


def start_sender(place: tuple[str, str], rules: Path, queue: int) -> subprocess.Popen[str]:
    env = os.environ | {
        "CX_OUTBOX_BACKOFF_S": "0.05",
        "CX_OUTBOX_BACKOFF_MAX_S": "0.2",
        "CX_OUTBOX_LEASE_S": "1",
    }
    command = [sys.executable, "-c", SENDER, *place, str(rules), str(queue)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def wait_for(condition: object, seconds: float = 20.0) -> None:
    deadline = time.time() + seconds
    while not condition():  # type: ignore[operator]
        assert time.time() < deadline, "timed out"
        time.sleep(0.05)


def test_a_killed_sender_loses_nothing_and_its_successor_sends_each_key_once(
    place: tuple[str, str], tmp_path: Path
) -> None:
    with serving(Receiver(failing=True)) as receiver:
        rules = tmp_path / "rules.yml"
        rules.write_text(RULES.format(hook=receiver.url()))
        first = start_sender(place, rules, CUSTOMERS)
        wait_for(lambda: len(receiver.requests) >= 2 * CUSTOMERS)  # every delivery failed, some twice
        first.send_signal(signal.SIGKILL)
        first.wait()
        receiver.failing = False
        second = start_sender(place, rules, 0)
        try:
            wait_for(lambda: len(receiver.accepted()) >= CUSTOMERS)
            time.sleep(1.5)  # past a lease: any duplicate would have arrived
        finally:
            second.kill()
            second.wait()
    keys = receiver.accepted_keys()
    assert len(keys) == len(set(keys)) == CUSTOMERS


class FlakyOutbox(Outbox):
    """A real outbox whose database fails the first few claims, as a restarting database would."""

    failures = 3

    def claim(self, now: float, limit: int | None = None) -> list[Delivery]:
        if self.failures:
            self.failures -= 1
            raise OSError("database connection lost")
        return super().claim(now, limit)


def test_the_delivery_thread_outlives_database_errors(place: tuple[str, str]) -> None:
    url, prefix = place
    outbox = FlakyOutbox(connect(url), prefix, DeliveryPolicy(poll_s=0.02))
    with serving(Receiver()) as receiver:
        outbox.enqueue("k1", {"url": receiver.url(), "kind": "notify"}, {"a": 1}, time.time())
        outbox.db.commit()
        sender = Deliverer(outbox, threading.RLock(), "s")
        sender.start()
        try:
            wait_for(lambda: receiver.accepted_keys() == ["k1"], 10)
        finally:
            sender.stop()
            outbox.db.close()
    assert outbox.failures == 0
