"""Where the service keeps its state: one database per workspace, shared by every part of it."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from features.online_db import Database, StoreUnavailable, connect

# The variable features.online reads too; importing it from there would load pandas and DuckDB into
# every process that only needs the service database (the CLI's admin commands, delivery workers).
URL_VARIABLE = "CX_DATABASE_URL"
SERVICE_FOLDER = "_service"
DATABASE_FILE = "cx.db"


def database_url(workspace: Path, create: bool = True) -> str:
    """`CX_DATABASE_URL` when set, else the SQLite file `WORKSPACE/_service/cx.db`.

    Args:
        workspace: the workspace folder.
        create: create the `_service` folder when it is missing.
    """
    url = os.environ.get(URL_VARIABLE)
    if url:
        return url
    folder = Path(workspace) / SERVICE_FOLDER
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return str(folder / DATABASE_FILE)


def open_database(workspace: Path) -> Database:
    """A new connection to the workspace's service database."""
    return connect(database_url(workspace))


def checked_prefix(prefix: str) -> str:
    """A table prefix safe to paste into SQL: lower-case letters, digits and `_`.

    Raises:
        ValueError: for anything else.
    """
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", prefix):
        raise ValueError(f"table prefix {prefix!r}: use lower-case letters, digits and _")
    return prefix


class LazyTable:
    """A table created on first use rather than at start.

    A service that starts on a read-only or unreachable state database must start and say why it is
    not ready, not crash while creating a table; the first read or write that needs the table
    creates it once the database can take it (and raises `StoreUnavailable` until then).
    """

    def __init__(self, db: Database, create_sql: str) -> None:
        self.db, self._create_sql, self._created = db, create_sql, False
        self.ensure(quiet=True)

    def ensure(self, quiet: bool = False) -> None:
        """Create the table if it is not known to exist.

        Args:
            quiet: swallow `StoreUnavailable` (at start); otherwise it propagates to the caller.
        """
        if self._created:
            return
        try:
            self.db.execute(self._create_sql)
            self.db.commit()
        except StoreUnavailable:
            if not quiet:
                raise
            return
        self._created = True


def lock_key(name: str) -> int:
    """A Postgres advisory lock key (a signed 64-bit number) for `name`."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_locks(db: Database, names: Iterable[str]) -> Iterator[None]:
    """Hold Postgres advisory locks on `names` for the block, so replicas take turns; nothing on SQLite.

    On SQLite one process serves a workspace (`serving.server.hold_state`) and its own locks suffice.
    The locks are taken in one order, so two processes that want several never wait on each other.
    """
    if not db.postgres:
        yield
        return
    keys = sorted({lock_key(name) for name in names})
    for key in keys:
        db.query("SELECT pg_advisory_lock(?)", (key,))
    try:
        yield
    finally:
        with contextlib.suppress(StoreUnavailable):  # a lost session has released its locks already
            for key in keys:
                db.query("SELECT pg_advisory_unlock(?)", (key,))
