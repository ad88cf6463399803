"""The redacted texts of the events the service receives (transcripts, ticket texts, comments).

The feature tables keep only what the features read, so the texts themselves, already redacted by
`POST /events`, are kept here for the customer's timeline.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from features.online_db import Database
from serving.state import LazyTable, checked_prefix

# table -> (the column saying when, the column holding the text)
TEXTS = {
    "calls": ("started_at", "transcript"),
    "tickets": ("opened_at", "text"),
    "verbatims": ("posted_at", "text"),
    "warranty_claims": ("filed_at", "reason"),
}


class TextLog:
    """Redacted event texts by customer, table and event time (microseconds)."""

    def __init__(self, db: Database, prefix: str = "cx_") -> None:
        self.db, self.table = db, f"{checked_prefix(prefix)}texts"
        self._lock = threading.Lock()  # one connection: one statement sequence at a time
        self._table = LazyTable(
            db,
            f"CREATE TABLE IF NOT EXISTS {self.table} (customer_id TEXT, source TEXT, event_at BIGINT, "
            "text TEXT, PRIMARY KEY (customer_id, source, event_at))",
        )

    def keep(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Keep the texts of redacted event rows (a later text at the same moment replaces it)."""
        rows = [
            (str(row["customer_id"]), table, _micros(row[TEXTS[table][0]]), row[TEXTS[table][1]])
            for table, batch in tables.items()
            if table in TEXTS
            for row in batch
            if isinstance(row.get(TEXTS[table][1]), str) and isinstance(row.get(TEXTS[table][0]), dt.datetime)
        ]
        if rows:
            with self._lock:
                self._table.ensure()
                for row in rows:
                    self.db.execute(
                        f"INSERT INTO {self.table} (customer_id, source, event_at, text) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (customer_id, source, event_at) DO UPDATE SET text = excluded.text",
                        row,
                    )
                self.db.commit()

    def of(self, customer_id: str) -> dict[tuple[str, int], str]:
        """(table, event time in microseconds) -> the redacted text, for one customer."""
        with self._lock:
            self._table.ensure()
            rows = self.db.query(
                f"SELECT source, event_at, text FROM {self.table} WHERE customer_id = ?", (customer_id,)
            )
            self.db.commit()
        return {(str(source), int(at)): str(text) for source, at, text in rows}


def _micros(moment: dt.datetime) -> int:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return int(aware.timestamp() * 1_000_000)
