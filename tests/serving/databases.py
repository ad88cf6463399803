"""The databases the service state lives in, for tests: a SQLite file, the local Postgres, a private one.

Tests share the local Postgres with other suites running at the same time: each uses its own table
prefix or its own database, and only ever terminates the sessions it opened (by `application_name`).
A test that stops Postgres runs a private cluster of its own (`PrivateCluster`).
"""

from __future__ import annotations

import contextlib
import glob
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from features.online_db import Database, connect

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
KINDS = ["sqlite", "postgres"]


def database_url(kind: str, tmp_path: Path) -> str:
    return str(tmp_path / "cx.db") if kind == "sqlite" else POSTGRES


def unique_prefix() -> str:
    """A test's own table prefix, so tests sharing the Postgres database never meet."""
    return f"t{uuid.uuid4().hex[:12]}_"


def unique_name(stem: str = "cxtest") -> str:
    return f"{stem}_{uuid.uuid4().hex[:12]}"


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


def terminate(server: str, application_name: str) -> int:
    """End every session named `application_name` (only ours); how many there were."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (application_name,),
        ).fetchall()
    return len(rows)


@contextmanager
def own_database(server: str = POSTGRES) -> Iterator[str]:
    """A fresh database on `server` for one test (the service's tables keep their usual names)."""
    import psycopg

    name = unique_name("cxdb")
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield server.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class PrivateCluster:
    """A Postgres cluster of the test's own, in a temporary folder on a free port: it may be stopped."""

    def __init__(self, port: int) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries or shutil.which("runuser") is None:
            pytest.skip("a private Postgres cluster needs the PostgreSQL server binaries and runuser")
        # not under pytest's tmp_path: its folders are private to root, and Postgres runs as postgres
        self.folder = Path(tempfile.mkdtemp(prefix="cx-private-pg-"))
        self.bin, self.port, self.data = Path(binaries[-1]).parent, port, self.folder / "data"
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    @property
    def server(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, tool: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self.bin / tool), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def private_cluster(port: int) -> Iterator[PrivateCluster]:
    cluster = PrivateCluster(port)
    try:
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # stopped already
            cluster.stop()
        shutil.rmtree(cluster.folder, ignore_errors=True)


def stored_orders(url: str) -> set[str]:
    """The order ids of every delivery the service stored in the state database at `url`."""
    db = connect(url)
    try:
        return {str(order) for (order,) in db.query("SELECT order_id FROM cx_src_deliveries")}
    finally:
        db.close()
