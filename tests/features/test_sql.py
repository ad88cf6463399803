"""The generated SQL stays valid in every dialect, whatever sources a workspace has."""

from __future__ import annotations

import pytest
import sqlglot
from sqlglot import exp

from features.sql import least, spark_sql

VARIADIC = (exp.Least, exp.Greatest, exp.Coalesce)


def single_argument_calls(sql: str) -> list[str]:
    tree = sqlglot.parse_one(sql, read="spark")
    return [node.sql() for node in tree.find_all(*VARIADIC) if not node.expressions]


@pytest.mark.parametrize(
    ("terms", "want"), [([], "NULL"), (["a.x"], "a.x"), (["a.x", "b.y"], "LEAST(a.x, b.y)")]
)
def test_least_writes_no_call_of_fewer_than_two_terms(terms: list[str], want: str) -> None:
    assert least(terms) == want


def test_spark_sql_unwraps_every_single_argument_least_greatest_and_coalesce() -> None:
    duckdb_sql = "SELECT LEAST(a) AS x, GREATEST(COALESCE(b), 0) AS y, LEAST(a, b) AS z FROM t"
    spark = spark_sql(duckdb_sql)
    assert single_argument_calls(spark) == []
    assert "GREATEST(b, 0)" in spark and "LEAST(a, b)" in spark
