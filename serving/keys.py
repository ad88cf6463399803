"""API keys and the roles they carry; only a key's SHA-256 is ever stored.

A key is shown once, when it is created. Lookups go by hash, so the database never holds anything
that would let its reader call the service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from features.online_db import Database
from serving.state import checked_prefix

KEY_PREFIX = "cxk_"  # lets secret scanners and people recognise a leaked key
TRUST_SECONDS = 1.0  # how long a verified key is trusted before the database is asked again


class Role(StrEnum):
    """What a key may do."""

    AGENT = "agent"
    INGEST = "ingest"
    MANAGER = "manager"
    ADMIN = "admin"
    MONITOR = "monitor"  # reads /metrics, nothing else


# Which roles each role includes: a manager can do what an agent does, an admin everything.
_INCLUDES = {
    Role.AGENT: {Role.AGENT},
    Role.INGEST: {Role.INGEST},
    Role.MANAGER: {Role.MANAGER, Role.AGENT},
    Role.ADMIN: set(Role),
    Role.MONITOR: {Role.MONITOR},
}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's name and role."""

    name: str
    role: Role


def allows(role: Role, needed: Role) -> bool:
    """Whether a key of `role` may call an endpoint that needs `needed`."""
    return needed in _INCLUDES[role]


def hash_key(token: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class KeyStore:
    """Named keys with roles, in the service database."""

    def __init__(self, db: Database, prefix: str = "cx_") -> None:
        self.db, self.table = db, f"{checked_prefix(prefix)}keys"
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
            "key_hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL)"
        )
        db.commit()

    def create(self, role: Role, name: str) -> str:
        """Create a key named `name` and return it; this is the only time it is seen.

        Raises:
            ValueError: when the name is empty or already taken.
        """
        if not name.strip():
            raise ValueError("a key needs a name")
        if self.db.scalar(f"SELECT 1 FROM {self.table} WHERE name = ?", (name,)) is not None:
            raise ValueError(f"a key named {name!r} exists already: revoke it first")
        token = KEY_PREFIX + secrets.token_urlsafe(32)
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        self.db.execute(
            f"INSERT INTO {self.table} (name, role, key_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, Role(role).value, hash_key(token), created),
        )
        self.db.commit()
        return token

    def authenticate(self, token: str) -> Principal | None:
        """The principal a presented key belongs to, or None for an unknown or revoked key."""
        if not token.startswith(KEY_PREFIX):
            return None
        rows = self.db.query(f"SELECT name, role FROM {self.table} WHERE key_hash = ?", (hash_key(token),))
        self.db.commit()  # end the read: Postgres would otherwise keep a transaction open between requests
        return Principal(rows[0][0], Role(rows[0][1])) if rows else None

    def revoke(self, name: str) -> bool:
        """Delete the key named `name`; False when there was none."""
        found = self.db.scalar(f"SELECT 1 FROM {self.table} WHERE name = ?", (name,)) is not None
        self.db.execute(f"DELETE FROM {self.table} WHERE name = ?", (name,))
        self.db.commit()
        return found

    def list(self) -> list[dict[str, Any]]:
        """Every key's name, role and creation time (never its hash)."""
        rows = self.db.query(f"SELECT name, role, created_at FROM {self.table} ORDER BY name")
        return [{"name": name, "role": role, "created_at": created} for name, role, created in rows]

    def drop(self) -> None:
        """Remove the keys table."""
        self.db.execute(f"DROP TABLE IF EXISTS {self.table}")
        self.db.commit()


class VerifiedKeys:
    """`KeyStore.authenticate` with the keys verified in the last `trust_s` seconds kept in memory.

    A request then costs a hash and a dict lookup rather than a database query on the event loop. A
    key revoked (by the CLI, in another process) is refused within `trust_s`; a key unknown to the
    database is never remembered, so a key created a moment ago works at once. Safe across threads.
    """

    def __init__(
        self,
        store: KeyStore,
        trust_s: float = TRUST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        size: int = 10_000,
    ) -> None:
        self.store, self.trust_s, self.clock, self.size = store, trust_s, clock, size
        self._verified: dict[str, tuple[Principal, float]] = {}  # key hash -> (principal, trusted until)
        self._lock = threading.Lock()  # one connection runs one statement sequence at a time

    def authenticate(self, token: str) -> Principal | None:
        """The principal a presented key belongs to, or None for an unknown or revoked key."""
        digest, now = hash_key(token), self.clock()
        known = self._verified.get(digest)
        if known is not None and now < known[1]:
            return known[0]
        with self._lock:
            principal = self.store.authenticate(token)
            if principal is None:
                self._verified.pop(digest, None)
            else:
                if len(self._verified) >= self.size:
                    self._verified.clear()  # many keys in turn: start again rather than grow
                self._verified[digest] = (principal, now + self.trust_s)
        return principal
