"""The durable actions outbox: deliveries wait in the service database until a receiver takes them.

A delivery is written in the same transaction as the decision that made it, so nothing decided is
lost when the process dies. Senders *claim* due deliveries for a lease (so two processes never send
the same one at once, and a crashed sender's claims expire), then record the outcome: delivered, or
failed with the next try after an exponential backoff, or dead after `max_attempts` tries.
Receivers see each delivery's idempotency key: delivery is at least once, and the key lets them
keep exactly one.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from features.online_db import Database
from serving.state import checked_prefix

STATUSES = ("queued", "failed", "delivered", "dead")  # failed: will be tried again
_COLUMNS = (
    "id", "idempotency_key", "rule", "kind", "team", "customer_id", "url", "payload", "status",
    "attempts", "created_at", "next_at", "delivered_at", "last_error", "claim", "claim_until",
)  # fmt: skip


@dataclass(frozen=True)
class DeliveryPolicy:
    """How often and how long deliveries are tried; every duration in seconds."""

    max_attempts: int = 12  # 1 s doubling to 300 s: about 25 minutes before a delivery is dead
    backoff_s: float = 1.0
    backoff_max_s: float = 300.0
    timeout_s: float = 5.0
    lease_s: float = 60.0
    poll_s: float = 0.5

    def __post_init__(self) -> None:
        if self.lease_s < 2 * self.timeout_s:
            raise ValueError(
                f"the outbox lease ({self.lease_s:g} s, CX_OUTBOX_LEASE_S) must be at least twice the "
                f"webhook timeout ({self.timeout_s:g} s, CX_OUTBOX_TIMEOUT_S): a delivery still waiting "
                "for its receiver when the lease ends would be sent a second time"
            )

    @property
    def batch(self) -> int:
        """How many deliveries one claim takes: few enough to be sent well within the lease."""
        return max(1, int(self.lease_s // (2 * self.timeout_s)))

    def delay(self, attempts: int) -> float:
        """The wait after the `attempts`-th failed try."""
        return float(min(self.backoff_max_s, self.backoff_s * 2 ** max(0, attempts - 1)))


def load_delivery_policy(environ: Mapping[str, str]) -> DeliveryPolicy:
    """The default policy changed by the `CX_OUTBOX_*` variables (`MAX_ATTEMPTS`, `BACKOFF_S`, ...).

    Raises:
        ValueError: when a variable is not a positive number, or the lease is shorter than twice the timeout.
    """
    names = {"max_attempts": "CX_OUTBOX_MAX_ATTEMPTS", "backoff_s": "CX_OUTBOX_BACKOFF_S"}
    names |= {"backoff_max_s": "CX_OUTBOX_BACKOFF_MAX_S", "lease_s": "CX_OUTBOX_LEASE_S"}
    names |= {"timeout_s": "CX_OUTBOX_TIMEOUT_S"}
    changes: dict[str, Any] = {}
    for field, variable in names.items():
        if variable in environ:
            try:
                value = float(environ[variable])
            except ValueError:
                value = math.nan
            if not value > 0:
                raise ValueError(f"{variable}={environ[variable]!r}: must be a positive number")
            changes[field] = int(value) if field == "max_attempts" else value
    return DeliveryPolicy(**changes)


@dataclass(frozen=True)
class Delivery:
    """A claimed delivery: what to send where, and under which claim."""

    id: str
    idempotency_key: str
    url: str
    body: bytes
    attempts: int
    claim: str


class Outbox:
    """The outbox table and its state changes; callers commit."""

    def __init__(self, db: Database, prefix: str = "cx_", policy: DeliveryPolicy | None = None) -> None:
        self.db, self.table = db, f"{checked_prefix(prefix)}outbox"
        self.policy = policy or DeliveryPolicy()
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (id TEXT PRIMARY KEY, idempotency_key TEXT UNIQUE, "
            "rule TEXT, kind TEXT, team TEXT, customer_id TEXT, url TEXT, payload TEXT, status TEXT, "
            "attempts INTEGER, created_at DOUBLE PRECISION, next_at DOUBLE PRECISION, "
            "delivered_at DOUBLE PRECISION, last_error TEXT, claim TEXT, claim_until DOUBLE PRECISION)"
        )
        db.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_due ON {self.table} (status, next_at)")
        db.execute(f"CREATE INDEX IF NOT EXISTS {self.table}_claim ON {self.table} (claim)")
        db.commit()

    def enqueue(self, key: str, action: Mapping[str, Any], payload: Mapping[str, Any], now: float) -> str:
        """Queue a delivery of `payload` to `action["url"]`; its id (an existing one for a known key)."""
        row = {c: None for c in _COLUMNS} | {k: action.get(k) for k in ("rule", "kind", "team", "url")}
        row |= {"id": uuid.uuid4().hex, "idempotency_key": key, "customer_id": action.get("customer_id")}
        row |= {"payload": json.dumps(_finite(payload), sort_keys=True, default=str), "status": "queued"}
        row |= {"attempts": 0, "created_at": now, "next_at": now}
        marks = ", ".join("?" for _ in _COLUMNS)
        self.db.execute(
            f"INSERT INTO {self.table} ({', '.join(_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (idempotency_key) DO NOTHING",  # the same decision made twice is queued once
            list(row.values()),
        )
        return str(self.db.scalar(f"SELECT id FROM {self.table} WHERE idempotency_key = ?", (key,)))

    def claim(self, now: float, limit: int | None = None) -> list[Delivery]:
        """Claim up to `limit` (default: the policy's batch) due deliveries for one lease, oldest first."""
        limit = limit or self.policy.batch
        token, free = (
            uuid.uuid4().hex,
            "status IN ('queued', 'failed') AND (claim_until IS NULL OR claim_until < ?)",
        )
        # Postgres: rows another process is claiming are skipped, not waited for (SQLite: one writer)
        skip = " FOR UPDATE SKIP LOCKED" if self.db.postgres else ""
        self.db.execute(
            f"UPDATE {self.table} SET claim = ?, claim_until = ? WHERE {free} AND id IN "
            f"(SELECT id FROM {self.table} WHERE {free} AND next_at <= ? ORDER BY next_at LIMIT ?{skip})",
            (token, now + self.policy.lease_s, now, now, now, limit),
        )
        self.db.commit()
        rows = self.db.query(
            f"SELECT id, idempotency_key, url, payload, attempts FROM {self.table} WHERE claim = ?", (token,)
        )
        self.db.commit()  # end the read: an idle open transaction would hold back Postgres (DDL, vacuum)
        return [
            Delivery(i, key, url, payload.encode(), attempts, token)
            for i, key, url, payload, attempts in rows
        ]

    def delivered(self, delivery: Delivery, now: float) -> None:
        """Record a delivery the receiver accepted."""
        self.db.execute(
            f"UPDATE {self.table} SET status = 'delivered', attempts = ?, delivered_at = ?, "
            "last_error = NULL, claim = NULL, claim_until = NULL WHERE id = ? AND claim = ?",
            (delivery.attempts + 1, now, delivery.id, delivery.claim),
        )

    def failed(self, delivery: Delivery, error: str, now: float) -> str:
        """Record a failed try: tried again after a backoff, or dead after the last try; the new status."""
        attempts = delivery.attempts + 1
        status = "dead" if attempts >= self.policy.max_attempts else "failed"
        self.db.execute(
            f"UPDATE {self.table} SET status = ?, attempts = ?, next_at = ?, last_error = ?, claim = NULL, "
            "claim_until = NULL WHERE id = ? AND claim = ?",
            (status, attempts, now + self.policy.delay(attempts), error[:500], delivery.id, delivery.claim),
        )
        return status

    def requeue_dead(self, now: float) -> int:
        """Give every dead delivery a fresh set of tries; how many there were."""
        count = int(self.db.scalar(f"SELECT COUNT(*) FROM {self.table} WHERE status = 'dead'") or 0)
        self.db.execute(
            f"UPDATE {self.table} SET status = 'queued', attempts = 0, next_at = ? WHERE status = 'dead'",
            (now,),
        )
        return count

    def purge(self, before: float) -> int:
        """Forget deliveries that were delivered before `before`; how many (dead ones stay to be seen)."""
        where = f"FROM {self.table} WHERE status = 'delivered' AND delivered_at < ?"
        count = int(self.db.scalar(f"SELECT COUNT(*) {where}", (before,)) or 0)
        self.db.execute(f"DELETE {where}", (before,))
        return count

    def next_due(self) -> float | None:
        """When the next delivery is due, if any is waiting."""
        due = self.db.scalar(f"SELECT MIN(next_at) FROM {self.table} WHERE status IN ('queued', 'failed')")
        return None if due is None else float(due)

    def list(self, status: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """The latest deliveries, newest first, optionally of one status."""
        shown = [c for c in _COLUMNS if c not in ("payload", "claim", "claim_until")]
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.db.query(
            f"SELECT {', '.join(shown)} FROM {self.table} {where} ORDER BY created_at DESC LIMIT ?",
            [*params, limit],
        )
        return [dict(zip(shown, row, strict=True)) for row in rows]

    def counters(self) -> dict[str, int]:
        """How many deliveries are in each status."""
        rows = self.db.query(f"SELECT status, COUNT(*) FROM {self.table} GROUP BY status")
        return {status: 0 for status in STATUSES} | {str(s): int(n) for s, n in rows}

    def counters_by_rule(self) -> dict[str, dict[str, int]]:
        """Rule -> how many of its deliveries are in each status."""
        found: dict[str, dict[str, int]] = {}
        for rule, status, n in self.db.query(
            f"SELECT rule, status, COUNT(*) FROM {self.table} GROUP BY rule, status"
        ):
            found.setdefault(str(rule), {})[str(status)] = int(n)
        return found

    def drop(self) -> None:
        """Remove the outbox table."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.db.commit()


def _finite(value: Any) -> Any:
    """`value` with NaN and infinities as None: JSON has no such numbers and receivers reject them."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
