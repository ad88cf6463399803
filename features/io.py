"""Finding and reading a workspace's files, with the file-level problems (encoding, delimiter, empty).

CSV is read as text so that validation sees exactly what the user wrote; parsing into types
happens after the contract's checks, in `features.validation`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from features.problems import Problem

SUFFIXES = (".parquet", ".csv")
_OTHER_DELIMITERS = (";", "\t", "|")
MAX_FIELD_CHARS = 64 * 1024 * 1024
MAX_NAME_CHARS = 200
MAX_RAGGED_SHOWN = 20  # a file with a wrong delimiter count in every row says so twenty times, not a million
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


def is_workspace(folder: Path) -> bool:
    """Whether `folder` looks like a workspace: a customers table, a cx.yml or the service's state."""
    markers = [f"customers{suffix}" for suffix in SUFFIXES] + ["cx.yml", "_service"]
    return Path(folder).is_dir() and any((Path(folder) / marker).exists() for marker in markers)


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
    problems = [problem] if problem is not None else check_csv_shape(path)
    if problems:
        return None, problems
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


def check_csv_shape(path: Path) -> list[Problem]:
    """The header's names and every row's field count, as a spreadsheet would show them.

    pandas would silently shift a file whose rows all carry one field more than the header (the
    first becomes an index), fill short rows with blanks, and rename duplicate names: each is a
    problem here, with its row.
    """
    csv.field_size_limit(max(csv.field_size_limit(), MAX_FIELD_CHARS))  # long transcripts are fine
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, [])
            problems = header_problems(path.name, header)
            if not problems:
                problems = _ragged_rows(path.name, reader, len(header))
        except csv.Error as exc:
            return [Problem(path.name, reader.line_num, None, f"not a readable CSV row: {exc}")]
    return problems


def header_problems(file: str, header: list[str]) -> list[Problem]:
    """Delimiter, empty, over-long and duplicate column names in a header row."""
    if len(header) == 1:
        used = next((d for d in _OTHER_DELIMITERS if d in header[0]), None)
        if used is not None:
            rule = f"fields must be separated by commas, but the header is separated by {used!r}"
            return [Problem(file, 1, None, rule)]
    problems, seen = [], set()
    for position, raw in enumerate(header, start=1):
        name = raw.strip()
        if not name:
            problems.append(Problem(file, 1, None, f"column {position} of the header has no name"))
        elif len(name) > MAX_NAME_CHARS:
            rule = (
                f"column {position}'s name is {len(name):,} characters; at most {MAX_NAME_CHARS} are allowed"
            )
            problems.append(Problem(file, 1, None, rule))
        elif name in seen:
            problems.append(Problem(file, 1, name, "column names must be unique: this one appears twice"))
        seen.add(name)
    return problems


def _ragged_rows(file: str, rows: Iterator[list[str]], width: int) -> list[Problem]:
    problems = []
    for number, row in enumerate((r for r in rows if r), start=2):  # blank lines are skipped
        if len(row) != width:
            rule = f"every row must have {width} fields like the header, this one has {len(row)}"
            problems.append(Problem(file, number, None, rule))
            if len(problems) == MAX_RAGGED_SHOWN:
                break
    return problems


def _parser_problem(path: Path, exc: pd.errors.ParserError) -> Problem:
    match = _FIELD_COUNT.search(str(exc))
    if match is None:
        return Problem(path.name, None, None, f"not a readable CSV file: {exc}")
    expected, line, saw = match.groups()
    rule = f"every row must have {expected} fields like the header, this one has {saw}"
    return Problem(path.name, int(line), None, rule)
