"""Rules that follow their file: reloaded when it changes, the last good rules kept when it breaks."""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from serving.rules import Rule
from serving.rules_file import RulesError, load_rules

log = logging.getLogger(__name__)


class RulesWatcher:
    """The current rules of one file, looked at again at most every `check_every_s` seconds."""

    def __init__(self, path: Path, check_every_s: float = 1.0) -> None:
        self.path, self.check_every_s = Path(path), check_every_s
        self.rules: list[Rule] = []
        self.loaded_at: dt.datetime | None = None
        self.error: str | None = None
        self._seen: tuple[int, int] | None = None
        self._checked = float("-inf")
        self.current()

    def current(self) -> list[Rule]:
        """The rules in force: the file's, or the last good ones while the file is broken."""
        if time.monotonic() - self._checked < self.check_every_s:
            return self.rules
        self._checked = time.monotonic()
        seen = self._signature()
        if seen != self._seen:
            self._seen = seen
            self._load()
        return self.rules

    def status(self) -> dict[str, Any]:
        """Which file, when it was last loaded, how many rules are in force, and its error if broken."""
        loaded = None if self.loaded_at is None else self.loaded_at.isoformat(timespec="seconds")
        return {"path": str(self.path), "loaded_at": loaded, "rules": len(self.rules), "error": self.error}

    def _signature(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _load(self) -> None:
        try:
            rules = load_rules(self.path)
        except (RulesError, OSError, UnicodeDecodeError) as exc:
            self.error = str(exc)
            log.warning("rules file refused, keeping the %d rules in force: %s", len(self.rules), exc)
            return
        self.rules, self.error = rules, None
        self.loaded_at = dt.datetime.now(dt.UTC)
