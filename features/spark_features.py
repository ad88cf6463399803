"""The scoring set on Spark: the catalogue's point-in-time SQL over the lake's tables, never collected.

The catalogue is built by the very code that builds it for DuckDB (`build_catalogue`), from a
*profile* of each table rather than the table: its columns with their kinds, and for each text
column its (at most 21) most frequent values, ties in order of first appearance, as pandas'
`value_counts` orders them. That is all `build_catalogue` reads, so both engines compute the same
features; only a few rows per column ever reach the driver.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from features.catalogue import Catalogue, SourceColumn
from features.config import WorkspaceConfig
from features.discover import MAX_LEVELS, build_catalogue
from features.engine import timestamp_micros
from features.sql import SPINE, feature_sql, source_table, spark_sql

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

_SPARK_TYPES = {"time": "bigint", "number": "double", "text": "string"}


def profile_tables(tables: Mapping[str, DataFrame]) -> dict[str, pd.DataFrame]:
    """Small pandas stand-ins of `tables` from which `build_catalogue` builds the same catalogue."""
    return {name: profile(frame) for name, frame in tables.items()}


def profile(frame: DataFrame) -> pd.DataFrame:
    """One table's stand-in: its columns' kinds, and its text columns' most frequent values.

    A text column's values come back ranked (count descending, then first appearance); value k of
    n is repeated n - k times, so the stand-in's `value_counts` ranks them alike.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    columns: dict[str, pd.Series] = {}
    texts = [f.name for f in frame.schema.fields if isinstance(f.dataType, T.StringType)]
    ranked = _ranked_values(frame.withColumn("_pos", F.monotonically_increasing_id()), texts)
    rows = max([1, *(len(v) * (len(v) + 1) // 2 for v in ranked.values())])
    for field in frame.schema.fields:
        if field.name in ranked:
            values = ranked[field.name]
            repeated = [v for k, v in enumerate(values) for _ in range(len(values) - k)]
            columns[field.name] = pd.Series(repeated + [None] * (rows - len(repeated)), dtype="string")
        elif isinstance(field.dataType, (T.TimestampType, T.TimestampNTZType)):
            columns[field.name] = pd.Series(pd.NaT, index=range(rows), dtype="datetime64[us, UTC]")
        else:  # numbers and booleans are both numeric kinds to the catalogue
            columns[field.name] = pd.Series(float("nan"), index=range(rows), dtype="float64")
    return pd.DataFrame(columns)


def _ranked_values(frame: DataFrame, texts: list[str]) -> dict[str, list[str]]:
    """Each text column's up to `MAX_LEVELS + 1` most frequent values, in one job per table.

    The columns are stacked into (column, value) pairs and ranked per column by a window, so what
    returns is at most `MAX_LEVELS + 1` rows per column, whatever the table's size.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    ranked: dict[str, list[str]] = {name: [] for name in texts}
    counted = [name for name in texts if name != "customer_id"]  # an id is never a category
    if not counted:
        return ranked
    pairs = F.explode(
        F.array(*[F.struct(F.lit(n).alias("c"), F.col(_q(n)).cast("string").alias("v")) for n in counted])
    )
    stacked = (
        frame.select(pairs.alias("p"), "_pos").select("p.c", "p.v", "_pos").where(F.col("v").isNotNull())
    )
    counts = stacked.groupBy("c", "v").agg(F.count(F.lit(1)).alias("n"), F.min("_pos").alias("first"))
    rank = F.row_number().over(Window.partitionBy("c").orderBy(F.desc("n"), F.asc("first")))
    top = counts.withColumn("rank", rank).where(F.col("rank") <= MAX_LEVELS + 1)
    for row in top.orderBy("c", "rank").collect():
        ranked[row["c"]].append(row["v"])
    return ranked


def spark_catalogue(tables: Mapping[str, DataFrame], config: WorkspaceConfig) -> Catalogue:
    """The catalogue `build_catalogue` gives for these tables, built from their profiles."""
    return build_catalogue(profile_tables(tables), config)


def latest_moment(tables: Mapping[str, DataFrame]) -> pd.Timestamp:
    """The latest timestamp in any column of any table (one row per table reaches the driver).

    Raises:
        ValueError: when no table holds a timestamp.
    """
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    latest = []
    for frame in tables.values():
        times = [f.name for f in frame.schema.fields if isinstance(f.dataType, T.TimestampType)]
        if times:
            # as microseconds: PySpark would turn a timestamp into the driver's local time
            micros = [F.max(F.unix_micros(F.col(_q(c)))) for c in times]
            row = frame.select(F.greatest(*micros, F.lit(None).cast("bigint"))).first()
            if row is not None and row[0] is not None:
                latest.append(pd.Timestamp(row[0], unit="us", tz="UTC"))
    if not latest:
        raise ValueError("the workspace holds no timestamps to take the data's end from")
    return max(latest)


def scoring_features(
    session: SparkSession,
    tables: Mapping[str, DataFrame],
    catalogue: Catalogue,
    as_of: dt.datetime | pd.Timestamp,
) -> DataFrame:
    """One row per customer existing at `as_of`: `customer_id`, `as_of`, then every feature.

    The columns come in the order `compute_features` gives them (numbers, then categories);
    rows come in no particular order.
    """
    from pyspark.sql import functions as F

    moment = timestamp_micros(as_of)
    customers = tables["customers"]
    # an unknown joining date keeps the customer, as `build_scoring_set` does
    exists = ~F.coalesce(F.unix_micros(F.col("created_at")) >= F.lit(moment), F.lit(False))
    keys = customers.where(exists) if "created_at" in customers.columns else customers
    spine = keys.select(
        F.col("customer_id").cast("string").alias("_row"),
        F.col("customer_id").cast("string").alias("customer_id"),
        F.lit(moment).cast("bigint").alias("as_of"),
    )
    result = spine_features(session, tables, catalogue, spine)
    return result.select(
        F.col("_row").alias("customer_id"),
        F.timestamp_micros(F.lit(moment)).alias("as_of"),
        *[F.col(_q(c)) for c in result.columns if c != "_row"],
    )


def spine_features(
    session: SparkSession, tables: Mapping[str, DataFrame], catalogue: Catalogue, spine: DataFrame
) -> DataFrame:
    """`_row`, then every feature of `catalogue` (numbers, then categories) for each spine row.

    Args:
        session: where the query runs.
        tables: the typed tables.
        catalogue: the features to compute.
        spine: `_row` (unique text), `customer_id`, `as_of` (microseconds since the epoch).
    """
    from pyspark.sql import functions as F

    views = {SPINE: spine, **prepared_sources(tables, catalogue)}
    for name, view in views.items():
        view.createOrReplaceTempView(name)
    result = session.sql(spark_sql(feature_sql(catalogue)))
    numbers = [f.name for f in catalogue.features if f.dtype != "category"]
    texts = [f.name for f in catalogue.features if f.dtype == "category"]
    return result.select(F.col("_row"), *[F.col(_q(name)) for name in numbers + texts])


def prepared_sources(tables: Mapping[str, DataFrame], catalogue: Catalogue) -> dict[str, DataFrame]:
    """Each used source as the SQL reads it (`prepared_tables`' Spark twin): times in microseconds."""
    used = {f.source for f in catalogue.features}
    return {
        source_table(source.name): tables[source.name].select(
            _cast(tables[source.name], SourceColumn("customer_id", "text")),
            *[_cast(tables[source.name], column) for column in source.columns],
        )
        for source in catalogue.sources
        if source.name in tables and source.name in used
    }


def _cast(frame: DataFrame, column: SourceColumn) -> Column:
    from pyspark.sql import functions as F

    if column.name not in frame.columns:
        return F.lit(None).cast(_SPARK_TYPES[column.kind]).alias(column.name)
    value = F.col(_q(column.name))
    if column.kind == "time":
        return F.unix_micros(value.cast("timestamp")).alias(column.name)
    return value.cast(_SPARK_TYPES[column.kind]).alias(column.name)


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
