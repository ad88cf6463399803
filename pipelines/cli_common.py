"""What the command modules share: the console, the argument types and the exit codes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

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
