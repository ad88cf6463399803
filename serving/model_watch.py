"""Follow the @champion aliases: a promotion reaches the service without anyone calling it.

Every `CX_MODEL_POLL_S` seconds (0, the default: never) the service asks the registry where the
serving aliases point, and reloads when one moved: the same reload as `POST /admin/reload`, so
requests go on with the old models until the new ones are loaded and swapped in whole.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from serving.schemas import Reloaded

log = logging.getLogger(__name__)


class ModelWatch:
    """A thread that calls `reload` every `every_s` seconds (none when `every_s` is 0)."""

    def __init__(self, reload: Callable[[], Reloaded], every_s: float) -> None:
        self.reload, self.every_s = reload, every_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Poll in the background until stopped."""
        if self.every_s > 0:
            self._thread = threading.Thread(target=self._loop, name="cx-model-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop polling (a reload under way finishes first, or is left behind after a while)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(max(self.every_s * 5, 5))

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                reloaded = self.reload()
            except Exception as exc:  # registry down, a model that fails its canary: try again next time
                log.warning("the champions could not be reloaded, trying again in %gs: %s", self.every_s, exc)
                continue
            if reloaded.changed:
                log.info("the champions moved: now serving %s", reloaded.model_versions)
