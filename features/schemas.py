"""Pandera schemas built from the contract, and the translation of their failures into Problems.

The schemas check the table *as written* (CSV text or Parquet types), so a value that cannot be
parsed is reported with its row instead of turning into a silent missing value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow
import pyarrow.compute as pc

from features.contract import Column, Kind, MetricScale, TableSpec
from features.problems import Problem

EARLIEST = pd.Timestamp("1900-01-01", tz="UTC")  # earlier dates in CX data are typing errors
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})


@dataclass(frozen=True)
class Context:
    """What the checks of one table need to know beyond the table itself."""

    customer_ids: pd.Index | None
    latest_allowed: pd.Timestamp
    scales: dict[str, MetricScale]


def parse_timestamps(values: pd.Series) -> pd.Series:
    """ISO 8601 text or datetimes to UTC; naive means UTC, offsets are normalised, bad → NaT."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        return values.dt.tz_convert("UTC")
    return pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")


def parse_numbers(values: pd.Series) -> pd.Series:
    """Numbers from text or numeric columns; anything unparseable becomes NaN."""
    return pd.to_numeric(values, errors="coerce")


def parse_bools(values: pd.Series) -> pd.Series:
    """true/false, yes/no, 1/0 (any case) to a nullable boolean column."""
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean")
    words = values.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=values.index, dtype="boolean")
    out[words.isin(TRUE_WORDS)] = True
    out[words.isin(FALSE_WORDS)] = False
    return out


def normalise_metric(values: pd.Series) -> pd.Series:
    """Metric names as the contract spells them: trimmed, lower case."""
    return values.astype("string").str.strip().str.lower()


def table_schema(spec: TableSpec, present: Iterable[str], ctx: Context) -> pa.DataFrameSchema:
    """The schema of one table: its required columns plus checks on every known column present."""
    present = set(present)
    columns = {c.name: _column(spec, c, ctx) for c in spec.columns if c.required or c.name in present}
    # Row-wide checks need all their columns; a missing one is reported as such instead.
    checks = [
        _ordering_check(later, earlier) for later, earlier in spec.later_than if {later, earlier} <= present
    ]
    if spec.name == "surveys" and {"metric", "score"} <= present:
        checks.extend(_scale_checks(ctx.scales))
    return pa.DataFrameSchema(columns, checks=checks, name=spec.name)


def _column(spec: TableSpec, column: Column, ctx: Context) -> pa.Column:
    checks = list(_kind_checks(column, ctx))
    if column.name == "customer_id" and spec.name != "customers" and ctx.customer_ids is not None:
        checks.append(_check(_known_ids(ctx.customer_ids), "customer_id must exist in customers"))
    if spec.name == "surveys" and column.name == "metric":
        known = sorted(ctx.scales)
        rule = f"metric must be one of {', '.join(known)} (declare others in cx.yml)"
        checks.append(_check(lambda s: normalise_metric(s).isin(known), rule))
    return pa.Column(
        checks=checks,
        nullable=not column.required,
        unique=column.name == spec.key,
        required=column.required,
        report_duplicates="exclude_first",
    )


def _known_ids(ids: pd.Index) -> Callable[[pd.Series], pd.Series]:
    """The test that each id is one of `ids`, hashed once per table rather than once per check.

    pandas' `isin` on Arrow strings turns every id into a Python object first, which on a million
    customers costs more than the lookup of tens of millions of rows.
    """
    known = _arrow_text(pd.Series(ids))

    def test(values: pd.Series) -> pd.Series:
        found = pc.is_in(_arrow_text(values), value_set=known).to_numpy(zero_copy_only=False)
        return pd.Series(found, index=values.index)

    return test


def _arrow_text(values: pd.Series) -> pyarrow.Array:
    return pyarrow.array(values.astype("string[pyarrow]").array).cast(pyarrow.large_string())


def _kind_checks(column: Column, ctx: Context) -> Iterable[pa.Check]:
    if column.kind is Kind.TIMESTAMP:
        yield _check(lambda s: parse_timestamps(s).notna(), "must be an ISO 8601 timestamp")
        yield _check(
            lambda s: ~(parse_timestamps(s) < EARLIEST), f"must not be before {EARLIEST.date().isoformat()}"
        )
        latest = ctx.latest_allowed
        yield _check(
            lambda s: ~(parse_timestamps(s) > latest),
            f"must not be in the future (after {latest.isoformat(timespec='seconds')})",
        )
    elif column.kind is Kind.NUMBER:
        yield _check(lambda s: parse_numbers(s).notna(), "must be a number")
        if column.non_negative:
            yield _check(lambda s: ~(parse_numbers(s) < 0), "must not be negative")
    elif column.kind is Kind.BOOL:
        yield _check(lambda s: parse_bools(s).notna(), "must be true or false")


def cell_problems(raw: pd.DataFrame, file: str, first_row: int) -> list[Problem]:
    """Values no column may hold, whatever its kind: NUL characters and infinite numbers.

    Checked on every column, the ones the contract does not know included, since those become
    features (a static attribute of `inf` would train a model on it). Only text can hold a NUL and
    only numbers or text an infinity, so timestamp and boolean columns are skipped, and text is
    parsed only where it could spell an infinity (the parse is the cost on millions of rows).
    """
    problems = []
    for column in raw.columns:
        values = raw[column]
        if pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_numeric_dtype(values):
            infinite = pd.Series(np.isinf(values.to_numpy(dtype=float, na_value=np.nan)), index=values.index)
        else:
            text = values.astype("string")
            problems += _flagged(
                text.str.contains("\x00", regex=False), file, first_row, column, _NUL_RULE, text
            )
            infinite = _spelled_infinity(text)
        problems += _flagged(infinite, file, first_row, column, "must be a finite number", values)
    return problems


# "inf", "-Infinity", "1e400", or 300+ digits; anchored, so a long text is rejected at its start
_COULD_BE_INFINITE = r"^\s*[+-]?(?:inf|[\d.]*\d{300}|[\d.]+e\+?\d{3})"  # any case


def _spelled_infinity(text: pd.Series) -> pd.Series:
    """Whether each text parses to an infinite number; only candidates are parsed."""
    # Arrow's RE2 directly: pandas' own `str.contains` runs this pattern row by row in Python
    found = pc.match_substring_regex(_arrow_text(text), _COULD_BE_INFINITE, ignore_case=True)
    candidates = pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=text.index)
    infinite = pd.Series(False, index=text.index)
    if candidates.any():
        parsed = parse_numbers(text[candidates]).astype(float)
        infinite[candidates] = parsed.isin([np.inf, -np.inf]).to_numpy()
    return infinite


_NUL_RULE = "must not contain NUL characters (a binary or corrupted file?)"


def _flagged(
    mask: pd.Series, file: str, first_row: int, column: object, rule: str, values: pd.Series
) -> list[Problem]:
    rows = np.flatnonzero(mask.fillna(False).to_numpy(dtype=bool))
    return [
        Problem(file, int(i) + first_row, str(column), rule, str(values.iloc[i]).replace("\x00", "\\x00"))
        for i in rows
    ]


def _check(test: Callable[[pd.Series], pd.Series], rule: str) -> pa.Check:
    return pa.Check(test, error=rule, ignore_na=True)


def _wide_check(test: Callable[[pd.DataFrame], pd.Series], rule: str) -> pa.Check:
    """A check over whole rows; its rule text must start with the column it is about."""
    return pa.Check(test, error=rule)


def _ordering_check(later: str, earlier: str) -> pa.Check:
    def test(frame: pd.DataFrame) -> pd.Series:
        return ~(parse_timestamps(frame[later]) < parse_timestamps(frame[earlier]))

    return _wide_check(test, f"{later} must not be before {earlier}")


def _scale_checks(scales: dict[str, MetricScale]) -> list[pa.Check]:
    """One check per metric, so each failure names the scale its row broke."""
    return [_scale_check(name, scale) for name, scale in scales.items()]


def _scale_check(name: str, scale: MetricScale) -> pa.Check:
    def test(frame: pd.DataFrame) -> pd.Series:
        score = parse_numbers(frame["score"])
        # Other metrics and unparseable scores are judged by their own rules.
        return (
            (normalise_metric(frame["metric"]) != name).fillna(True)
            | score.isna()
            | score.between(scale.low, scale.high)
        )

    return _wide_check(test, f"score must lie inside the {name} scale {scale.low:g}-{scale.high:g}")


def problems_from(error: pa.errors.SchemaErrors, file: str, first_row: int) -> list[Problem]:
    """Translate pandera's failure cases into Problems; `first_row` is the row number of index 0."""
    problems = []
    for case in error.failure_cases.itertuples(index=False):
        rule, column = str(case.check), case.column
        if rule == "column_in_dataframe":
            problems.append(Problem(file, None, str(case.failure_case), _PANDERA_RULES[rule]))
            continue
        # Wide checks report every column of a failing row; keep the one the rule is about.
        if case.schema_context == "DataFrameSchema" and column and not rule.startswith(f"{column} "):
            continue
        row = None if pd.isna(case.index) else int(case.index) + first_row
        problems.append(_problem(file, row, column, rule, case.failure_case))
    return problems


_PANDERA_RULES = {
    "column_in_dataframe": "required column is missing",
    "not_nullable": "required value is empty",
    "field_uniqueness": "must be unique (the value already appears in an earlier row)",
}


def _problem(file: str, row: int | None, column: object, rule: str, value: object) -> Problem:
    return Problem(
        file, row, None if column is None else str(column), _PANDERA_RULES.get(rule, rule), _shown(value)
    )


def _shown(value: object) -> str | None:
    """The offending value as the user wrote it; missing values show as nothing."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if value is None or (isinstance(value, float) and value != value):  # NaN is not equal to itself
        return None
    return None if value is pd.NA or value is pd.NaT else str(value)
