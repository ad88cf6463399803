"""Debian's Chromium for the browser tests: headless, no sandbox, no background traffic, a fresh profile."""

from __future__ import annotations

import os
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
SHOTS_ENV = "CXPREDICT_UI_SCREENSHOTS"  # a folder to keep the screenshots in (docs/ for the README)


def launch(playwright: Any, profile: Path, **options: Any) -> Any:
    """A persistent context on a new, empty profile folder (nothing carried over from another run)."""
    return playwright.chromium.launch_persistent_context(
        str(profile), executable_path=str(CHROMIUM), headless=True, args=ARGS, **options
    )


def screenshots(tmp_path: Path) -> Path:
    """Where a browser test keeps its screenshots: `$CXPREDICT_UI_SCREENSHOTS`, else the test's folder."""
    folder = Path(os.environ.get(SHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
