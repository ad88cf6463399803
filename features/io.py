"""Finding and reading a workspace's files, with the file-level problems (encoding, delimiter, empty).

CSV is read as text so that validation sees exactly what the user wrote; parsing into types
happens after the contract's checks, in `features.validation`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features.problems import Problem

SUFFIXES = (".parquet", ".csv")
_OTHER_DELIMITERS = (";", "\t", "|")
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def find_tables(workspace: Path) -> tuple[dict[str, Path], list[Problem]]:
    """Map each table name to its file; two files for one table is a problem.

    Files and folders starting with `_` or `.` (such as `_truth/`) are never tables.
    """
    found: dict[str, Path] = {}
    problems: list[Problem] = []
    for path in sorted(Path(workspace).iterdir()):
        if path.name.startswith(("_", ".")) or path.suffix not in SUFFIXES or not path.is_file():
            continue
        if path.stem in found:
            rule = f"one file per table: both {found[path.stem].name} and {path.name} exist"
            problems.append(Problem(path.name, None, None, rule))
            continue
        found[path.stem] = path
    return found, problems


def read_table(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    """Read one table file; on a file-level problem return None and the problem."""
    if path.stat().st_size == 0:
        return None, [Problem(path.name, None, None, "the file is empty")]
    if path.suffix == ".parquet":
        return _read_parquet(path)
    return _read_csv(path)


def _read_parquet(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        return None, [Problem(path.name, None, None, f"not a readable Parquet file: {exc}")]
    if frame.empty:
        return None, [Problem(path.name, None, None, "the file has no data rows")]
    return frame, []


def _read_csv(path: Path) -> tuple[pd.DataFrame | None, list[Problem]]:
    problem = _check_encoding(path)
    if problem is None:
        problem = _check_delimiter(path)
    if problem is not None:
        return None, [problem]
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except pd.errors.ParserError as exc:
        return None, [_parser_problem(path, exc)]
    if frame.empty:
        return None, [Problem(path.name, None, None, "the file has a header but no data rows")]
    return frame.apply(_blank_to_missing), []


def _blank_to_missing(values: pd.Series) -> pd.Series:
    """Surrounding spaces are not data; a cell of only spaces is empty (spreadsheets write them)."""
    stripped = values.str.strip()
    return stripped.mask(stripped == "")


def _check_encoding(path: Path) -> Problem | None:
    """UTF-8 is the contract; name the first row that is not, since a spreadsheet shows rows."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                rule = f"the file must be UTF-8 encoded: byte 0x{bad} is not (save it as UTF-8)"
                return Problem(path.name, number, None, rule)
    return None


def _check_delimiter(path: Path) -> Problem | None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle), [])
    if len(header) == 1:
        used = next((d for d in _OTHER_DELIMITERS if d in header[0]), None)
        if used is not None:
            rule = f"fields must be separated by commas, but the header is separated by {used!r}"
            return Problem(path.name, 1, None, rule)
    return None


def _parser_problem(path: Path, exc: pd.errors.ParserError) -> Problem:
    match = _FIELD_COUNT.search(str(exc))
    if match is None:
        return Problem(path.name, None, None, f"not a readable CSV file: {exc}")
    expected, line, saw = match.groups()
    rule = f"every row must have {expected} fields like the header, this one has {saw}"
    return Problem(path.name, int(line), None, rule)
