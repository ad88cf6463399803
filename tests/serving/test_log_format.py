"""`CX_LOG_FORMAT=json`: one JSON object per log line, personal data redacted as in text logs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from serving.log_format import format_logs, log_format
from serving.redaction import redact_logs


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger with a handler of its own; every handler's formatter is restored after."""
    loggers = [logging.getLogger(), *(logging.getLogger(n) for n in logging.root.manager.loggerDict)]
    before = {h: h.formatter for logger in loggers for h in logger.handlers}
    stream = io.StringIO()
    logger = logging.getLogger("cx.test.log_format")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)
        for h, formatter in before.items():
            h.setFormatter(formatter)


def test_json_lines_carry_the_record_redacted(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    redact_logs()
    format_logs({"CX_LOG_FORMAT": "json"})
    logger.warning("customer wrote from %s:\nlate again", "jane.doe@example.com")
    try:
        raise RuntimeError("call +44 20 7946 0958")
    except RuntimeError:
        logger.exception("delivery failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2  # a newline in a message stays inside its JSON line
    first, second = map(json.loads, lines)
    assert first["level"] == "WARNING" and first["logger"] == "cx.test.log_format"
    assert first["message"].endswith("\nlate again") and first["time"].endswith("+00:00")
    assert "jane.doe@example.com" not in first["message"]
    assert "RuntimeError" in second["exception"] and "7946" not in second["exception"]


def test_text_is_the_default_and_other_formats_are_refused() -> None:
    assert log_format({}) == "text" and log_format({"CX_LOG_FORMAT": "JSON"}) == "json"
    with pytest.raises(ValueError, match="CX_LOG_FORMAT must be one of text, json, got 'xml'"):
        log_format({"CX_LOG_FORMAT": "xml"})
