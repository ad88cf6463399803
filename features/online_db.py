"""The two databases an online store lives in, behind one small interface (SQLite and Postgres).

Statements are written once with `?` placeholders and portable SQL (`ON CONFLICT ... DO UPDATE`
works in both); only bulk loading differs, since Postgres loads fastest through COPY.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class Database:
    """A connection to SQLite or Postgres that speaks `?` placeholders."""

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection, self.postgres = connection, postgres

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Run one statement."""
        self.connection.execute(self._sql(sql), params)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a query and return its rows."""
        return list(self.connection.execute(self._sql(sql), params).fetchall())

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def insert(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        """Append rows; COPY on Postgres, a prepared INSERT on SQLite."""
        names = ", ".join(f'"{c}"' for c in columns)
        if self.postgres:
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join("?" for _ in columns)
        self.connection.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)

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
        self.connection.commit()

    def rollback(self) -> None:
        """Drop the writes since the last commit (Postgres needs it after a failed statement)."""
        self.connection.rollback()

    def close(self) -> None:
        """Close the connection."""
        self.connection.close()


def connect(url: str) -> Database:
    """Connect to `postgresql://...`, or to a SQLite file (`sqlite:///path` or a plain path)."""
    if url.startswith(("postgresql://", "postgres://")):
        import psycopg

        return Database(psycopg.connect(url), postgres=True)
    path = url.removeprefix("sqlite:///")
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")  # readers (the service) never wait on a refresh
    connection.execute("PRAGMA synchronous=NORMAL")
    return Database(connection, postgres=False)
