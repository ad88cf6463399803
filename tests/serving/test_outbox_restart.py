"""A process killed while its webhooks fail loses nothing: the next process delivers each key once."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from features.online_db import connect
from serving.outbox import Outbox
from tests.serving.databases import KINDS, database_url, drop_prefixed, opened, unique_prefix
from tests.serving.receiver import Receiver, serving, wait_for

pytestmark = pytest.mark.serial  # wall-time bounds: run alone (`make test`)

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


def read_line(process: subprocess.Popen[str], timeout_s: float = 60) -> str:
    """The child's next line of output, or a failure naming why (it died, or said nothing in time)."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    if not ready:
        process.kill()
        raise AssertionError(f"the child printed nothing in {timeout_s} s")
    line = process.stdout.readline()
    assert line, f"the child exited with {process.wait()} before printing"
    return line.strip()


def start_sender(place: tuple[str, str], rules: Path, queue: int) -> subprocess.Popen[str]:
    env = os.environ | {
        "CX_OUTBOX_BACKOFF_S": "0.05",
        "CX_OUTBOX_BACKOFF_MAX_S": "0.2",
        "CX_OUTBOX_LEASE_S": "1",
        "CX_OUTBOX_TIMEOUT_S": "0.4",
    }
    command = [sys.executable, "-c", SENDER, *place, str(rules), str(queue)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    assert read_line(process) == "ready"
    return process


def all_delivered(place: tuple[str, str]) -> bool:
    db = connect(place[0])
    try:
        return Outbox(db, place[1]).counters()["delivered"] == CUSTOMERS
    finally:
        db.close()


def test_a_killed_sender_loses_nothing_and_its_successor_sends_each_key_once(
    place: tuple[str, str], tmp_path: Path
) -> None:
    with serving(Receiver(failing=True)) as receiver:
        rules = tmp_path / "rules.yml"
        rules.write_text(RULES.format(hook=receiver.url()))
        first = start_sender(place, rules, CUSTOMERS)
        wait_for(lambda: len(receiver.requests) >= 2 * CUSTOMERS)  # every delivery failed, some twice
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        receiver.failing = False
        second = start_sender(place, rules, 0)
        try:
            # delivered is final and a send never outlives its lease: once every row says delivered and
            # the receiver answers nothing, no duplicate can still arrive
            wait_for(lambda: all_delivered(place) and receiver.idle(), 30, "every delivery recorded")
        finally:
            second.kill()
            second.wait(30)
    keys = receiver.accepted_keys()
    assert len(keys) == len(set(keys)) == CUSTOMERS


def test_a_child_that_never_prints_fails_the_read_instead_of_blocking() -> None:
    silent = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], stdout=subprocess.PIPE, text=True
    )
    started = time.monotonic()
    with pytest.raises(AssertionError, match="printed nothing"):
        read_line(silent, timeout_s=0.5)
    silent.wait(10)
    assert time.monotonic() - started < 10
