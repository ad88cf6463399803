"""The generated SQL, unchanged, on an in-memory SQLite: the engine of one-customer refreshes.

DuckDB spends tens of milliseconds planning the whole catalogue's query, whatever the data size;
SQLite prepares it once, caches the statement, and then runs it over one customer's rows in about
a millisecond. The query text is the very one DuckDB runs: SQLite reads `CAST(x AS DOUBLE)`,
`FLOAT` and `VARCHAR` by its affinity rules, and the three functions it lacks are registered here
with DuckDB's semantics (NULLs skipped).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import pyarrow as pa

_SQL_TYPES = {pa.int64(): "INTEGER", pa.float64(): "REAL", pa.string(): "TEXT"}


class _ArgMax:
    """ARG_MAX(value, key): the value at the largest key, skipping NULL values and keys."""

    def __init__(self) -> None:
        self.value: Any = None
        self.key: Any = None

    def step(self, value: Any, key: Any) -> None:
        if value is not None and key is not None and (self.key is None or key > self.key):
            self.value, self.key = value, key

    def finalize(self) -> Any:
        return self.value


def _greatest(*values: Any) -> Any:
    return max((v for v in values if v is not None), default=None)


def _least(*values: Any) -> Any:
    return min((v for v in values if v is not None), default=None)


class SQLiteEngine:
    """An in-memory SQLite that keeps its connection, tables and prepared statements between runs."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:", check_same_thread=False, cached_statements=32)
        self.connection.create_aggregate("ARG_MAX", 2, _ArgMax)  # type: ignore[arg-type]
        self.connection.create_function("GREATEST", -1, _greatest, deterministic=True)
        self.connection.create_function("LEAST", -1, _least, deterministic=True)
        self._schemas: dict[str, pa.Schema] = {}

    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        """Run `sql` over `tables`; see `features.engine.Engine.run`."""
        columns, rows = self.query(sql, {name: _rows(table) for name, table in tables.items()}, tables)
        by_column = list(zip(*rows, strict=True)) if rows else [()] * len(columns)
        return pa.table({name: list(values) for name, values in zip(columns, by_column, strict=True)})

    def query(
        self, sql: str, rows: Mapping[str, list[tuple[Any, ...]]], schemas: Mapping[str, pa.Table | pa.Schema]
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Load plain rows into the tables named in `rows` (schemas from `schemas`) and run `sql`."""
        for name, values in rows.items():
            schema = schemas[name]
            self._load(name, schema if isinstance(schema, pa.Schema) else schema.schema, values)
        cursor = self.connection.execute(sql)
        return [d[0] for d in cursor.description], cursor.fetchall()

    def _load(self, name: str, schema: pa.Schema, rows: list[tuple[Any, ...]]) -> None:
        if self._schemas.get(name) != schema:
            columns = ", ".join(f'"{f.name}" {_SQL_TYPES.get(f.type, "TEXT")}' for f in schema)
            self.connection.execute(f"DROP TABLE IF EXISTS {name}")
            self.connection.execute(f"CREATE TABLE {name} ({columns})")
            self._schemas[name] = schema
        else:
            self.connection.execute(f"DELETE FROM {name}")
        marks = ", ".join("?" for _ in schema)
        self.connection.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)

    def close(self) -> None:
        """Close the in-memory database."""
        self.connection.close()


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))
