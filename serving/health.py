"""Whether the service can do its work now: small checks, each naming what is wrong, composed for /readyz.

A check returns None when all is well, else one sentence. The state store's check is passive on
the request path (a failed statement records its reason on the connection) and active in the
background: a `StoreWatch` thread probes each connection that failed, so the service turns ready
again when the database is back, even while no request arrives to find out.
"""

from __future__ import annotations

import logging
import threading
import time
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


class TimedLock:
    """A lock (re-entrant when `reentrant`) that knows since when it is held, to tell a wedged worker.

    A request holds a lock for milliseconds; one that holds it for `wedged_s` seconds has stopped
    making progress, and every request behind it waits: the service is then not ready.
    """

    def __init__(self, name: str, reentrant: bool = False) -> None:
        self.name = name
        self._lock: Lock = threading.RLock() if reentrant else threading.Lock()
        self._depth, self._since = 0, 0.0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Take the lock, as `threading.Lock.acquire` does."""
        taken = self._lock.acquire(blocking, timeout)
        if taken:
            self._depth += 1
            if self._depth == 1:
                self._since = time.monotonic()
        return taken

    def release(self) -> None:
        """Give the lock back."""
        self._depth -= 1
        self._lock.release()

    def __enter__(self) -> TimedLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def held_for(self) -> float:
        """Seconds the current holder has held the lock (0 when free)."""
        return time.monotonic() - self._since if self._depth > 0 else 0.0


def wedged(locks: Iterable[TimedLock], limit_s: float) -> Check:
    """A check that fails while any of `locks` has been held longer than `limit_s`."""

    def check() -> str | None:
        for lock in locks:
            held = lock.held_for()
            if held > limit_s:
                return f"the worker is wedged: a request has held the {lock.name} for {held:.0f} s"
        return None

    return check
