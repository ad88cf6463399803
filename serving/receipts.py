"""Which event messages the service has stored already, by their idempotency key.

A message bus delivers at least once: a consumer that dies after the service stored a message but
before it acknowledged it gets the message again. Keyed events (deliveries, claims, tickets, calls)
would simply be replaced, but a verbatim has no key, so the service remembers the message's key
instead. The key is written on the store's write connection, in the same transaction as the events.
"""

from __future__ import annotations

from features.online_db import Database
from serving.state import LazyTable, checked_prefix

MAX_KEY_LENGTH = 200


class Receipts:
    """Idempotency keys of the event messages stored; callers commit (with the events)."""

    def __init__(self, db: Database, prefix: str = "cx_") -> None:
        self.db, self.table = db, f"{checked_prefix(prefix)}event_receipts"
        self._table = LazyTable(
            db,
            f"CREATE TABLE IF NOT EXISTS {self.table} (idempotency_key TEXT PRIMARY KEY, "
            "received_at DOUBLE PRECISION)",
        )

    def seen(self, key: str) -> bool:
        """Whether a message with this key was stored."""
        self._table.ensure()
        return self.db.scalar(f"SELECT 1 FROM {self.table} WHERE idempotency_key = ?", (key,)) is not None

    def record(self, key: str, at: float) -> None:
        """Remember the key; it becomes durable with the next commit, the one of the message's events."""
        self._table.ensure()
        self.db.execute(f"INSERT INTO {self.table} (idempotency_key, received_at) VALUES (?, ?)", (key, at))

    def count(self) -> int:
        """How many keys are remembered."""
        self._table.ensure()
        return int(self.db.scalar(f"SELECT COUNT(*) FROM {self.table}") or 0)
