"""Where the CLI writes: checked before any work, written whole or not at all.

Every output goes to a temporary file beside its target and is renamed over it once complete,
so a failure (or Ctrl-C) never leaves a half-written file where a reader expects a whole one.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from features.problems import DataProblem

# A cell starting with these is run as a formula by spreadsheets (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def check_output(path: Path, option: str, workspace: Path | None = None) -> Path:
    """`path` if a file can be written there; else a one-sentence `DataProblem`.

    Args:
        path: the file the user asked for.
        option: the option that named it (`--out`), for the message.
        workspace: when given, `path` must lie outside this folder (inputs are never written to).
    """
    if path.is_dir():
        raise DataProblem(f"{option} {path} is a folder; give a file name inside it")
    if not path.parent.is_dir():
        raise DataProblem(f"{option} {path}: the folder {path.parent} does not exist; create it first")
    if workspace is not None and path.resolve().is_relative_to(Path(workspace).resolve()):
        raise DataProblem(f"{option} {path} lies inside the workspace {workspace}; write it elsewhere")
    return path


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed to `path` when the block ends without error."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    os.close(handle)
    partial = Path(name)
    try:
        yield partial
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` atomically."""
    with atomic_path(path) as partial:
        partial.write_text(text, encoding="utf-8")


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write a CSV atomically, every cell safe to open in a spreadsheet (formulas made text)."""
    with atomic_path(path) as partial, partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([spreadsheet_safe(h) for h in header])
        writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)


def spreadsheet_safe(cell: object) -> str:
    """The cell as text; one a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if cell is None else str(cell)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text
