"""Run the catalogue's SQL over a spine of (customer, moment) pairs, on DuckDB or Spark.

Tables reach the engines as Arrow with every timestamp turned into microseconds since the epoch:
time arithmetic becomes integer arithmetic, which both dialects share, and no session time zone
can shift a moment. The engines differ only in where the one generated query runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
import pyarrow as pa

from features.catalogue import Catalogue, SourceColumn
from features.partition import CustomerPartition
from features.sql import feature_sql, source_table, spark_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

KEYS = ("customer_id", "as_of")
_EPOCH = pd.Timestamp(0, tz="UTC")
CHUNK_ROWS = 250_000  # spine rows per query: bounds each query's memory; each event is joined once anyway
_ARROW_TYPES = {"time": pa.int64(), "number": pa.float64(), "text": pa.string()}


class Engine(Protocol):
    """Somewhere the generated SQL runs: Arrow tables in, an Arrow table out."""

    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        """Run the DuckDB-dialect `sql` over `tables` registered under their names."""
        ...


class DuckDBEngine:
    """The embedded default: a fresh in-memory DuckDB per query, reading Arrow without copying."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        self.config = dict(config or {})

    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        """Run `sql` over `tables`; see `Engine.run`."""
        import duckdb

        # Insertion order is irrelevant (rows carry `_row`), and keeping it costs memory at scale.
        with duckdb.connect(config={"preserve_insertion_order": False, **self.config}) as con:
            for name, table in tables.items():
                con.register(name, table)
            return con.sql(sql).to_arrow_table()


class SparkEngine:
    """Spark SQL on a given session (local mode in tests), running the transpiled query."""

    def __init__(self, session: SparkSession) -> None:
        self.session = session

    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        """Run `sql`, transpiled to Spark SQL, over `tables`; see `Engine.run`."""
        for name, table in tables.items():
            self.session.createDataFrame(table).createOrReplaceTempView(name)
        return self.session.sql(spark_sql(sql)).toArrow()


def get_engine(engine: str | Engine) -> Engine:
    """An engine by name (`duckdb`, `spark` in local mode), or the engine given."""
    if not isinstance(engine, str):
        return engine
    if engine == "duckdb":
        return DuckDBEngine()
    if engine == "spark":
        from pyspark.sql import SparkSession

        return SparkEngine(SparkSession.builder.master("local[*]").appName("cxpredict").getOrCreate())
    raise ValueError(f"unknown feature engine {engine!r}: use 'duckdb' or 'spark'")


def compute_features(
    tables: Mapping[str, pd.DataFrame],
    keys: pd.DataFrame,
    catalogue: Catalogue,
    engine: str | Engine = "duckdb",
    chunk_rows: int = CHUNK_ROWS,
) -> pd.DataFrame:
    """Every feature of `catalogue` for each row of `keys`, as known strictly before its `as_of`.

    Args:
        tables: typed tables as `load_workspace` returns them.
        keys: `customer_id` and `as_of` (UTC timestamps) per row, plus any columns to keep.
        catalogue: the features to compute (a model's, to score as it was trained).
        engine: `duckdb`, `spark`, or an engine object.
        chunk_rows: spine rows per query; bounds the engine's memory on millions of examples.

    Returns:
        `keys` (index reset), then the numeric features (float32), then the categorical ones
        (`category`); each (customer, moment) pair is computed once however often it appears.
    """
    keys = keys.reset_index(drop=True)
    codes, spine = spine_of(keys)
    output = _Output(catalogue, len(spine))
    for rows, result in run_chunks(tables, spine, catalogue, engine, chunk_rows):
        output.fill(rows, result)
    features = output.frame()
    if not np.array_equal(codes, np.arange(len(codes))):
        features = features.iloc[codes].reset_index(drop=True)
    return pd.concat([keys, features], axis=1)


def spine_of(keys: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The distinct (customer, moment) pairs of `keys`, and each key row's position among them."""
    codes = keys.groupby(list(KEYS), sort=False, dropna=False).ngroup().to_numpy()
    return codes, keys.loc[~pd.Series(codes).duplicated().to_numpy(), list(KEYS)]


def run_chunks(
    tables: Mapping[str, pd.DataFrame],
    spine: pd.DataFrame,
    catalogue: Catalogue,
    engine: str | Engine = "duckdb",
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[tuple[np.ndarray, pa.Table]]:
    """Run the catalogue's SQL chunk by chunk: (spine positions, their feature rows in that order)."""
    runner, sql = get_engine(engine), feature_sql(catalogue)
    partition = CustomerPartition(spine_table(spine))
    for name, table in prepared_tables(tables, catalogue):
        partition.add(name, table)  # one source at a time: its unsorted copy is freed before the next
    for chunk in partition.chunks(chunk_rows):
        result = runner.run(sql, chunk.tables)
        yield chunk.rows, result.take(pa.array(np.argsort(np.asarray(result["_row"]), kind="stable")))


class _Output:
    """The feature frame, filled chunk by chunk (rows in any order) without ever holding it twice.

    Each engine's Arrow output goes column by column straight into its place: converting whole
    chunks to pandas first would copy every value twice more.
    """

    def __init__(self, catalogue: Catalogue, rows: int) -> None:
        self.numbers = [f.name for f in catalogue.features if f.dtype != "category"]
        self.texts = [f.name for f in catalogue.features if f.dtype == "category"]
        self.values = np.empty((len(self.numbers), rows), dtype=np.float32)
        self.rows: list[np.ndarray] = []
        self.parts: dict[str, list[pa.ChunkedArray]] = {name: [] for name in self.texts}

    def fill(self, rows: np.ndarray, result: pa.Table) -> None:
        """Place `result`'s feature rows at the spine positions `rows`."""
        for index, name in enumerate(self.numbers):
            self.values[index, rows] = floats(result[name])
        self.rows.append(rows)
        for name in self.texts:
            self.parts[name].append(result[name].cast(pa.string()))

    def frame(self) -> pd.DataFrame:
        numbers = pd.DataFrame(self.values.T, columns=self.numbers, copy=False)
        order = pa.array(np.argsort(np.concatenate(self.rows)) if self.rows else np.empty(0, np.int64))
        texts = {
            name: _category(pa.chunked_array(parts, pa.string()).take(order))
            for name, parts in self.parts.items()
        }
        return pd.concat([numbers, pd.DataFrame(texts, index=numbers.index)], axis=1)


def _category(column: pa.ChunkedArray) -> pd.Series:
    """A text column as a pandas `category` with sorted levels (encoded by Arrow: far faster)."""
    values = column.combine_chunks().dictionary_encode().to_pandas()
    return values.cat.set_categories(sorted(values.cat.categories))


def floats(column: pa.ChunkedArray) -> np.ndarray:
    """A numeric result column as float32, nulls as NaN (whatever type the engine returned)."""
    return np.asarray(column.cast(pa.float32()).to_numpy(), dtype=np.float32)


def spine_table(spine: pd.DataFrame) -> pa.Table:
    """The spine as Arrow: `customer_id`, `as_of` in microseconds."""
    return pa.table(
        {
            "customer_id": _arrow(spine["customer_id"], "text"),
            "as_of": _arrow(spine["as_of"], "time"),
        }
    )


def prepare_tables(tables: Mapping[str, pd.DataFrame], catalogue: Catalogue) -> dict[str, pa.Table]:
    """Each source's table as the SQL reads it: `customer_id` and its columns, times in microseconds."""
    return dict(prepared_tables(tables, catalogue))


def prepared_tables(
    tables: Mapping[str, pd.DataFrame], catalogue: Catalogue
) -> Iterator[tuple[str, pa.Table]]:
    """`prepare_tables`, one source at a time, under the name the SQL reads it by."""
    used = {f.source for f in catalogue.features}
    for source in catalogue.sources:
        frame = tables.get(source.name)
        if frame is not None and source.name in used:
            yield source_table(source.name), source_arrow(frame, source.columns)


def source_arrow(frame: pd.DataFrame, columns: tuple[SourceColumn, ...]) -> pa.Table:
    """One source's rows as Arrow with the catalogue's column kinds (missing columns are all null)."""
    data = {"customer_id": _arrow(frame["customer_id"], "text")}
    for column in columns:
        if column.name in frame.columns:
            data[column.name] = _arrow(frame[column.name], column.kind)
        else:
            data[column.name] = pa.nulls(len(frame), _ARROW_TYPES[column.kind])
    return pa.table(data)


def _arrow(values: pd.Series, kind: str) -> pa.Array:
    if kind == "time":
        return pa.array(to_micros(values), type=pa.int64())
    if kind == "number":
        return pa.array(pd.to_numeric(values, errors="coerce").astype("Float64"), type=pa.float64())
    return pa.array(values.astype("string"), type=pa.string())


def to_micros(values: pd.Series) -> pd.Series:
    """UTC timestamps as integer microseconds since the epoch (nullable)."""
    stamps = pd.to_datetime(values, utc=True).dt.tz_convert(None).astype("datetime64[us]")
    return pd.Series(stamps.to_numpy().view(np.int64), index=values.index).mask(stamps.isna()).astype("Int64")


def timestamp_micros(moment: pd.Timestamp | dt.datetime) -> int:
    """One moment as microseconds since the epoch (naive means UTC)."""
    stamp = pd.Timestamp(moment)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp
    return int((stamp - _EPOCH) // pd.Timedelta(microseconds=1))
