"""Personal data kept out of what the service writes: stored free text and log lines are redacted.

Free text (survey comments, verbatims, ticket texts, call transcripts, reasons) is redacted before
it is stored or scored, so neither the state database nor its write-ahead log ever holds it raw.
Log records pass the same redaction, and text that cannot be written as UTF-8 (a lone surrogate) is
escaped rather than written raw.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from models.text.redact import redact

FREE_TEXT = frozenset({"comment", "text", "transcript", "reason"})


def redact_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each table with every free-text value redacted (other values unchanged)."""
    return {
        table: [
            {k: redact(v) if k in FREE_TEXT and isinstance(v, str) else v for k, v in row.items()}
            for row in rows
        ]
        for table, rows in tables.items()
    }


def printable(text: str) -> str:
    """`text` redacted, with what UTF-8 cannot hold (lone surrogates) and NULs escaped."""
    return redact(text).encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


class RedactingFilter(logging.Filter):
    """Redacts a record's message and traceback before a handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: keep the format alone
            message = str(record.msg)
        record.msg, record.args = printable(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = printable(record.exc_text)
        return True


def redact_logs() -> None:
    """Put a `RedactingFilter` on every handler configured now (the root's and each logger's)."""
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    for handler in {h for logger in loggers for h in logger.handlers}:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
