"""`cxpredict features` and `cxpredict score` with `--engine spark`: read, compute and write in Spark.

The tables are read where they lie (`--tables`: a folder, `s3a://`, `hdfs://` or `catalog:<db>`),
the features are one Spark SQL query, the models run in the executors, and the result is a
Parquet dataset (a folder of part files, one per partition of the final stage) written by the
executors. The driver holds plans, a table profile and single summary rows, never the data.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from features.config import WorkspaceConfig
from features.problems import DataProblem

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from training.tracking import MlflowConfig

_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:/")


@dataclass(frozen=True)
class SparkJob:
    """Where a Spark command reads and writes, and the session settings it adds."""

    tables: str
    out: str
    conf: Sequence[str] = ()


def features_frame(
    job: SparkJob, config: WorkspaceConfig, as_of: dt.datetime | None
) -> tuple[SparkSession, DataFrame]:
    """The scoring set of the lake at `job.tables` as a Spark DataFrame (nothing computed yet)."""
    from features.spark_features import latest_moment, scoring_features, spark_catalogue
    from features.spark_lake import spark_session
    from features.spark_validation import load_lake

    session = spark_session(job.conf)
    tables = load_lake(session, job.tables, config)
    moment = latest_moment(tables) + pd.Timedelta(microseconds=1) if as_of is None else pd.Timestamp(as_of)
    return session, scoring_features(session, tables, spark_catalogue(tables, config), moment)


def write_features(job: SparkJob, config: WorkspaceConfig, as_of: dt.datetime | None) -> int:
    """`cxpredict features --engine spark`: the scoring set written as a Parquet dataset; its rows."""
    _, frame = features_frame(job, config, as_of)
    return write_dataset(frame, job.out)


def write_training_set(job: SparkJob, config: WorkspaceConfig, kind: str) -> int:
    """`cxpredict features --set satisfaction|churn --engine spark`: the training set's rows written.

    Raises:
        ValueError: when the workspace lacks the table the set needs.
    """
    from features.spark_lake import spark_session
    from features.spark_training import training_frame
    from features.spark_validation import load_lake

    session = spark_session(job.conf)
    tables = load_lake(session, job.tables, config)
    return write_dataset(training_frame(session, tables, config, kind), job.out)


def write_scores(
    job: SparkJob, config: WorkspaceConfig, mlflow_config: MlflowConfig, as_of: dt.datetime | None
) -> tuple[int, list[str]]:
    """`cxpredict score --engine spark`: scores and reasons as a Parquet dataset; rows, summary lines."""
    from pipelines.spark_scoring import score_frame, summary_lines

    session, features = features_frame(job, config, as_of)
    rows = write_dataset(score_frame(session, features, mlflow_config), job.out)
    written = session.read.parquet(job.out)  # the summary reads the file, not a second scoring
    return rows, list(summary_lines(written))


def write_dataset(frame: DataFrame, out: str) -> int:
    """Write `frame` as Parquet at `out`; a local folder appears whole or not at all. Returns its rows.

    Raises:
        DataProblem: when there are no rows to write.
    """
    if _URI.match(out) and not out.startswith("file:"):
        frame.write.mode("overwrite").parquet(out)  # the cluster's committer makes this atomic
        return _rows(frame.sparkSession, out)
    target = Path(out)
    # not `.name`: Spark skips paths that start with `.` or `_` when it reads the folder back
    partial = target.with_name(f"{target.name}.{uuid.uuid4().hex[:12]}.partial")
    try:
        frame.write.parquet(str(partial))
        rows = _rows(frame.sparkSession, str(partial))
        if rows == 0:
            raise DataProblem("no customer existed before that moment: there is nothing to write")
        if target.is_dir():
            shutil.rmtree(target)  # a previous dataset of this command (check_output refused others)
        partial.rename(target)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return rows


def _rows(session: SparkSession, path: str) -> int:
    """Rows of a written dataset, from its files' footers (no second computation)."""
    return session.read.parquet(path).count()
