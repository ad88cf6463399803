"""The two databases the service state lives in, for tests: a SQLite file and the local Postgres."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from features.online_db import Database, connect

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = ["sqlite", "postgres"]


def database_url(kind: str, tmp_path: Path) -> str:
    return str(tmp_path / "cx.db") if kind == "sqlite" else POSTGRES


def unique_prefix() -> str:
    """A test's own table prefix, so tests sharing the Postgres database never meet."""
    return f"t{uuid.uuid4().hex[:12]}_"


@contextmanager
def opened(kind: str, tmp_path: Path) -> Iterator[Database]:
    db = connect(database_url(kind, tmp_path))
    try:
        yield db
    finally:
        db.rollback()
        db.close()


def drop_prefixed(db: Database, prefix: str) -> None:
    """Drop every table whose name starts with `prefix` (Postgres; SQLite files go with tmp_path)."""
    if not db.postgres:
        return
    db.rollback()
    names = db.query("SELECT tablename FROM pg_tables WHERE tablename LIKE ?", (prefix + "%",))
    for (name,) in names:
        db.execute(f"DROP TABLE IF EXISTS {name}")
    db.commit()
