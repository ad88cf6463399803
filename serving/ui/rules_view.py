"""A broken rules file shown where it breaks: each problem's line and column, and that line's text."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# `RulesError` words each problem as `path:line:column: message`, one per line
PROBLEM = re.compile(r"^(?P<path>.*):(?P<line>\d+):(?P<column>\d+): (?P<message>.*)$")
MAX_TEXT = 200


def located_problems(status: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The problems of the rules file's error, each with the file's line it points at (empty if none)."""
    error = status.get("error")
    if not error:
        return []
    try:
        lines = Path(status["path"]).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    found = []
    for text in str(error).splitlines():
        match = PROBLEM.match(text)
        if match is None:
            continue
        line = int(match["line"])
        shown = lines[line - 1][:MAX_TEXT] if 0 < line <= len(lines) else ""
        found.append(
            {"line": line, "column": int(match["column"]), "message": match["message"], "text": shown}
        )
    return found
