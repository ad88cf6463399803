"""A workspace's tables as Spark DataFrames, read where they lie: a folder, a URI or a catalog.

Nothing here collects a table: each table stays a lazy DataFrame, typed by the data contract as
`features.validation.to_typed` types pandas tables (UTC timestamps, doubles, booleans, text), so
the catalogue and the point-in-time SQL see the same columns on Spark as on DuckDB.

The session comes from the usual Spark settings (`spark-defaults.conf`, `SPARK_*` variables,
`PYSPARK_SUBMIT_ARGS`, or `--spark-conf key=value`); without any, Spark runs in local mode.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from features.config import WorkspaceConfig
from features.contract import Kind, TableSpec
from features.io import SUFFIXES
from features.problems import DataProblem

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

CATALOG_PREFIX = "catalog:"  # `catalog:db` reads the tables `db.customers`, `db.tickets`, …
TRUE_WORDS = ("true", "yes", "1", "t", "y")
FALSE_WORDS = ("false", "no", "0", "f", "n")


@dataclass(frozen=True)
class LakeTable:
    """One table found in the lake: its name, where it lies (path or catalog name), its format."""

    name: str
    location: str
    format: str  # parquet, csv or table


def spark_session(conf: Sequence[str] = ()) -> SparkSession:
    """The active Spark session, or a new one from the usual Spark settings plus `conf`.

    Args:
        conf: `key=value` settings (as `spark-submit --conf` takes them) applied to a new session.

    Raises:
        DataProblem: when a setting is not `key=value`.
    """
    from pyspark.sql import SparkSession

    # Spark's Python workers must run this Python, which has pandas and the project's models.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName("cxpredict").config("spark.ui.showConsoleProgress", "false")
    for setting in conf:
        key, sep, value = setting.partition("=")
        if not sep or not key.strip():
            raise DataProblem(f"--spark-conf {setting!r} is not key=value")
        builder = builder.config(key.strip(), value.strip())
    # a session already running (a notebook's, the tests') is used as it is, settings and all
    session = SparkSession.getActiveSession() or builder.getOrCreate()
    # The contract reads a naive timestamp as UTC, whatever the cluster's time zone.
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    return session


def find_lake_tables(session: SparkSession, location: str, names: Sequence[str]) -> dict[str, LakeTable]:
    """The tables of `names` present at `location` (a folder or URI, or `catalog:<database>`).

    A table is `<name>.parquet` (a file or a folder of part files) or `<name>.csv` under the
    folder; in a catalog it is `<database>.<name>`.

    Raises:
        DataProblem: when the location does not exist or a table has both a Parquet and a CSV file.
    """
    if location.startswith(CATALOG_PREFIX):
        database = location.removeprefix(CATALOG_PREFIX)
        if not database or not session.catalog.databaseExists(database):
            raise DataProblem(f"--tables {location}: the catalog has no database {database!r}")
        present = {t.name.lower() for t in session.catalog.listTables(database)}
        return {n: LakeTable(n, f"{database}.{n}", "table") for n in names if n in present}
    # Hadoop's FileSystem answers for every scheme the cluster is set up for (file, s3a, hdfs, …).
    jvm: Any = session.sparkContext._jvm
    root = jvm.org.apache.hadoop.fs.Path(location)
    fs = root.getFileSystem(session.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(root):
        raise DataProblem(f"the tables' location {location} does not exist")
    found: dict[str, LakeTable] = {}
    for name in names:
        files = [f"{location.rstrip('/')}/{name}{s}" for s in SUFFIXES]
        existing = [f for f in files if fs.exists(jvm.org.apache.hadoop.fs.Path(f))]
        if len(existing) > 1:
            raise DataProblem(f"one file per table: both {name}.parquet and {name}.csv exist in {location}")
        if existing:
            found[name] = LakeTable(name, existing[0], existing[0].rsplit(".", 1)[1])
    return found


def read_lake_table(session: SparkSession, table: LakeTable) -> DataFrame:
    """One table as Spark reads it: CSV as text (as the contract reads it), Parquet as typed."""
    if table.format == "table":
        return session.table(table.location)
    if table.format == "csv":
        return session.read.options(
            header=True, inferSchema=False, encoding="UTF-8", multiLine=True, escape='"',
            ignoreLeadingWhiteSpace=True, ignoreTrailingWhiteSpace=True,
        ).csv(table.location)  # fmt: skip
    return session.read.parquet(table.location)


def typed_table(frame: DataFrame, spec: TableSpec, config: WorkspaceConfig) -> DataFrame:
    """`frame` with each column parsed by its kind, as `to_typed` parses a pandas table.

    Extra columns become numbers when every value is one (checked over the whole table in Spark).
    """
    from pyspark.sql import functions as F

    frame = frame.drop(*config.exclude_columns.get(spec.name, ()))
    columns = []
    for name in frame.columns:
        column = spec.column(name)
        kind = column.kind if column is not None else _extra_kind(frame, name)
        columns.append(parse_column(frame, name, kind).alias(name))
    typed = frame.select(*columns)
    if spec.name == "surveys" and "metric" in typed.columns:
        typed = typed.withColumn("metric", F.lower(F.trim(F.col("metric"))))
    return typed


def parse_column(frame: DataFrame, name: str, kind: Kind | None) -> Column:
    """One column parsed by kind; a value that does not parse becomes NULL (validation reports it)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    value, source = F.col(name), frame.schema[name].dataType
    if kind is Kind.TIMESTAMP:
        if isinstance(source, (T.TimestampType, T.TimestampNTZType, T.DateType)):
            return value.cast("timestamp")
        return F.try_to_timestamp(value.cast("string"))
    if kind is Kind.NUMBER:
        return value.cast("double") if _is_numeric(source) else F.expr(f"try_cast({_q(name)} AS DOUBLE)")
    if kind is Kind.BOOL:
        if isinstance(source, T.BooleanType):
            return value
        word = F.lower(F.trim(value.cast("string")))
        return F.when(word.isin(*TRUE_WORDS), F.lit(True)).when(word.isin(*FALSE_WORDS), F.lit(False))
    if kind is None and _is_numeric(source):
        return value.cast("double")
    if kind is None and isinstance(source, T.BooleanType):
        return value
    if kind is None and isinstance(source, (T.TimestampType, T.TimestampNTZType)):
        return value.cast("timestamp")
    return value.cast("string")


def _extra_kind(frame: DataFrame, name: str) -> Kind | None:
    """NUMBER for an extra text column whose every value is a number, else None (its own type)."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    if not isinstance(frame.schema[name].dataType, T.StringType):
        return None
    parsed = F.expr(f"try_cast({_q(name)} AS DOUBLE)")
    unparsed = frame.where(F.col(name).isNotNull() & parsed.isNull()).limit(1).count()
    return Kind.NUMBER if unparsed == 0 else None


def _is_numeric(source: object) -> bool:
    from pyspark.sql import types as T

    return isinstance(source, (T.NumericType, T.BooleanType))


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"
