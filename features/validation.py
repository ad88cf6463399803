"""Validate a whole workspace against the data contract and load it as typed tables.

Every problem is collected before anything is reported, so a user fixes a file once rather than
one error per run. Validation only reads: it never writes into the workspace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa

from features.config import EventTableConfig, WorkspaceConfig, load_config
from features.contract import TABLES, Column, Kind, TableSpec
from features.io import find_tables, read_table
from features.problems import Problem, WorkspaceError, sort_problems
from features.schemas import (
    Context,
    cell_problems,
    normalise_metric,
    parse_bools,
    parse_numbers,
    parse_timestamps,
    problems_from,
    table_schema,
)

_NUMERIC_AGGS = frozenset({"sum", "mean", "max", "min"})
SNIFF_ROWS = 1000  # an extra column's first values that must all be numbers before all are parsed


@dataclass
class ValidationReport:
    """The outcome of validating a workspace.

    Attributes:
        tables: typed tables (UTC timestamps, floats, nullable booleans), for the tables that
            could be read; complete only when `problems` is empty.
        ignored: files in the workspace that are not tables of the contract or the config.
    """

    workspace: Path
    config: WorkspaceConfig
    problems: list[Problem] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the workspace meets the contract."""
        return not self.problems


def table_specs(config: WorkspaceConfig) -> dict[str, TableSpec]:
    """The contract's tables plus the extra event tables the workspace config declares."""
    extra = {name: _event_spec(name, event) for name, event in config.events.items()}
    return {**TABLES, **extra}


def _event_spec(name: str, event: EventTableConfig) -> TableSpec:
    columns = [Column("customer_id", Kind.ID, required=True), Column(event.time_column, Kind.TIMESTAMP, True)]
    for agg in event.aggregations:
        if agg.column not in {"*", event.time_column, "customer_id"}:
            numeric = bool(_NUMERIC_AGGS & set(agg.aggs))
            columns.append(Column(agg.column, Kind.NUMBER if numeric else Kind.TEXT, required=True))
    return TableSpec(name, tuple(columns), time_column=event.time_column)


def validate_workspace(
    workspace: Path, config: WorkspaceConfig | None = None, now: dt.datetime | None = None
) -> ValidationReport:
    """Check every table of `workspace` and collect every problem.

    Args:
        workspace: folder holding `<table>.csv` / `<table>.parquet` files.
        config: the workspace config; read from `cx.yml` when not given.
        now: the moment after which timestamps count as in the future (default: the clock).
    """
    workspace = Path(workspace)
    config = config if config is not None else load_config(workspace)
    report = ValidationReport(workspace, config)
    if not workspace.is_dir():
        report.problems.append(Problem(str(workspace), None, None, "the workspace folder does not exist"))
        return report
    specs = table_specs(config)
    report.files, unreadable = find_tables(workspace)
    report.problems.extend(unreadable)
    report.ignored = sorted(p.name for name, p in report.files.items() if name not in specs)
    if "customers" not in report.files:
        report.problems.append(Problem("customers.csv", None, None, "the customers table is required"))
    ctx = Context(None, _latest_allowed(now, config), config.scales)
    for name, spec in specs.items():  # customers first: the others are checked against its ids
        if name in report.files:
            ctx = _validate_table(report, spec, ctx)
    report.problems = sort_problems(report.problems)
    return report


def validate_rows(
    table: str,
    rows: Sequence[Mapping[str, Any]],
    config: WorkspaceConfig,
    customer_ids: Iterable[str],
    now: dt.datetime | None = None,
) -> list[Problem]:
    """Check rows of one table, as a request carries them, by the rules `validate` applies to a file.

    Args:
        table: the table the rows belong to.
        rows: column -> value (text, number, datetime, bool or None) per row.
        config: the workspace config (metric scales, the future's tolerance).
        customer_ids: the known customers; a row naming another is a problem.
        now: the moment after which timestamps count as in the future (default: the clock).

    Returns:
        every problem; `file` is the table's name and `row` the row's 0-based position.
    """
    spec = table_specs(config)[table]
    frame = pd.DataFrame(list(rows)).dropna(axis="columns", how="all")  # an absent optional: unchecked
    ctx = Context(pd.Index(list(customer_ids)), _latest_allowed(now, config), config.scales)
    try:
        table_schema(spec, frame.columns, ctx).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return sort_problems(problems_from(exc, table, 0))
    return []


def _latest_allowed(now: dt.datetime | None, config: WorkspaceConfig) -> pd.Timestamp:
    moment = pd.Timestamp.now(tz="UTC") if now is None else pd.Timestamp(now)
    moment = moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")
    return moment + pd.Timedelta(days=config.future_tolerance_days)


def _validate_table(report: ValidationReport, spec: TableSpec, ctx: Context) -> Context:
    path = report.files[spec.name]
    raw, problems = read_table(path)
    report.problems.extend(problems)
    if raw is None:
        return ctx
    raw = raw.drop(columns=list(report.config.exclude_columns.get(spec.name, ())), errors="ignore")
    schema = table_schema(spec, raw.columns, ctx)
    first_row = 2 if path.suffix == ".csv" else 1  # a CSV's header is row 1
    report.problems.extend(cell_problems(raw, path.name, first_row))
    try:
        schema.validate(raw, lazy=True)
    except pa.errors.SchemaErrors as exc:
        report.problems.extend(problems_from(exc, path.name, first_row))
    report.tables[spec.name] = to_typed(spec, raw)
    if spec.name == "customers" and "customer_id" in raw:
        return Context(pd.Index(raw["customer_id"].astype(str).unique()), ctx.latest_allowed, ctx.scales)
    return ctx


def to_typed(spec: TableSpec, raw: pd.DataFrame) -> pd.DataFrame:
    """Parse the known columns by kind; extra columns become numbers when every value is one."""
    typed = {}
    for name in raw.columns:
        column = spec.column(name)
        typed[name] = _parse(raw[name], column.kind if column else None)
    frame = pd.DataFrame(typed, index=raw.index)
    if spec.name == "surveys" and "metric" in frame:
        frame["metric"] = normalise_metric(frame["metric"])
    return frame


def _parse(values: pd.Series, kind: Kind | None) -> pd.Series:
    if kind is Kind.TIMESTAMP:
        return parse_timestamps(values)
    if kind is Kind.NUMBER:
        return parse_numbers(values).astype(float)
    if kind is Kind.BOOL:
        return parse_bools(values)
    if kind in (Kind.ID, Kind.TEXT):
        return values.astype("string")
    known = values.dropna()
    if not pd.api.types.is_numeric_dtype(values) and parse_numbers(known.head(SNIFF_ROWS)).isna().any():
        return values.astype("string")  # text: parsing a million transcripts as numbers is the cost
    numbers = parse_numbers(values)
    return numbers if numbers.notna().sum() == len(known) else values.astype("string")


def load_workspace(workspace: Path, config: WorkspaceConfig | None = None) -> ValidationReport:
    """Validate and return the typed tables.

    Raises:
        WorkspaceError: with every problem found, when the workspace breaks the contract.
    """
    report = validate_workspace(workspace, config)
    if report.problems:
        raise WorkspaceError(report.problems)
    return report
