"""The background sender: takes due deliveries from the outbox and posts them, until stopped.

It never dies of a failure: a receiver that is down, a database hiccup or a bug in one delivery is
logged and tried again later, and since the state is in the database a restarted process goes on
where this one stopped. While the database is unreachable or read-only the sender says so in one
line, waits longer between tries (doubling up to `PAUSE_MAX_S`) and says so again when it resumes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from features.online_db import StoreUnavailable
from serving.outbox import Outbox
from serving.webhooks import post

log = logging.getLogger(__name__)
PAUSE_MAX_S = 10.0


class Deliverer:
    """Sends an outbox's due deliveries, one pass at a time or in a thread."""

    def __init__(
        self,
        outbox: Outbox,
        lock: AbstractContextManager[Any],
        secret: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.outbox, self.lock, self.secret, self.clock = outbox, lock, secret, clock
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> int:
        """Claim the due deliveries, post each and record the outcome; how many were tried."""
        with self.lock:
            batch = self.outbox.claim(self.clock())
        policy = self.outbox.policy
        for delivery in batch:
            error = post(
                delivery.url, delivery.body, delivery.idempotency_key, self.secret, policy.timeout_s,
                delivery.attempts + 1,
            )  # fmt: skip
            with self.lock:
                if error is None:
                    self.outbox.delivered(delivery, self.clock())
                elif self.outbox.failed(delivery, error, self.clock()) == "dead":
                    log.warning(
                        "delivery %s is dead after %d tries: %s", delivery.id, delivery.attempts + 1, error
                    )
                self.outbox.db.commit()
        return len(batch)

    def wake(self) -> None:
        """Look for due deliveries now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        """Start the sending thread (once)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="cx-outbox", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop the thread after the delivery in flight, if any."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _loop(self) -> None:
        poll = self.outbox.policy.poll_s
        pause, outage = poll, None
        while not self._stop.is_set():
            try:
                busy = self.run_once() > 0
                if outage is not None:
                    log.warning("outbox %s resumed: the state database is usable again", self.outbox.table)
                pause, outage = poll, None
            except StoreUnavailable as exc:  # an outage: one line when it starts, not one per try
                if outage is None:
                    log.warning("outbox %s paused: %s; trying again with backoff", self.outbox.table, exc)
                busy, outage, pause = False, str(exc), min(PAUSE_MAX_S, pause * 2)
                self._forget_transaction()
            except Exception:  # a bug: the thread must outlive it, without a traceback twice a second
                log.exception("outbox pass failed; trying again in %.1f s", pause)
                busy, pause = False, min(PAUSE_MAX_S, pause * 2)
                self._forget_transaction()
            if not busy:
                self._wake.wait(pause)
                self._wake.clear()

    def _forget_transaction(self) -> None:
        try:
            with self.lock:
                self.outbox.db.rollback()
        except Exception:  # the next pass reports what is wrong
            log.debug("rollback after a failed outbox pass failed", exc_info=True)
