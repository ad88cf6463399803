"""Build a workspace's catalogue: the declared defaults, plus what its tables and config add.

Richer tables give richer features with no config: an extra numeric column of a known table gets
sum/mean/max per window and its latest value; an extra low-cardinality text column gets its latest
value and counts of its frequent values. The catalogue is built once, from the training data, and
then travels with the model and the online store so scoring computes the very same columns.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import pandas as pd

from features.catalogue import (
    CUSTOMERS,
    Aggregation,
    Catalogue,
    ColumnKind,
    DType,
    Feature,
    Measure,
    Source,
    SourceColumn,
    describe,
    window_suffix,
)
from features.config import EventAggregation, EventTableConfig, WorkspaceConfig
from features.contract import TABLES, TEXT_SCORES_TABLE, Kind
from features.sources import (
    ALL,
    CONTACT_SOURCES,
    EVENT_SOURCES,
    KNOWN_WHEN,
    LONGEST,
    MEASURES,
    NOT_FEATURES,
    NOUNS,
    NOW,
    WIN,
    MeasureSpec,
    Span,
    flag,
    level_measure,
    lit,
    q,
    spec,
    when,
)

MAX_LEVELS = 20  # text with more distinct values is free text or an id, not a category
POINT_AGGREGATIONS = frozenset({"last", "days_since_last", "trend"})


def build_catalogue(tables: dict[str, pd.DataFrame], config: WorkspaceConfig) -> Catalogue:
    """The catalogue of a workspace's typed tables (as `load_workspace` returns them)."""
    windows: tuple[int | None, ...] = (*sorted(set(config.windows_days)), None)
    sources: list[Source] = []
    features: list[Feature] = []
    for name in (*EVENT_SOURCES, *sorted(config.events)):
        if name not in tables:
            continue
        if name in config.events:
            source, specs = _event_source(name, config.events[name], tables[name])
        else:
            source, specs = _contract_source(name, tables[name])
        sources.append(source)
        features.extend(_features(source, specs, windows))
    features.extend(_contact_feature(features))
    if CUSTOMERS in tables:
        customers, attributes = _customers(tables[CUSTOMERS])
        sources.append(customers)
        features.extend(attributes)
    return Catalogue(tuple(sources), tuple(features), _metrics(tables))


def _contract_source(name: str, frame: pd.DataFrame) -> tuple[Source, list[MeasureSpec]]:
    table = TABLES[name]
    present = set(frame.columns)
    specs = [s for s in MEASURES.get(name, ()) if set(s.needs) <= present]
    specs.append(spec("any", (), "1", NOUNS[name], ("count", WIN), ("days_since_last", ALL)))
    if name == "surveys":
        specs.extend(_survey_specs(frame))
    if name == TEXT_SCORES_TABLE and "theme" in frame.columns:
        specs.extend(_theme_specs(frame["theme"]))
    skip = {"customer_id", table.key, table.time_column} | NOT_FEATURES.get(name, frozenset())
    for column in frame.columns:
        declared = table.column(column)
        if column in skip or (declared is not None and declared.kind in (Kind.TIMESTAMP, Kind.ID)):
            continue
        specs.extend(_column_specs(name, column, frame[column]))
    # A value known only once another column says so (a delivery's status once delivered_at is
    # set) is never known without that column: no measure of it, rather than a leak or a crash.
    specs = [s for s in specs if set(s.needs) <= present]
    used = {column for s in specs for column in s.needs}
    kinds = {c: _kind(frame[c]) for c in frame.columns if c in used | {table.time_column, table.key}}
    columns = tuple(SourceColumn(c, k) for c, k in kinds.items() if k is not None and c != "customer_id")
    source = Source(
        name, str(table.time_column), columns, tuple(s.measure for s in specs), table.key, NOUNS[name]
    )
    return source, specs


def _survey_specs(frame: pd.DataFrame) -> Iterator[MeasureSpec]:
    for metric in sorted(frame["metric"].dropna().unique()):
        slug, is_metric = _slug(metric), f"{q('metric')} = {lit(str(metric))}"
        yield spec(f"{slug}_answers", ("metric",), flag(is_metric), f"{metric} answers", ("count", ALL))
        score = when(is_metric, f"CAST({q('score')} AS DOUBLE)")
        phrase = f"{metric} score"
        yield spec(
            f"{slug}_score", ("metric", "score"), score, phrase, ("last", ALL), ("mean", ALL), ("trend", ALL)
        )


def _theme_specs(themes: pd.Series) -> Iterator[MeasureSpec]:
    """A count of negative texts per theme; every theme, as a CX team reads them all."""
    for theme in sorted(themes.dropna().astype(str).unique())[:MAX_LEVELS]:
        sql = flag(f"{q('theme')} = {lit(theme)}")
        yield spec(
            f"theme_{_slug(theme)}", ("theme",), sql, f"negative texts about {theme}", ("count", LONGEST)
        )


def _column_specs(table: str, column: str, values: pd.Series) -> list[MeasureSpec]:
    """Measures of one generic column: numbers and low-cardinality text; others give none."""
    kind = _kind(values)
    condition, needed = KNOWN_WHEN.get((table, column), (None, None))
    needs = (column,) if needed is None else (column, needed)
    label = column.replace("_", " ")
    if kind == "number":
        sql = f"CAST({q(column)} AS DOUBLE)"
        sql = sql if condition is None else when(condition, sql)
        return [
            spec(_slug(column), needs, sql, label, ("sum", WIN), ("mean", WIN), ("max", WIN), ("last", ALL))
        ]
    if kind != "text" or values.nunique() > MAX_LEVELS:
        return []
    value_sql = q(column) if condition is None else when(condition, q(column))
    specs = [spec(_slug(column), needs, value_sql, label, ("last", ALL), text=True)]
    noun = NOUNS.get(table, table.replace("_", " "))
    # Every value is counted, not only the most frequent few: a cut by frequency moves as the data
    # grows (a sixth product overtakes the fifth), and a champion trained before the move would then
    # need a feature the next snapshot lacks, so scoring it would be refused.
    for value in sorted(values.value_counts().index, key=str):
        name = level_measure(_slug(column), _slug(str(value)))
        sql = flag(f"{value_sql} = {lit(str(value))}")
        specs.append(spec(name, needs, sql, f"{noun} with {label} {value}", ("count", LONGEST)))
    return specs


def _event_source(
    name: str, event: EventTableConfig, frame: pd.DataFrame
) -> tuple[Source, list[MeasureSpec]]:
    specs: list[MeasureSpec] = []
    for agg in event.aggregations:
        specs.extend(_event_specs(name, agg, frame))
    used = sorted({c for s in specs for c in s.needs} | {event.time_column})
    columns = tuple(SourceColumn(c, _kind(frame[c]) or "text") for c in used if c in frame.columns)
    noun = event.description or name.replace("_", " ")
    return Source(name, event.time_column, columns, tuple(s.measure for s in specs), None, noun), specs


def _event_specs(name: str, agg: EventAggregation, frame: pd.DataFrame) -> Iterator[MeasureSpec]:
    noun = name.replace("_", " ")
    if agg.column == "*":
        aggs = tuple((a, WIN if a == "count" else ALL) for a in agg.aggs if a in ("count", "days_since_last"))
        yield spec("any", (), "1", noun, *aggs)
        return
    column, label = agg.column, f"{agg.column.replace('_', ' ')} of {noun}"
    numeric = _kind(frame[column]) == "number" if column in frame.columns else False
    value = f"CAST({q(column)} AS DOUBLE)" if numeric else q(column)
    present = flag(f"{q(column)} IS NOT NULL")
    counted: list[tuple[Aggregation, Span]] = [("count", WIN)] if "count" in agg.aggs else []
    if "days_since_last" in agg.aggs:
        counted.append(("days_since_last", ALL))
    if counted:
        yield spec(f"{_slug(column)}_present", (column,), present, f"{noun} with {column}", *counted)
    summaries: list[tuple[Aggregation, Span]] = [
        (a, ALL if a in POINT_AGGREGATIONS else WIN)
        for a in agg.aggs
        if a not in ("count", "days_since_last")
    ]
    if summaries:
        yield spec(_slug(column), (column,), value, label, *summaries, text=not numeric)


def _features(
    source: Source, specs: Iterable[MeasureSpec], windows: tuple[int | None, ...]
) -> Iterator[Feature]:
    for item in specs:
        for aggregation, span in item.aggs:
            for days in _span(span, windows):
                yield _feature(source, item.measure, aggregation, days, state=span == NOW)


def _span(span: Span, windows: tuple[int | None, ...]) -> tuple[int | None, ...]:
    if span == WIN:
        return windows
    return (windows[-2], None) if span == LONGEST and len(windows) > 1 else (None,)


def _feature(
    source: Source, measure: Measure, aggregation: Aggregation, days: int | None, state: bool
) -> Feature:
    """One feature; a `state` (open tickets) is named and described without a window."""
    stem = source.name if measure.name == "any" else f"{source.name}_{measure.name}"
    windowed = not state and aggregation not in POINT_AGGREGATIONS
    name = f"{stem}_{aggregation}" + (f"_{window_suffix(days)}" if windowed else "")
    dtype: DType = "category" if measure.kind == "text" and aggregation == "last" else "float"
    text = measure.phrase if state else describe(aggregation, measure.phrase, days)
    measure_name = None if measure.name == "any" else measure.name
    return Feature(name, source.name, aggregation, measure_name, days, dtype, text)


def _contact_feature(features: list[Feature]) -> Iterator[Feature]:
    inputs = tuple(
        f.name
        for f in features
        if f.aggregation == "days_since_last" and f.measure is None and f.source in CONTACT_SOURCES
    )
    if inputs:
        text = "days since the latest contact (ticket, call, claim, verbatim or survey answer)"
        yield Feature("days_since_last_contact", "*", "least", None, None, "float", text, inputs)


def _customers(frame: pd.DataFrame) -> tuple[Source, list[Feature]]:
    columns: list[SourceColumn] = []
    features: list[Feature] = []
    if "created_at" in frame.columns:
        columns.append(SourceColumn("created_at", "time"))
        features.append(
            Feature("tenure_days", CUSTOMERS, "days_since", "created_at", None, "float", "days as a customer")
        )
    for column in frame.columns:
        kind = _kind(frame[column])
        if column in ("customer_id", "created_at") or kind not in ("number", "text"):
            continue
        if kind == "text" and frame[column].nunique() > MAX_LEVELS:
            continue
        columns.append(SourceColumn(column, kind))
        dtype: DType = "float" if kind == "number" else "category"
        text = f"customer's {column.replace('_', ' ')}"
        features.append(
            Feature(f"customer_{_slug(column)}", CUSTOMERS, "attribute", column, None, dtype, text)
        )
    return Source(CUSTOMERS, "created_at", tuple(columns), key="customer_id", noun="customers"), features


def _metrics(tables: dict[str, pd.DataFrame]) -> tuple[str, ...]:
    surveys = tables.get("surveys")
    return () if surveys is None else tuple(sorted(surveys["metric"].dropna().unique()))


def _kind(values: pd.Series) -> ColumnKind | None:
    if isinstance(values.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(values):
        return "time"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return "number"
    if pd.api.types.is_string_dtype(values) or values.dtype == object:
        return "text"
    return None


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")[:30] or "blank"
