"""Generate the point-in-time feature SQL from the catalogue, once, in DuckDB's dialect.

The query reads a *spine* (`_row`, `customer_id`, `as_of`) and one table per source
(`src_<name>`, timestamps as microseconds since the epoch) and returns one row per spine row.
Each source is joined on `customer_id` with `time < as_of`, so an event exactly at `as_of` is not
known yet; each measure is evaluated against that row's `as_of`, so an outcome that comes later
(a delivery date, a claim's outcome) stays unknown. Spark runs the same text through SQLGlot.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

from features.catalogue import CUSTOMERS, ZERO_WHEN_EMPTY, Catalogue, Feature, Source
from features.sources import DAY_US, q

SPINE = "spine"


def source_table(source: str) -> str:
    """The name the engine gives the prepared table of `source`."""
    return f"src_{source}"


def feature_sql(catalogue: Catalogue) -> str:
    """The SELECT that computes every feature of `catalogue` for every spine row (DuckDB SQL)."""
    by_source = _features_by_source(catalogue)
    ctes = [
        f"a_{name} AS (\n{_aggregate(catalogue.source(name), feats)}\n)" for name, feats in by_source.items()
    ]
    where = {f.name: f"a_{f.source}" for feats in by_source.values() for f in feats}
    columns = ",\n  ".join(f"{_final(f, where)} AS {q(f.name)}" for f in catalogue.features)
    joins = [f"LEFT JOIN a_{name} ON a_{name}._row = sp._row" for name in by_source]
    if any(f.source == CUSTOMERS for f in catalogue.features):
        joins.append(f"LEFT JOIN {source_table(CUSTOMERS)} c ON c.customer_id = sp.customer_id")
    head = f"WITH {', '.join(ctes)}\n" if ctes else ""
    return f"{head}SELECT sp._row,\n  {columns}\nFROM {SPINE} sp\n" + "\n".join(joins)


@cache
def spark_sql(duckdb_sql: str) -> str:
    """The same query in Spark SQL, transpiled by SQLGlot.

    Spark refuses LEAST, GREATEST and COALESCE of a single argument, which DuckDB accepts (a
    measure declared in cx.yml may write one): each such call becomes its argument.
    """
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb").transform(_unwrap_single_argument)
    return tree.sql(dialect="spark")


def _unwrap_single_argument(node: exp.Expression) -> exp.Expression:
    if isinstance(node, (exp.Least, exp.Greatest, exp.Coalesce)) and not node.expressions:
        return node.this
    return node


def least(terms: list[str]) -> str:
    """The smallest non-NULL of `terms`, written so every dialect accepts it.

    Spark's LEAST and GREATEST need two or more arguments, where DuckDB and SQLite take one: a
    workspace with only one contact source must not write `LEAST(x)`.
    """
    if not terms:
        return "NULL"
    return terms[0] if len(terms) == 1 else f"LEAST({', '.join(terms)})"


def _features_by_source(catalogue: Catalogue) -> dict[str, list[Feature]]:
    groups: dict[str, list[Feature]] = {}
    for feature in catalogue.features:
        if feature.source not in (CUSTOMERS, "*"):
            groups.setdefault(feature.source, []).append(feature)
    return groups


def _aggregate(source: Source, features: list[Feature]) -> str:
    """One source's aggregates per spine row, over its events strictly before `as_of`."""
    used = {f.measure for f in features if f.measure is not None}
    measures = "".join(f", {m.sql} AS m_{m.name}" for m in source.measures if m.name in used)
    aggregates = ",\n    ".join(f"{_aggregation(f)} AS {q(f.name)}" for f in features)
    time = q(source.time)
    return (
        f"  SELECT _row,\n    {aggregates}\n  FROM (\n"
        f"    SELECT sp._row, sp.as_of, e.{time} AS _t{measures}\n"
        f"    FROM {SPINE} sp JOIN {source_table(source.name)} e\n"
        f"      ON e.customer_id = sp.customer_id AND e.{time} < sp.as_of\n"
        f"  ) j\n  GROUP BY _row, as_of"
    )


def _aggregation(feature: Feature) -> str:
    value = "1" if feature.measure is None else f"m_{feature.measure}"
    windowed = value
    if feature.window_days is not None:
        windowed = f"CASE WHEN _t >= as_of - {feature.window_days * DAY_US} THEN {value} END"
    latest = f"ARG_MAX({value}, CASE WHEN {value} IS NOT NULL THEN _t END)"
    match feature.aggregation:
        case "count" | "sum":
            return f"SUM({windowed})"
        case "mean" | "share":
            return f"AVG({windowed})"
        case "max" | "min":
            return f"{feature.aggregation.upper()}({windowed})"
        case "nunique":
            return f"COUNT(DISTINCT {windowed})"
        case "last":
            return latest
        case "days_since_last":
            moment = "_t" if feature.measure is None else f"CASE WHEN {value} = 1 THEN _t END"
            return f"CAST(as_of - MAX({moment}) AS DOUBLE) / {DAY_US}"
        case "trend":
            return f"{latest} - AVG({value})"
    raise ValueError(f"feature {feature.name!r}: aggregation {feature.aggregation!r} is not one of a source")


def _final(feature: Feature, where: dict[str, str]) -> str:
    """The feature's expression in the outer SELECT; numbers as 4-byte floats, categories as text."""
    if feature.aggregation == "least":
        value = least([f"{where[i]}.{q(i)}" for i in feature.inputs])
    elif feature.aggregation == "days_since":
        value = f"CAST(sp.as_of - c.{q(str(feature.measure))} AS DOUBLE) / {DAY_US}"
    elif feature.aggregation == "attribute":
        value = f"c.{q(str(feature.measure))}"
    else:
        value = f"{where[feature.name]}.{q(feature.name)}"
        if feature.aggregation in ZERO_WHEN_EMPTY:
            value = f"COALESCE({value}, 0)"
    # Float32 halves a 1M-customer training set; a feature needs no more than 7 significant digits.
    return f"CAST({value} AS VARCHAR)" if feature.dtype == "category" else f"CAST({value} AS FLOAT)"
