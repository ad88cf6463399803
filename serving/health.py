"""Whether the service can do its work now: small checks, each naming what is wrong, composed for /readyz.

A check returns None when all is well, else one sentence. The state store's check is passive on
the request path (a failed statement records its reason on the connection) and active in the
background: a `StoreWatch` thread probes each connection that failed, so the service turns ready
again when the database is back, even while no request arrives to find out.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from features.online_db import Database

log = logging.getLogger(__name__)
Check = Callable[[], str | None]


class Lock(Protocol):
    """What `threading.Lock` and `RLock` both offer."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...  # noqa: D102

    def release(self) -> None: ...  # noqa: D102


def problems(checks: Iterable[Check]) -> list[str]:
    """What keeps the service from being ready (empty: ready)."""
    return [reason for check in checks if (reason := check()) is not None]


class StoreWatch:
    """The state database connections of one process, and a thread that probes the failed ones."""

    def __init__(self, connections: Sequence[tuple[Database, Lock]], every_s: float = 1.0) -> None:
        self.connections, self.every_s = connections, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def problem(self) -> str | None:
        """The reason the state database cannot be used now, if it cannot."""
        return next((db.problem for db, _ in self.connections if db.problem is not None), None)

    def probe(self) -> None:
        """Probe each connection that failed (skipping one busy with a request: it will tell)."""
        for db, lock in self.connections:
            if db.problem is not None and lock.acquire(timeout=self.every_s):
                try:
                    before = db.problem
                    if db.probe() is None:
                        log.warning("the state database is usable again (it was: %s)", before)
                finally:
                    lock.release()

    def start(self) -> None:
        """Probe in the background until stopped."""
        self._thread = threading.Thread(target=self._loop, name="cx-store-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop probing."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.every_s * 5)

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                self.probe()
            except Exception:  # the watch must outlive anything a probe meets
                log.exception("probing the state database failed")
