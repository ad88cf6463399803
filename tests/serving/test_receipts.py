"""Idempotency keys of event messages, on both state stores: durable only with their commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.receipts import Receipts
from tests.serving.databases import KINDS, drop_prefixed, opened, unique_prefix


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_is_seen_once_committed_and_forgotten_when_rolled_back(kind: str, tmp_path: Path) -> None:
    prefix = unique_prefix()
    with opened(kind, tmp_path) as db:
        try:
            receipts = Receipts(db, prefix)
            receipts.record("amqp/q/rolled-back", 1.0)
            db.rollback()  # the events of this message failed: its key must not stay behind
            receipts.record("amqp/q/kept", 2.0)
            db.commit()
            assert receipts.seen("amqp/q/kept") and not receipts.seen("amqp/q/rolled-back")
            assert receipts.count() == 1
        finally:
            drop_prefixed(db, prefix)
