"""The texts of a customer's past events, read from the workspace's own files and redacted on the way.

The online store keeps only what the features read, and the text log (`serving/ui/texts.py`) only
what the service received since it started. The transcripts, ticket texts, comments and claim
reasons from before are in the workspace's tables: when a customer's page opens, that customer's
rows are read from each of them (DuckDB, filtering on the id), their times parsed by the contract's
rules as the store's were, and every text redacted before it leaves this module.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd

from features.io import find_tables
from features.schemas import parse_timestamps
from serving.redaction import printable
from serving.ui.texts import TEXTS

log = logging.getLogger(__name__)
_EPOCH = pd.Timestamp(0, tz="UTC")


def past_texts(workspace: Path, customer_id: str) -> dict[tuple[str, int], str]:
    """(table, event time in microseconds) -> the redacted text, from the workspace's files.

    A table without its text column, or a file DuckDB cannot read, gives nothing (the timeline shows
    the event without its text).
    """
    files, _ = find_tables(workspace)
    found: dict[tuple[str, int], str] = {}
    with duckdb.connect() as db:
        for table, (when, column) in TEXTS.items():
            if table not in files:
                continue
            try:
                rows = _rows(db, files[table], customer_id, when, column)
            except duckdb.Error as exc:
                log.debug("no past texts from %s: %s", files[table].name, exc)
                continue
            found |= {(table, at): printable(text) for at, text in rows}
    return found


def _rows(
    db: duckdb.DuckDBPyConnection, path: Path, customer_id: str, when: str, column: str
) -> list[tuple[int, str]]:
    """The customer's (event time in microseconds, text) pairs of one table file."""
    source = (
        "read_parquet(?)" if path.suffix == ".parquet" else "read_csv(?, all_varchar = true, header = true)"
    )
    frame = db.execute(
        f'SELECT "{when}" AS at, "{column}" AS text FROM {source} '
        f'WHERE trim(CAST(customer_id AS VARCHAR)) = ? AND "{column}" IS NOT NULL',
        [str(path), customer_id],
    ).df()
    times = parse_timestamps(frame["at"])
    micros = (times - _EPOCH) // pd.Timedelta(microseconds=1)
    return [(int(at), str(text)) for at, text in zip(micros, frame["text"], strict=True) if pd.notna(at)]
