"""API keys and the roles they carry; only a key's SHA-256 is ever stored.

A key is shown once, when it is created. Lookups go by hash, so the database never holds anything
that would let its reader call the service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from features.online_db import Database
from serving.state import checked_prefix

KEY_PREFIX = "cxk_"  # lets secret scanners and people recognise a leaked key


class Role(StrEnum):
    """What a key may do."""

    AGENT = "agent"
    INGEST = "ingest"
    MANAGER = "manager"
    ADMIN = "admin"


# Which roles each role includes: a manager can do what an agent does, an admin everything.
_INCLUDES = {
    Role.AGENT: {Role.AGENT},
    Role.INGEST: {Role.INGEST},
    Role.MANAGER: {Role.MANAGER, Role.AGENT},
    Role.ADMIN: set(Role),
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
