"""One way for the tests to start a small local Spark session."""

from __future__ import annotations

import os
import sys
from typing import Any


def local_session(name: str, cores: int = 1, arrow: bool = False, **conf: str) -> Any:
    """A local Spark session with few shuffle partitions and no UI.

    Args:
        name: the application name, which tells the tests' sessions apart in Spark's logs.
        cores: local worker threads.
        arrow: move data between pandas and Spark through Arrow.
        conf: more settings, keys with `_` for `.` (`spark_sql_warehouse_dir="/tmp/w"`).
    """
    from pyspark.sql import SparkSession

    # Spark's Python workers must be this venv's Python, which has pandas and the project.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(name)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", str(arrow).lower())
    )
    for key, value in conf.items():
        builder = builder.config(key.replace("_", "."), value)
    return builder.getOrCreate()


class DriverRows:
    """Records how many rows each action brings into the driver (`collect`, `toPandas`, `toArrow`, …).

    Every way a classic DataFrame hands rows to Python ends in one of the wrapped methods (`take`,
    `head` and `first` collect a `limit`); `toLocalIterator` streams a whole table, so it is refused.
    """

    WRAPPED = ("collect", "toPandas", "toArrow", "tail", "_collect_as_arrow")

    def __init__(self, monkeypatch: Any) -> None:
        from pyspark.sql.classic.dataframe import DataFrame

        self.counts: list[int] = []
        for name in self.WRAPPED:
            monkeypatch.setattr(DataFrame, name, self._wrap(getattr(DataFrame, name)))

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("toLocalIterator brings a whole table through the driver")

        monkeypatch.setattr(DataFrame, "toLocalIterator", refused)

    def _wrap(self, method: Any) -> Any:
        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.counts.append(_rows(result))
            return result

        return recorded

    @property
    def most(self) -> int:
        """The most rows one action brought into the driver (0 before any)."""
        return max(self.counts, default=0)


def _rows(result: Any) -> int:
    if isinstance(result, tuple):  # `_collect_as_arrow` gives (batches, …) on some versions
        result = result[0]
    if isinstance(result, list) and result and hasattr(result[0], "num_rows"):
        return sum(batch.num_rows for batch in result)
    return result.num_rows if hasattr(result, "num_rows") else len(result)
