"""One way for the tests to start a small local Spark session."""

from __future__ import annotations

import os
import sys
from typing import Any


def local_session(name: str, cores: int = 1, arrow: bool = False) -> Any:
    """A local Spark session with few shuffle partitions and no UI.

    Args:
        name: the application name, which tells the tests' sessions apart in Spark's logs.
        cores: local worker threads.
        arrow: move data between pandas and Spark through Arrow.
    """
    from pyspark.sql import SparkSession

    # Spark's Python workers must be this venv's Python, which has pandas and the project.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(name)
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", str(arrow).lower())
        .getOrCreate()
    )
