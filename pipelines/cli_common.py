"""What the command modules share: the console, the argument types and the exit codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

console = Console()
EXIT_INVALID = 2
EXIT_NOT_BUILT = 3

Workspace = Annotated[
    Path,
    typer.Argument(help="Workspace folder: one <table>.csv or <table>.parquet per table, optional cx.yml."),
]
MlflowFile = Annotated[
    Path, typer.Option("--mlflow-config", help="MLflow settings file; MLFLOW_TRACKING_URI wins over it.")
]
ModelKind = Annotated[
    Literal["churn", "satisfaction"], typer.Option(help="Which model: churn or satisfaction.")
]


def utc(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC; a moment without an offset is read as UTC, as the data contract does."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


TablesOption = Annotated[
    str | None,
    typer.Option(
        "--tables",
        help="With --engine spark: where the tables lie, if not in WORKSPACE: a folder, an s3a:// or "
        "hdfs:// URI, or catalog:<database>. cx.yml is still read from WORKSPACE.",
    ),
]
SparkConfOption = Annotated[
    list[str] | None,
    typer.Option(
        "--spark-conf",
        help="With --engine spark: a Spark setting key=value (repeatable), as spark-submit --conf; "
        "spark-defaults.conf and SPARK_* variables apply too.",
    ),
]


def spark_job(workspace: Path, out: str | None, default: str, tables: str | None, conf: list[str]) -> Any:
    """Where a `--engine spark` command reads and writes (a `pipelines.spark_jobs.SparkJob`).

    `--out` is a Parquet dataset (a folder); a folder already there is replaced only when it is a
    dataset Spark wrote (it holds `_SUCCESS`).
    """
    from features.problems import DataProblem
    from pipelines.spark_jobs import SparkJob

    target = out if out else str(workspace.resolve().parent / default)
    local = Path(target.removeprefix("file:"))
    if "://" not in target:
        if local.is_dir() and not (local / "_SUCCESS").exists():
            raise DataProblem(f"--out {target} is a folder that Spark did not write; give another name")
        if local.is_file():
            raise DataProblem(f"--out {target} is a file; Spark writes a folder of Parquet part files")
        if not local.parent.is_dir():
            raise DataProblem(f"--out {target}: the folder {local.parent} does not exist; create it first")
        if local.resolve().is_relative_to(workspace.resolve()):
            raise DataProblem(f"--out {target} lies inside the workspace {workspace}; write it elsewhere")
    return SparkJob(tables or str(workspace.resolve()), target, tuple(conf))
