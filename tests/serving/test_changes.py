"""The change feed between service processes on one Postgres: told at once, polled when a notice is
lost, and a listener that lost its connection drops every answer it holds. And processes starting
together on one Postgres create the same tables without tripping over each other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from features.online_db import connect
from serving.changes import CUSTOMER, RELOAD, Change, ChangeFeed
from tests.serving.databases import POSTGRES, drop_prefixed, opened, terminate, unique_name, unique_prefix
from tests.serving.receiver import wait_for

pytestmark = pytest.mark.serial  # wall-time bounds: run alone (`make test`)


@dataclass
class Heard:
    """What a process was told: changes in order, and how many times it had to forget everything."""

    changes: list[Change] = field(default_factory=list)
    gaps: int = 0

    def change(self, changes: Sequence[Change]) -> None:
        self.changes.extend(changes)

    def gap(self) -> None:
        self.gaps += 1


@pytest.fixture
def feeds() -> Iterator[tuple[ChangeFeed, ChangeFeed, Heard, str]]:
    """Two processes' feeds on one table prefix; the second follows, under an application name of its own."""
    prefix, name, heard = unique_prefix(), unique_name("cxfeed"), Heard()
    writer = ChangeFeed(POSTGRES, lambda _: None, lambda: None, prefix)
    reader = ChangeFeed(f"{POSTGRES}?application_name={name}", heard.change, heard.gap, prefix, poll_s=0.1)
    reader.start()
    try:
        yield writer, reader, heard, name
    finally:
        reader.stop()
        writer.stop()
        with opened("postgres", Path()) as db:
            drop_prefixed(db, prefix)


def test_another_process_hears_each_change_in_order_and_not_its_own(
    feeds: tuple[ChangeFeed, ChangeFeed, Heard, str],
) -> None:
    writer, reader, heard, _ = feeds
    reader.publish([(CUSTOMER, "C-own")])  # its own change is no news to it
    started = time.monotonic()
    writer.publish([(CUSTOMER, "C1"), (CUSTOMER, "C2")])
    writer.publish([(RELOAD, None)])
    wait_for(lambda: len(heard.changes) == 3, 1.0, "the changes")
    assert time.monotonic() - started < 1.0
    assert heard.changes == [(CUSTOMER, "C1"), (CUSTOMER, "C2"), (RELOAD, None)]


def test_a_listener_whose_connection_was_lost_forgets_everything_and_follows_again(
    feeds: tuple[ChangeFeed, ChangeFeed, Heard, str],
) -> None:
    writer, _, heard, name = feeds
    wait_for(lambda: terminate(POSTGRES, name) > 0, 5.0, "the listener's session")
    writer.publish([(CUSTOMER, "C9")])  # notified while nobody listens: found by reading the table
    # the server ends the session asynchronously: on a loaded machine it may answer a last read first
    wait_for(lambda: heard.gaps == 1 and (CUSTOMER, "C9") in heard.changes, 20.0, "the catch-up")


def test_two_processes_creating_one_table_at_once_both_succeed() -> None:
    table, name = unique_prefix() + "made", unique_name("cxddl")
    first, second = connect(POSTGRES), connect(f"{POSTGRES}?application_name={name}")
    errors: list[BaseException] = []

    def create_too() -> None:
        try:
            second.execute(f"CREATE TABLE IF NOT EXISTS {table} (x INTEGER)")
            second.commit()
        except BaseException as exc:  # reported by the assertion below, not lost in the thread
            errors.append(exc)

    try:
        first.execute(f"CREATE TABLE IF NOT EXISTS {table} (x INTEGER)")  # not committed yet
        racer = threading.Thread(target=create_too)
        racer.start()
        wait_for(lambda: _waiting(name), 5.0, "the second creator to wait")
        first.commit()
        racer.join(10)
        assert not errors, errors  # without the turn: UniqueViolation on pg_type's unique index
    finally:
        first.execute(f"DROP TABLE IF EXISTS {table}")
        first.commit()
        first.close()
        second.close()


def _waiting(application_name: str) -> bool:
    with opened("postgres", Path()) as db:
        sql = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'"
        return bool(db.scalar(sql, (application_name,)))
