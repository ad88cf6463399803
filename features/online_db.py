"""The two databases an online store lives in, behind one small interface (SQLite and Postgres).

Statements are written once with `?` placeholders and portable SQL (`ON CONFLICT ... DO UPDATE`
works in both); only bulk loading differs, since Postgres loads fastest through COPY.

A database that goes away (Postgres restarted, the connection terminated) or stops taking writes
(a read-only file or server) raises `StoreUnavailable` with the reason in one sentence. The failed
connection is dropped and the next call opens a new one, no sooner than a backoff that doubles
while the database stays away: callers survive an outage by trying again, never by restarting.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
RETRY_FIRST_S = 0.2
RETRY_MAX_S = 5.0
_CREATE_IF_MISSING = re.compile(r"\s*CREATE\s+(TABLE|INDEX)\s+IF\s+NOT\s+EXISTS\b", re.I)
_SCHEMA_KEY = 0x43585F534348454D  # "CX_SCHEM": the advisory lock of `CREATE ... IF NOT EXISTS`
# SQLite's answers that mean "the file cannot be used now", not "this statement is wrong"
_SQLITE_UNAVAILABLE = ("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_BUSY")


class StoreUnavailable(ConnectionError):
    """The state database cannot be reached or refuses writes; the message says which."""


class Database:
    """A connection to SQLite or Postgres that speaks `?` placeholders and reconnects after an outage."""

    def __init__(
        self, opener: Callable[[], Any], postgres: bool, clock: Callable[[], float] = time.monotonic
    ):
        """Open the first connection with `opener` (called again to reconnect).

        Raises:
            StoreUnavailable: when the database cannot be reached.
        """
        self._open, self.postgres, self._clock = opener, postgres, clock
        self.problem: str | None = None  # why the database is unusable, until a write or probe succeeds
        self._backoff, self._retry_at = RETRY_FIRST_S, 0.0
        self._connection: Any = None
        self._closed = False
        self._idle = True  # no statement since the last commit or rollback
        self._live()

    @property
    def connection(self) -> Any:
        """The open connection (reopened when the last one was lost)."""
        return self._live()

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement (again, once, on a new connection when it opened a transaction on a lost one)."""

        def run() -> None:
            with self._guard(writes=True) as connection:
                if self.postgres and _CREATE_IF_MISSING.match(sql):
                    # two processes creating one table at once: the second would fail on the
                    # catalogue's unique index, so they take turns until the first one commits
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_KEY,))
                connection.execute(self._sql(sql), params)

        self._first_again(run)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows.

        A query that opens a transaction runs again, once, on a new connection when the old one turns
        out lost (a restarted server, a terminated session): nothing was done on it that could be lost.
        Such a query also closes the transaction it opened, so the connection's next read is again one
        that may be retried.
        """
        first = self._idle
        rows = self._first_again(lambda: self._rows(sql, params))
        if first and self.postgres:  # a read outside a transaction leaves none open (Postgres opens one)
            self.rollback()
        return rows

    def _first_again(self, call: Callable[[], T]) -> T:
        """`call()`, and once more on a new connection when the old one turns out lost.

        Only for the first statement of a transaction: nothing was done on the lost connection that
        could be lost with it.
        """
        first = self._idle
        try:
            return call()
        except StoreUnavailable:
            if (
                not first
                or self._closed
                or (self.problem or "").startswith("the state database is read-only")
            ):
                raise
            self._retry_at = 0.0
            return call()

    def _rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._guard() as connection:
            return list(connection.execute(self._sql(sql), params).fetchall())

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows; COPY on Postgres, a prepared INSERT on SQLite."""
        names = ", ".join(f'"{c}"' for c in columns)
        with self._guard(writes=True) as connection:
            if self.postgres:
                with connection.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            marks = ", ".join("?" for _ in columns)
            connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

    def upsert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], key: str) -> None:
        """Insert rows, replacing those whose `key` already exists."""
        names = ", ".join(f'"{c}"' for c in columns)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in columns if c != key)
        marks = ", ".join("?" for _ in columns)
        sql = f'INSERT INTO {table} ({names}) VALUES ({marks}) ON CONFLICT ("{key}") DO UPDATE SET {updates}'
        for row in rows:
            self.execute(sql, row)

    def commit(self) -> None:
        """Make the writes so far durable."""
        with self._guard() as connection:  # a commit after reads proves nothing about writes
            connection.commit()
        self._idle = True

    def rollback(self) -> None:
        """Drop the writes since the last commit (Postgres needs it after a failed statement).

        A lost connection has nothing left to roll back: that is not an error.
        """
        if self._connection is None:
            self._idle = True
            return
        try:
            with self._guard() as connection:
                connection.rollback()
        except StoreUnavailable:
            pass
        self._idle = True

    def probe(self) -> str | None:
        """Check that the database takes writes, reconnecting if need be; None when it does, else why not.

        Only on a connection no statement sequence is using (callers hold its lock). Once the backoff
        since the last failure has not passed yet, the last problem is returned without trying.
        """
        try:
            with self._guard(writes=True) as connection:
                connection.rollback()
                if self.postgres:
                    if connection.execute("SHOW transaction_read_only").fetchone()[0] == "on":
                        raise StoreUnavailable("the state database is read-only (transaction_read_only)")
                else:  # rewrite a header field with its own value, never committed: refused when read-only
                    version = connection.execute("PRAGMA user_version").fetchone()[0]
                    connection.execute("BEGIN IMMEDIATE")
                    connection.execute(f"PRAGMA user_version = {int(version)}")
                connection.rollback()
        except StoreUnavailable as exc:
            return self.problem or str(exc)
        self._idle = True  # rolled back: the next statement opens a transaction, and may be retried
        return None

    def retry_now(self) -> None:
        """Let the next call reconnect at once, without waiting out the backoff (the database is back)."""
        self._retry_at = 0.0

    def close(self) -> None:
        """Close the connection, for good (no call reopens it)."""
        self._closed = True
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _live(self) -> Any:
        """The connection, reopened when lost and the backoff has passed."""
        if self._connection is not None:
            return self._connection
        if self._closed:
            raise StoreUnavailable("the state database connection was closed")
        if self._clock() < self._retry_at:
            raise StoreUnavailable(self.problem or "the state database is unreachable")
        try:
            self._connection, self._idle = self._open(), True
        except Exception as exc:
            self._fail(_reason(exc) or f"the state database is unreachable ({_first_line(exc)})")
            raise StoreUnavailable(self.problem) from exc
        return self._connection

    @contextmanager
    def _guard(self, writes: bool = False) -> Iterator[Any]:
        """Run a call on the connection; an outage drops it and raises `StoreUnavailable` instead."""
        connection = self._live()
        self._idle = False
        try:
            yield connection
        except StoreUnavailable as exc:
            self._fail(str(exc))
            raise
        except Exception as exc:
            reason = _reason(exc)
            if reason is None:
                raise
            self._fail(reason)
            raise StoreUnavailable(reason) from exc
        if writes:
            self.problem, self._backoff = None, RETRY_FIRST_S

    def _fail(self, reason: str) -> None:
        """Remember why, drop the connection, and wait longer before the next try."""
        self.problem = reason
        self._retry_at = self._clock() + self._backoff
        self._backoff = min(RETRY_MAX_S, self._backoff * 2)
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):  # a lost connection may fail to close: it is gone anyway
                connection.close()


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _reason(exc: BaseException) -> str | None:
    """The one-sentence reason when `exc` means the database is unusable (else None: a real error)."""
    if isinstance(exc, sqlite3.OperationalError):
        name = getattr(exc, "sqlite_errorname", "")
        if name.startswith("SQLITE_READONLY"):
            return f"the state database is read-only ({_first_line(exc)})"
        if name.startswith(_SQLITE_UNAVAILABLE):
            return f"the state database cannot be used ({_first_line(exc)})"
        return None
    module = type(exc).__module__
    if not module.startswith("psycopg"):
        return None
    import psycopg

    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return f"the state database is read-only ({_first_line(exc)})"
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        return f"the state database is unreachable ({_first_line(exc)})"
    return None


def connect(url: str) -> Database:
    """Connect to `postgresql://...`, or to a SQLite file (`sqlite:///path` or a plain path).

    Raises:
        StoreUnavailable: when the database cannot be reached.
    """
    if url.startswith(("postgresql://", "postgres://")):
        return Database(lambda: _postgres(url), postgres=True)
    path = url.removeprefix("sqlite:///")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return Database(lambda: _sqlite(path), postgres=False)


def _postgres(url: str) -> Any:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(url)
    # a name to tell the service's sessions apart in pg_stat_activity; a dead host fails in seconds
    defaults = {"application_name": "cxpredict", "connect_timeout": "5"}
    return psycopg.connect(make_conninfo(url, **{k: v for k, v in defaults.items() if k not in given}))


def _sqlite(path: str) -> sqlite3.Connection:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")  # readers (the service) never wait on a refresh
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection
