"""Where the service keeps its state: one database per workspace, shared by every part of it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from features.online_db import Database, connect

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
