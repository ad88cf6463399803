"""What one service process changed, told to every other process on the same Postgres.

Each process keeps customers' answers in memory (`serving.answers`) and its own models. On SQLite
one process serves a workspace; on Postgres many may (BentoML workers, replicas). A process that
changed a customer (events, surveys, the flags rules set) or reloaded the models appends a row to
the changes table after its commit and `NOTIFY`s; every other process `LISTEN`s, reads the rows
after the last it saw and drops those customers' answers (or reloads). The rows are numbered in
commit order (a publisher holds a transaction lock from the number to its commit), so reading
"after the last seen" misses none. A notification is lost while a listener is disconnected: the
listener also reads the table every `poll_s` seconds; after an outage of its own connection (the
rows it missed may be pruned by then) it drops every answer it holds.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from features.online_db import StoreUnavailable, connect
from serving.state import checked_prefix

log = logging.getLogger(__name__)
POLL_S = 0.25  # the fallback: a change reaches every process within this (plus a query) without NOTIFY
KEEP_S = 600  # rows older than this are pruned
PRUNE_EVERY_S = 60.0
_PUBLISH_KEY = 0x43585F4348414E47  # "CX_CHANG": publishers commit one at a time, in number order
CUSTOMER, RELOAD = "customer", "reload"

# (kind, customer id or None)
Change = tuple[str, str | None]


class ChangeFeed:
    """Publishes this process's changes and follows the others' (Postgres only)."""

    def __init__(
        self,
        url: str,
        on_change: Callable[[Sequence[Change]], None],
        on_gap: Callable[[], None],
        prefix: str = "cx_",
        poll_s: float = POLL_S,
    ) -> None:
        """Open the publishing connection and create the table; `start` begins following.

        Args:
            url: the `postgresql://` URL of the state database.
            on_change: called with the other processes' changes, in order.
            on_gap: called when changes may have been missed (every cached answer is then suspect).
            prefix: the tables' prefix.
            poll_s: how often the table is read when no notification comes.
        """
        self.url, self.on_change, self.on_gap, self.poll_s = url, on_change, on_gap, poll_s
        self.table = f"{checked_prefix(prefix)}changes"
        self.origin = uuid.uuid4().hex  # this process: its own changes are not news to it
        self.db = connect(url)
        self._lock = threading.Lock()  # one connection: one statement sequence at a time
        self.last, self._created = 0, False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        with contextlib.suppress(StoreUnavailable):  # else on the first publish or read
            self._create()

    def _create(self) -> None:
        """Create the table if not done yet; start after its last row."""
        if self._created:
            return
        with self._lock:
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} (seq BIGSERIAL PRIMARY KEY, origin TEXT, "
                "kind TEXT, customer_id TEXT, at TIMESTAMPTZ DEFAULT now())"
            )
            self.db.commit()
            self.last = int(self.db.scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {self.table}"))
        self._created = True

    def publish(self, changes: Sequence[Change]) -> None:
        """Record `changes` (already committed elsewhere) and wake the other processes.

        Raises:
            StoreUnavailable: when the database cannot take them.
        """
        if not changes:
            return
        rows = [(self.origin, kind, customer) for kind, customer in changes]
        self._create()
        with self._lock:
            try:
                self.db.execute("SELECT pg_advisory_xact_lock(?)", (_PUBLISH_KEY,))
                for row in rows:
                    self.db.execute(
                        f"INSERT INTO {self.table} (origin, kind, customer_id) VALUES (?, ?, ?)", row
                    )
                self.db.execute(f"NOTIFY {self.table}")  # sent at the commit, after the rows
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise

    def start(self) -> None:
        """Follow the other processes' changes in a thread until stopped."""
        self._thread = threading.Thread(target=self._follow, name="cx-changes", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.poll_s * 8 + 5)
        with self._lock:
            self.db.close()

    def _follow(self) -> None:
        connection, away, pruned = None, False, time.monotonic()
        while not self._stop.is_set():
            try:
                if connection is None:
                    away = away or not self._created  # answers cached before the table was made
                    self._create()
                    connection = _listen(self.url, self.table)
                    if away:  # its rows may be pruned by now: start again from an empty cache
                        self.on_gap()
                        log.warning("following the other service processes' changes again")
                    away = False
                for _ in connection.notifies(timeout=self.poll_s, stop_after=1):
                    pass  # a wake-up: the rows say what changed
                self._read(connection)
                if time.monotonic() - pruned > PRUNE_EVERY_S:
                    self.prune()
                    pruned = time.monotonic()
            except Exception as exc:  # the database went away: try again after a pause, on a new connection
                if not away:
                    log.warning("cannot follow the other service processes' changes now: %s", exc)
                _close(connection)
                away, connection = True, None
                self._stop.wait(self.poll_s * 4)
        _close(connection)

    def _read(self, connection: Any) -> None:
        """Hand on the other processes' rows after the last one seen."""
        rows = connection.execute(
            f"SELECT seq, origin, kind, customer_id FROM {self.table} WHERE seq > %s ORDER BY seq",
            (self.last,),
        ).fetchall()
        if rows:
            self.last = int(rows[-1][0])
            news = [(str(kind), customer) for _, origin, kind, customer in rows if origin != self.origin]
            if news:
                self.on_change(news)

    def prune(self) -> None:
        """Delete rows older than `KEEP_S` (any process may: a listener away longer drops its answers)."""
        with self._lock:
            self.db.execute(
                f"DELETE FROM {self.table} WHERE at < now() - make_interval(secs => ?)", (KEEP_S,)
            )
            self.db.commit()


def _listen(url: str, table: str) -> Any:
    import psycopg

    connection = psycopg.connect(url, autocommit=True, connect_timeout=5)
    connection.execute(f"LISTEN {table}")
    return connection


def _close(connection: Any) -> None:
    if connection is not None:
        with contextlib.suppress(Exception):
            connection.close()
