"""The texts of a workspace in one frame: who wrote what, when, where; redacted on the way in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from models.text.progress import REDACTING, Report, chunks, quiet
from models.text.redact import redact_all

CORPUS_COLUMNS = ("source", "key", "customer_id", "at", "text")
REDACT_CHUNK = 1000


@dataclass(frozen=True)
class TextSource:
    """Where a contract table keeps its texts: time, text and (optional) row id columns."""

    table: str
    time_column: str
    text_column: str
    id_column: str


TEXT_SOURCES = (
    TextSource("tickets", "opened_at", "text", "ticket_id"),
    TextSource("calls", "started_at", "transcript", "call_id"),
    TextSource("verbatims", "posted_at", "text", "verbatim_id"),
    TextSource("surveys", "responded_at", "comment", "response_id"),
)


def _written(frame: pd.DataFrame, source: TextSource) -> pd.DataFrame:
    written = frame[frame[source.text_column].notna()]
    return written[written[source.text_column].astype(str).str.strip() != ""]


def _texts_of(written: pd.DataFrame, source: TextSource, redacted: list[str]) -> pd.DataFrame:
    keys = written[source.id_column] if source.id_column in written else written.index.to_series()
    return pd.DataFrame(
        {
            "source": source.table,
            "key": keys.astype(str).to_numpy(),
            "customer_id": written["customer_id"].astype(str).to_numpy(),
            "at": pd.to_datetime(written[source.time_column], utc=True).to_numpy(),
            "text": redacted,
        }
    )


def _redact(raw: list[str], report: Report) -> list[str]:
    return [t for part in chunks(raw, REDACT_CHUNK, REDACTING, report) for t in redact_all(part)]


def _has_texts(tables: Mapping[str, pd.DataFrame], source: TextSource) -> bool:
    """Whether the table is there with its (optional) text column and its time column."""
    frame = tables.get(source.table)
    return frame is not None and {source.text_column, source.time_column} <= set(frame.columns)


def collect_texts(tables: Mapping[str, pd.DataFrame], report: Report = quiet) -> pd.DataFrame:
    """Every non-empty text of the workspace's tables, redacted, ordered by time.

    Returns:
        One row per text with the columns of `CORPUS_COLUMNS` (a table without its optional text
        column adds none); `key` is the row's id (the row
        number where the table has no id column) and `text` is already redacted, so no later step
        ever holds the raw text. `report` hears the texts redacted so far.
    """
    sources = [s for s in TEXT_SOURCES if _has_texts(tables, s)]
    written = [_written(tables[s.table], s) for s in sources]
    raw = [str(t) for w, s in zip(written, sources, strict=True) for t in w[s.text_column]]
    redacted, start = _redact(raw, report), 0
    parts = []
    for rows, source in zip(written, sources, strict=True):
        parts.append(_texts_of(rows, source, redacted[start : start + len(rows)]))
        start += len(rows)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in CORPUS_COLUMNS})
    corpus = pd.concat(parts, ignore_index=True)
    corpus["at"] = pd.to_datetime(corpus["at"], utc=True)
    return corpus.sort_values(["at", "source", "key"], kind="stable").reset_index(drop=True)
