"""The CLI's last line of defence: no command ever ends in a Python traceback.

A known data problem prints its one sentence and exits 2. Anything else prints one line naming
where its full log went, with PII redacted, and exits 70 (EX_SOFTWARE: a fault of the program).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from features.config import ConfigError
from features.problems import DataProblem, WorkspaceError

EXIT_INVALID = 2
EXIT_SOFTWARE = 70
LOG_DIR_VARIABLE = "CXPREDICT_LOG_DIR"
# The CLI's own ways to stop (exit codes, usage errors) pass through untouched.
_CLI_EXITS: tuple[type[BaseException], ...] = (typer.Exit, typer.Abort, TyperException)
_KNOWN = (DataProblem, WorkspaceError, ConfigError)


class CatchAllGroup(TyperGroup):
    """The root command group: every exception a command lets out ends in one line and an exit code."""

    def invoke(self, ctx: Any) -> Any:
        """Run the command; turn what escapes it into a one-line message and an exit code."""
        try:
            return super().invoke(ctx)
        except _CLI_EXITS:
            raise
        except _KNOWN as exc:
            _say(str(exc))
            raise typer.Exit(EXIT_INVALID) from None
        except Exception as exc:
            log = write_crash_log(exc, sys.argv)
            _say(f"cxpredict stopped on an unexpected error ({type(exc).__name__}); full log: {log}")
            raise typer.Exit(EXIT_SOFTWARE) from None


def _say(message: str) -> None:
    # stderr and plain print: rich markup in a data value must not be interpreted
    print(message.encode("utf-8", "backslashreplace").decode("utf-8"), file=sys.stderr)


def log_folder() -> Path:
    """Where crash logs go: $CXPREDICT_LOG_DIR, else a `cxpredict-logs` folder in the temp folder."""
    configured = os.environ.get(LOG_DIR_VARIABLE)
    return Path(configured) if configured else Path(tempfile.gettempdir()) / "cxpredict-logs"


def write_crash_log(exc: BaseException, argv: list[str]) -> Path:
    """Write the command line and traceback, PII redacted, to a new file; return its path."""
    from models.text.redact import redact

    text = "".join(traceback.format_exception(exc))
    body = f"command: {' '.join(argv)}\n\n{text}"
    folder = log_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    handle, name = tempfile.mkstemp(prefix=f"crash-{stamp}-", suffix=".log", dir=folder)
    with os.fdopen(handle, "w", encoding="utf-8", errors="backslashreplace") as out:
        out.write(redact(body) + "\n")
    return Path(name)
