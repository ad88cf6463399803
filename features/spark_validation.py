"""The data contract on Spark, without bringing a table into the driver.

Two passes, so that a lake of any size is checked in bounded driver memory:
- over every row, in Spark: values that do not parse as their kind (timestamp,
  number, yes/no), ids that no customer has, and duplicate keys; only counts and one example come back;
- over a *sample* (the first `SAMPLE_ROWS` rows of each table), every other rule of the contract
  exactly as `cxpredict validate` applies it (ranges, scales, orderings, the future, NULs): a
  breach that first occurs beyond the sample is not seen here; `cxpredict validate` sees it.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pandera.pandas as pa

from features.config import WorkspaceConfig
from features.contract import Kind, TableSpec
from features.problems import Problem, WorkspaceError, sort_problems
from features.schemas import Context, cell_problems, problems_from, table_schema
from features.spark_lake import find_lake_tables, parse_column, read_lake_table, typed_table
from features.validation import _latest_allowed, table_specs

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

SAMPLE_ROWS = 10_000  # rows per table checked by every rule in the driver
_KIND_WORDS = {Kind.TIMESTAMP: "a timestamp", Kind.NUMBER: "a number", Kind.BOOL: "yes or no"}


def load_lake(
    session: SparkSession, location: str, config: WorkspaceConfig, now: dt.datetime | None = None
) -> dict[str, DataFrame]:
    """The lake's tables at `location`, typed, once they meet the contract (see the module's note).

    Raises:
        WorkspaceError: with every problem found.
    """
    specs = table_specs(config)
    found = find_lake_tables(session, location, list(specs))
    if "customers" not in found:
        raise WorkspaceError([Problem("customers", None, None, "the customers table is required")])
    raw = {name: read_lake_table(session, table) for name, table in found.items()}
    problems: list[Problem] = []
    ctx = Context(None, _latest_allowed(now, config), config.scales)
    for name, frame in raw.items():
        file = found[name].location.rsplit("/", 1)[-1]
        frame = frame.drop(*config.exclude_columns.get(name, ()))
        problems += whole_table_problems(frame, specs[name], file, raw["customers"])
        problems += sample_problems(frame, specs[name], file, ctx, found[name].format)
    if problems:
        raise WorkspaceError(sort_problems(problems))
    return {name: typed_table(frame, specs[name], config) for name, frame in raw.items()}


def whole_table_problems(frame: DataFrame, spec: TableSpec, file: str, customers: DataFrame) -> list[Problem]:
    """The checks run over every row in Spark: what the typed tables and the SQL rely on."""
    from pyspark.sql import functions as F

    checked = [c for c in spec.columns if c.name in frame.columns and c.kind in _KIND_WORDS]
    bad = {
        c.name: F.col(_q(c.name)).isNotNull() & parse_column(frame, c.name, c.kind).isNull() for c in checked
    }
    problems = _counted(frame, bad, file, {c.name: f"must be {_KIND_WORDS[c.kind]}" for c in checked})
    if spec.name != "customers" and "customer_id" in frame.columns and "customer_id" in customers.columns:
        known = customers.select("customer_id").distinct().withColumn("_known", F.lit(True))
        joined = frame.select("customer_id").join(known, "customer_id", "left")
        rule = {"customer_id": "customer_id must exist in customers"}
        problems += _counted(joined, {"customer_id": F.col("_known").isNull()}, file, rule)
    if spec.key is not None and spec.key in frame.columns:
        repeated = frame.groupBy(spec.key).count()
        problems += _counted(
            repeated, {spec.key: F.col("count") > 1}, file, {spec.key: f"{spec.key} must be unique"}
        )
    return problems


def _counted(frame: DataFrame, bad: dict[str, Column], file: str, rules: dict[str, str]) -> list[Problem]:
    """One problem per column with rows that break its rule: how many, and the first value (one row back)."""
    from pyspark.sql import functions as F

    if not bad:
        return []
    aggregates = []
    for k, (name, condition) in enumerate(bad.items()):
        aggregates.append(F.sum(condition.cast("int")).alias(f"n{k}"))
        aggregates.append(
            F.first(F.when(condition, F.col(_q(name)).cast("string")), ignorenulls=True).alias(f"v{k}")
        )
    row = frame.agg(*aggregates).first()
    if row is None:
        return []
    return [
        Problem(file, None, name, f"{rules[name]} ({row[f'n{k}']:,} rows)", row[f"v{k}"])
        for k, name in enumerate(bad)
        if row[f"n{k}"]
    ]


def _q(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sample_problems(frame: DataFrame, spec: TableSpec, file: str, ctx: Context, format: str) -> list[Problem]:
    """Every rule of the contract on the table's first `SAMPLE_ROWS` rows, as `validate` checks them.

    Customer ids are checked over the whole table instead (`whole_table_problems`): a sample of
    customers would make every other id look unknown.
    """
    sample = frame.limit(SAMPLE_ROWS).toPandas()
    if sample.empty:
        return [Problem(file, None, None, "the table has no data rows")]
    first_row = 2 if format == "csv" else 1  # a CSV's header is row 1
    problems = cell_problems(sample, file, first_row)
    try:
        table_schema(spec, sample.columns, Context(None, ctx.latest_allowed, ctx.scales)).validate(
            sample, lazy=True
        )
    except pa.errors.SchemaErrors as exc:
        problems += problems_from(exc, file, first_row)
    return problems
