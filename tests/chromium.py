"""Debian's Chromium for the browser tests: headless, no sandbox, no background traffic, a fresh profile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MISSING = "needs Debian's chromium at /usr/bin/chromium (make setup)"


def launch(playwright: Any, profile: Path, **options: Any) -> Any:
    """A persistent context on a new, empty profile folder (nothing carried over from another run)."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS, **options
    )
