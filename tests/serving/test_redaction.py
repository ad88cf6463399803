"""What the service writes holds no raw personal data: stored free text and log lines are redacted."""

from __future__ import annotations

import io
import logging

from serving.redaction import RedactingFilter, redact_rows

PII = "mail zelda.quarrington@example.org or call +44 20 7946 0958, card 4539 1488 0343 6467"


def test_free_text_of_every_table_is_redacted_and_other_values_kept() -> None:
    tables = {
        "surveys": [{"customer_id": "C1", "metric": "nps", "score": 3.0, "comment": PII}],
        "calls": [{"customer_id": "C1", "call_id": "K1", "transcript": PII, "wait_s": 4.0}],
    }
    redacted = redact_rows(tables)
    assert redacted["surveys"][0]["comment"] == "mail <EMAIL> or call <PHONE>, card <CARD>"
    assert redacted["calls"][0]["transcript"] == redacted["surveys"][0]["comment"]
    assert redacted["surveys"][0] | {"comment": PII} == tables["surveys"][0]  # the rest unchanged


def test_a_log_record_is_redacted_message_arguments_and_traceback_and_never_fails_on_a_surrogate() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("test-redaction")
    logger.addHandler(handler)
    try:
        logger.warning("refused %s", PII + " \ud800 \x00")
        try:
            raise ValueError(PII)
        except ValueError:
            logger.exception("failed on %r", PII)
    finally:
        logger.removeHandler(handler)
    written = out.getvalue()
    assert "quarrington" not in written and "7946" not in written and "4539" not in written
    assert "<EMAIL>" in written and "\\ud800" in written and "\\x00" in written
    written.encode("utf-8")  # nothing a UTF-8 log file cannot hold
