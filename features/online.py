"""The online store: every customer's latest feature row, refreshed one customer at a time.

The store keeps the customers' events beside their feature rows, so a refresh reads one
customer's history plus the new event and runs the *same* generated SQL as the batch engine on a
spine of that one customer (on a persistent in-process DuckDB). SQLite by default; Postgres when
the URL (or `CX_DATABASE_URL`) is `postgresql://...`.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from features.catalogue import Catalogue, Source
from features.config import WorkspaceConfig
from features.contract import TABLES
from features.discover import build_catalogue
from features.engine import get_engine, prepare_tables, source_arrow, timestamp_micros, to_micros
from features.engine_sqlite import SQLiteEngine
from features.event_rows import plain_rows
from features.online_db import Database, connect
from features.sql import SPINE, feature_sql, source_table
from features.training_sets import build_scoring_set, default_as_of
from features.validation import to_typed

URL_VARIABLE = "CX_DATABASE_URL"
_SQL_TYPES = {"time": "BIGINT", "number": "DOUBLE PRECISION", "text": "TEXT"}
_ARROW_TYPES = {"time": pa.int64(), "number": pa.float64(), "text": pa.string()}
_NORMALISED = {"surveys"}
_KEY_CHUNK = 500  # bound parameters per lookup: under SQLite's limit


class KeyTaken(ValueError):
    """An event's key (an order, claim, ticket or call id) already belongs to another customer."""


# `to_typed` rewrites their metric names: always through pandas


class OnlineStore:
    """Latest feature rows and the events behind them, in SQLite or Postgres."""

    def __init__(self, db: Database, prefix: str = "cx_") -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", prefix):
            raise ValueError(f"table prefix {prefix!r}: use lower-case letters, digits and _")
        self.db, self.prefix = db, prefix
        self._catalogue: Catalogue | None = None
        self._sql = ""
        self._engine = SQLiteEngine()

    @classmethod
    def open(cls, url: str | Path | None = None, prefix: str = "cx_") -> OnlineStore:
        """Open (creating if needed) the store at `url`: a SQLite file path or `postgresql://...`.

        Without `url`, `CX_DATABASE_URL` is used, else `online.db` in the current folder.
        """
        store = cls(connect(str(url or os.environ.get(URL_VARIABLE) or "online.db")), prefix)
        store.db.execute(f"CREATE TABLE IF NOT EXISTS {prefix}meta (key TEXT PRIMARY KEY, value TEXT)")
        store.db.execute(
            f"CREATE TABLE IF NOT EXISTS {prefix}features "
            "(customer_id TEXT PRIMARY KEY, as_of BIGINT, features TEXT)"
        )
        store.db.commit()
        return store

    @property
    def catalogue(self) -> Catalogue:
        """The catalogue the store was materialised with."""
        if self._catalogue is None:
            text = self.db.scalar(f"SELECT value FROM {self.prefix}meta WHERE key = ?", ("catalogue",))
            if text is None:
                raise LookupError("the online store is empty: materialise it first")
            self._use(Catalogue.from_json(text))
        assert self._catalogue is not None
        return self._catalogue

    def materialise(
        self,
        tables: Mapping[str, pd.DataFrame],
        config: WorkspaceConfig,
        as_of: pd.Timestamp | None = None,
        catalogue: Catalogue | None = None,
        engine: str = "duckdb",
    ) -> int:
        """Replace the store's events and feature rows with the batch result at `as_of`.

        Returns:
            the number of customers written.
        """
        catalogue = catalogue if catalogue is not None else build_catalogue(dict(tables), config)
        self._use(catalogue)
        self.db.upsert(f"{self.prefix}meta", ("key", "value"), [("catalogue", catalogue.to_json())], "key")
        prepared = prepare_tables(tables, catalogue)
        for source in catalogue.sources:
            self._create_events(source)
            table = prepared.get(source_table(source.name))
            if table is not None:
                self.db.insert(self._events(source_table(source.name)), table.column_names, _rows(table))
        moment = default_as_of(tables) if as_of is None else as_of
        scores = build_scoring_set(tables, config, moment, get_engine(engine), catalogue)
        self.db.execute(f"DELETE FROM {self.prefix}features")
        self.db.insert(
            f"{self.prefix}features", ("customer_id", "as_of", "features"), self._feature_rows(scores)
        )
        self.db.commit()
        return len(scores)

    def append_events(
        self, table: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]], commit: bool = True
    ) -> int:
        """Store new events of `table` (contract form); a row with a known key replaces the old one.

        A key belongs to the customer who first sent it: a new version of an event replaces only
        that customer's row, and a key another customer already holds is refused. With `commit`
        off the rows wait for the caller's commit (several tables, or a receipt, in one transaction).

        Returns:
            the number of rows stored.

        Raises:
            KeyTaken: a row's key belongs to another customer (nothing is stored then).
        """
        columns, stored = self._stored_rows(table, rows)
        name = self._events(source_table(table))
        key = self.catalogue.source(table).key
        if key is not None and key in columns:
            at = columns.index(key)
            self._check_owners(table, key, [(row[at], row[0]) for row in stored])
            for value, customer in dict.fromkeys((row[at], row[0]) for row in stored if row[at] is not None):
                self.db.execute(
                    f'DELETE FROM {name} WHERE "{key}" = ? AND customer_id = ?', (value, customer)
                )
        self.db.insert(name, columns, stored)
        if commit:
            self.db.commit()
        return len(stored)

    def check_keys(self, table: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> None:
        """Refuse rows whose event key another customer holds (stored, or earlier in `rows`).

        Raises:
            KeyTaken: naming the table, key column and row, never the value.
        """
        columns, stored = self._stored_rows(table, rows)
        key = self.catalogue.source(table).key
        if key is not None and key in columns:
            at = columns.index(key)
            self._check_owners(table, key, [(row[at], row[0]) for row in stored])

    def _stored_rows(
        self, table: str, rows: pd.DataFrame | Sequence[Mapping[str, Any]]
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names and the rows of `table` as the store keeps them."""
        source = self.catalogue.source(table)
        stored = None if isinstance(rows, pd.DataFrame) or table in _NORMALISED else plain_rows(rows, source)
        if stored is None:
            frame = pd.DataFrame(rows)
            frame = to_typed(TABLES[table], frame) if table in TABLES else frame
            stored = _rows(source_arrow(frame, source.columns))
        return ["customer_id", *(c.name for c in source.columns)], stored

    def _check_owners(self, table: str, key: str, pairs: Sequence[tuple[Any, Any]]) -> None:
        owners: dict[Any, Any] = {}
        for value, customer in pairs:
            if value is not None:
                owners.setdefault(value, customer)
        name = self._events(source_table(table))
        values = list(owners)
        for lo in range(0, len(values), _KEY_CHUNK):
            chunk = values[lo : lo + _KEY_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = f'SELECT DISTINCT "{key}", customer_id FROM {name} WHERE "{key}" IN ({marks})'
            for value, customer in self.db.query(sql, chunk):
                if owners[value] != customer:
                    owners[value] = None  # held by someone else: refused below, whoever sent it
        for row, (value, customer) in enumerate(pairs):
            if value is not None and owners[value] != customer:
                raise KeyTaken(f"{table} row {row}: its {key} belongs to another customer")

    def refresh(self, customer_id: str, as_of: pd.Timestamp | None = None) -> dict[str, Any]:
        """Recompute one customer's features at `as_of` (default: now) from the stored events."""
        micros = timestamp_micros(pd.Timestamp.now(tz="UTC") if as_of is None else as_of)
        features = self.features_at(customer_id, [micros])[0]
        row = (customer_id, micros, json.dumps(features))
        self.db.upsert(f"{self.prefix}features", ("customer_id", "as_of", "features"), [row], "customer_id")
        self.db.commit()
        return features

    def features_at(self, customer_id: str, moments: Sequence[int]) -> list[dict[str, Any]]:
        """One customer's features at each moment (microseconds), from the stored events; nothing written.

        Events after a moment are not seen at it, as in training: the rows say what the models
        would have been shown then.
        """
        return self.features_of([(customer_id, m) for m in moments])

    def features_of(self, pairs: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
        """The features of each (customer, moment in microseconds), in order, in one engine query."""
        ids = list(dict.fromkeys(cid for cid, _ in pairs))
        rows = {source_table(s.name): self._rows_of(s, ids) for s in self.catalogue.sources}
        rows[SPINE] = [(i, cid, int(m)) for i, (cid, m) in enumerate(pairs)]
        columns, result = self._engine.query(self._sql, rows, self._schemas)
        ordered = sorted(
            (dict(zip(columns, values, strict=True)) for values in result), key=lambda r: r["_row"]
        )
        return [{f.name: _plain_value(r[f.name], f.dtype) for f in self.catalogue.features} for r in ordered]

    def get(self, customer_id: str) -> dict[str, Any] | None:
        """The customer's latest feature row, or None for a customer the store has never seen."""
        row = self.get_row(customer_id)
        return None if row is None else row[1]

    def as_of(self, customer_id: str) -> int | None:
        """When the customer's row was computed (microseconds since the epoch); None when unknown."""
        value = self.db.scalar(
            f"SELECT as_of FROM {self.prefix}features WHERE customer_id = ?", (customer_id,)
        )
        return None if value is None else int(value)

    def known(self, customer_ids: Sequence[str]) -> set[str]:
        """Those of `customer_ids` the store has a feature row for (the customers it was built with)."""
        ids, found = list(dict.fromkeys(customer_ids)), set[str]()
        for lo in range(0, len(ids), _KEY_CHUNK):
            chunk = ids[lo : lo + _KEY_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = f"SELECT customer_id FROM {self.prefix}features WHERE customer_id IN ({marks})"
            found.update(str(row[0]) for row in self.db.query(sql, chunk))
        return found

    def customer_ids(self) -> list[str]:
        """Every customer with a feature row, in id order."""
        return [
            str(row[0]) for row in self.db.query(f"SELECT customer_id FROM {self.prefix}features ORDER BY 1")
        ]

    def history(self, customer_id: str) -> list[tuple[str, int, dict[str, Any]]]:
        """A customer's stored events, oldest first: (table, when in microseconds, row with ISO times)."""
        found = []
        for source in self.catalogue.sources:
            times = {c.name for c in source.columns if c.kind == "time"}
            names = ["customer_id", *(c.name for c in source.columns)]
            for values in self._customer_rows(source, customer_id):
                row = dict(zip(names, values, strict=True))
                at = int(row.get(source.time) or 0)  # customers may come without `created_at`
                found.append((source.name, at, {k: _iso(v) if k in times else v for k, v in row.items()}))
        return sorted(found, key=lambda event: event[1])

    def get_row(self, customer_id: str) -> tuple[int, dict[str, Any]] | None:
        """The customer's latest feature row and its `as_of` (microseconds since the epoch), or None."""
        rows = self.db.query(
            f"SELECT as_of, features FROM {self.prefix}features WHERE customer_id = ?", (customer_id,)
        )
        return None if not rows else (int(rows[0][0]), dict(json.loads(rows[0][1])))

    def drop(self) -> None:
        """Remove every table of this store (its prefix) from the database."""
        names = [self._events(source_table(s.name)) for s in self._known_sources()]
        for name in [*names, f"{self.prefix}features", f"{self.prefix}meta"]:
            self.db.execute(f"DROP TABLE IF EXISTS {name}")
        self.db.commit()

    def close(self) -> None:
        """Close the database and the in-process engine."""
        self._engine.close()
        self.db.close()

    def _use(self, catalogue: Catalogue) -> None:
        self._catalogue, self._sql = catalogue, feature_sql(catalogue)
        self._columns = {s.name: ", ".join(f'"{c.name}"' for c in s.columns) for s in catalogue.sources}
        self._schemas = {source_table(s.name): _schema(s) for s in catalogue.sources}
        self._schemas[SPINE] = pa.schema(
            [("_row", pa.int64()), ("customer_id", pa.string()), ("as_of", pa.int64())]
        )

    def _known_sources(self) -> tuple[Source, ...]:
        try:
            return self.catalogue.sources
        except LookupError:
            return ()

    def _events(self, table: str) -> str:
        return f"{self.prefix}{table}"

    def _create_events(self, source: Source) -> None:
        name = self._events(source_table(source.name))
        self.db.execute(f"DROP TABLE IF EXISTS {name}")
        columns = ", ".join(f'"{c.name}" {_SQL_TYPES[c.kind]}' for c in source.columns)
        self.db.execute(f"CREATE TABLE {name} (customer_id TEXT, {columns})")
        self.db.execute(f"CREATE INDEX {name}_customer ON {name} (customer_id)")
        if source.key is not None:  # a new version of an event replaces the old one by its key
            self.db.execute(f'CREATE INDEX {name}_key ON {name} ("{source.key}")')

    def _customer_rows(self, source: Source, customer_id: str) -> list[tuple[Any, ...]]:
        name = self._events(source_table(source.name))
        sql = f"SELECT customer_id, {self._columns[source.name]} FROM {name} WHERE customer_id = ?"
        return self.db.query(sql, (customer_id,))

    def _rows_of(self, source: Source, customer_ids: Sequence[str]) -> list[tuple[Any, ...]]:
        if len(customer_ids) == 1:
            return self._customer_rows(source, customer_ids[0])
        name, found = self._events(source_table(source.name)), []
        for lo in range(0, len(customer_ids), _KEY_CHUNK):
            chunk = customer_ids[lo : lo + _KEY_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            sql = (
                f"SELECT customer_id, {self._columns[source.name]} FROM {name} WHERE customer_id IN ({marks})"
            )
            found += self.db.query(sql, chunk)
        return found

    def _feature_rows(self, scores: pd.DataFrame) -> list[tuple[str, int, str]]:
        names = [f.name for f in self.catalogue.features]
        values = [_plain(scores[name]) for name in names]  # column-wise: a million rows stay fast
        micros = to_micros(scores["as_of"]).tolist()
        return [
            (str(cid), m, json.dumps(dict(zip(names, row, strict=True))))
            for cid, m, row in zip(scores["customer_id"], micros, zip(*values, strict=True), strict=True)
        ]


def _iso(micros: Any) -> str | None:
    return None if micros is None else pd.Timestamp(int(micros), unit="us", tz="UTC").isoformat()


def row_dict(frame: pd.DataFrame, catalogue: Catalogue) -> dict[str, Any]:
    """The first row of a feature frame as plain JSON values: floats, strings, None for unknown."""
    return {f.name: _plain(frame[f.name].iloc[:1])[0] for f in catalogue.features}


def _plain_value(value: Any, dtype: str) -> Any:
    """One engine value as `_plain` gives it: 4-byte float precision, like the batch frames."""
    if value is None:
        return None
    return str(value) if dtype == "category" else float(np.float32(value))


def _schema(source: Source) -> pa.Schema:
    return pa.schema(
        [("customer_id", pa.string()), *((c.name, _ARROW_TYPES[c.kind]) for c in source.columns)]
    )


def _plain(values: pd.Series) -> list[Any]:
    """Python floats / strings with None for missing, as JSON stores them."""
    if isinstance(values.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(values):
        return [None if pd.isna(v) else str(v) for v in values]
    return [None if v != v else v for v in values.astype("float64").tolist()]  # NaN is not equal to itself


def _rows(table: pa.Table) -> list[tuple[Any, ...]]:
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))
