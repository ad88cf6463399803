"""The service's log lines as text (the default) or JSON lines for log shippers: `CX_LOG_FORMAT`.

JSON lines carry one object per record: `time` (ISO 8601, UTC), `level`, `logger`, `message` and,
for a failure, `exception`. The message and traceback are the ones `RedactingFilter` rewrote: the
filter runs before the formatter, so personal data stays out of either format.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping

FORMAT_VARIABLE = "CX_LOG_FORMAT"
FORMATS = ("text", "json")


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON object (non-ASCII kept, newlines escaped by JSON)."""
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def log_format(environ: Mapping[str, str] = os.environ) -> str:
    """`CX_LOG_FORMAT`: `text` (unset) or `json`.

    Raises:
        ValueError: for any other value.
    """
    chosen = environ.get(FORMAT_VARIABLE, "").strip().lower() or "text"
    if chosen not in FORMATS:
        raise ValueError(f"{FORMAT_VARIABLE} must be one of {', '.join(FORMATS)}, got {chosen!r}")
    return chosen


def format_logs(environ: Mapping[str, str] = os.environ) -> None:
    """Give every handler configured now the chosen format (after `redact_logs`, which it keeps).

    Raises:
        ValueError: when `CX_LOG_FORMAT` names no format.
    """
    if log_format(environ) != "json":
        return  # BentoML's own text format stays
    loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
    for handler in {h for logger in loggers for h in logger.handlers}:
        handler.setFormatter(JsonLinesFormatter())
