"""`cxpredict train`, `promote`, `rollback`, `score` and `monitor`: the models' life cycle."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from features.config import ConfigError, WorkspaceConfig, load_config
from features.problems import DataProblem, WorkspaceError
from features.validation import validate_workspace
from pipelines.cli_common import (
    EXIT_INVALID,
    MlflowFile,
    ModelKind,
    SparkConfOption,
    TablesOption,
    Workspace,
    console,
    spark_job,
    utc,
)
from pipelines.outputs import atomic_path, check_output, write_text
from pipelines.render import print_problems, score_lines


def train(
    workspace: Workspace,
    holdout_from: Annotated[
        dt.datetime | None, typer.Option(help="Hold out examples from this date on (default: latest 20%).")
    ] = None,
    metrics_out: Annotated[
        Path | None, typer.Option(help="Write the holdout metrics to this JSON file.")
    ] = None,
    holdout_customers: Annotated[
        float | None, typer.Option(help="Instead, hold out this fraction of customers (0-1).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the trees and the customer holdout.")] = 0,
    churn_cutoffs: Annotated[
        list[dt.datetime] | None, typer.Option(help="A churn cutoff date; repeat for several.")
    ] = None,
    churn_horizon_days: Annotated[int | None, typer.Option(help="Churn within this many days.")] = None,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Train the satisfaction and churn models, evaluate them by time and log them to MLflow.

    Each new version is registered; the promotion gate moves @champion only when it beats the
    champion on the same holdout.
    """
    from training.fitting import FitOptions  # training pulls in LightGBM and MLflow: load on use
    from training.pipeline import HoldoutSpec
    from training.tracking import load_mlflow_config
    from training.workspace import train_supported

    churn = {
        "horizon_days": churn_horizon_days,
        "cutoffs": tuple(c.date() for c in churn_cutoffs or ()) or None,
    }
    if holdout_customers is not None and not 0 < holdout_customers < 1:
        raise typer.BadParameter(f"must lie strictly between 0 and 1, got {holdout_customers:g}")
    if metrics_out is not None:
        check_output(metrics_out, "--metrics-out")
    config = _config(workspace).with_overrides(churn=churn)
    report = validate_workspace(workspace, config)
    if not report.ok:
        print_problems(console, report.problems)
        raise typer.Exit(EXIT_INVALID)
    holdout = HoldoutSpec(None if holdout_from is None else holdout_from.date(), holdout_customers, seed)
    metrics, skipped = train_supported(
        report.tables, config, load_mlflow_config(mlflow_config), holdout, FitOptions(seed=seed)
    )
    if not metrics:
        raise DataProblem("Nothing trained: " + "; ".join(skipped.values()))
    _print_trained(metrics, skipped, metrics_out)


def _config(workspace: Path) -> WorkspaceConfig:
    try:
        return load_config(workspace)
    except ConfigError as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc


def _print_trained(metrics: dict[str, Any], skipped: dict[str, str], metrics_out: Path | None) -> None:
    for kind, reason in skipped.items():
        console.print(f"No {kind} model trained: {reason}.", style="yellow", markup=False, soft_wrap=True)
    console.print_json(json.dumps(metrics))
    if metrics_out is not None:
        write_text(metrics_out, json.dumps(metrics, indent=2))
        console.print(f"Wrote metrics to {metrics_out}")


def promote(
    workspace: Workspace,
    version: Annotated[str, typer.Option(help="The registered model version to serve.")],
    reason: Annotated[str, typer.Option(help="Why; recorded on the version.")],
    model: ModelKind = "churn",
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Move a model's @champion alias to a version, with a recorded reason."""
    from training.registry import promote_model

    def to_version(name: str, alias: str) -> str:
        promote_model(name, version, reason, alias)
        return version

    _move_alias(mlflow_config, model, to_version)


def rollback(
    workspace: Workspace,
    reason: Annotated[str, typer.Option(help="Why; recorded on both versions.")],
    model: ModelKind = "churn",
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Move @champion back to the version it pointed at before."""
    from training.registry import rollback_model

    _move_alias(mlflow_config, model, lambda name, alias: rollback_model(name, reason, alias))


def _move_alias(mlflow_config: Path, model: str, move: Callable[[str, str], str]) -> None:
    """Run `move(registered name, alias)` against the configured registry; it returns the new version."""
    from training.tracking import activate, load_mlflow_config

    settings = load_mlflow_config(mlflow_config)
    activate(settings)
    name, alias = settings.model_name(model), settings.serving_alias
    try:
        version = move(name, alias)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"{name}@{alias} -> version {version}")


def score(
    workspace: Workspace,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Score with what was known strictly before this moment (default: after the latest event)."
        ),
    ] = None,
    out: Annotated[
        str | None,
        typer.Option(
            help="Parquet file to write (default: scores.parquet beside WORKSPACE); with --engine spark "
            "a Parquet folder, or a URI (s3a://, hdfs://)."
        ),
    ] = None,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
    engine: Annotated[
        Literal["duckdb", "spark"],
        typer.Option(help="duckdb (embedded), or spark: read, score and write a Parquet dataset in Spark."),
    ] = "duckdb",
    tables: TablesOption = None,
    spark_conf: SparkConfOption = None,
) -> None:
    """Score every customer with the @champion models: satisfaction, churn risk and their reasons."""
    from features.validation import load_workspace
    from pipelines.scoring import score_customers
    from training.tracking import load_mlflow_config

    if engine == "spark":
        _spark_score(workspace, as_of, out, mlflow_config, tables, spark_conf or [])
        return
    target = check_output(Path(out) if out else workspace.resolve().parent / "scores.parquet", "--out")
    try:
        loaded = load_workspace(workspace, load_config(workspace))
        with console.status("Computing features and scoring every customer…"):
            scores = score_customers(
                loaded.tables,
                loaded.config,
                load_mlflow_config(mlflow_config),
                None if as_of is None else utc(as_of),
            )
    except (ConfigError, WorkspaceError, LookupError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    with atomic_path(target) as partial:
        scores.to_parquet(partial, index=False)
    console.print(f"[green]✓ {len(scores):,} customers scored → {target}[/]")
    for line in score_lines(scores):
        console.print(f"  {line}")


def _spark_score(
    workspace: Path,
    as_of: dt.datetime | None,
    out: str | None,
    mlflow_config: Path,
    tables: str | None,
    conf: list[str],
) -> None:
    from pipelines.spark_jobs import write_scores
    from training.tracking import load_mlflow_config

    job = spark_job(workspace, out, "scores.parquet", tables, conf)
    try:
        with console.status("Computing features and scoring every customer on spark…"):
            rows, lines = write_scores(
                job,
                load_config(workspace),
                load_mlflow_config(mlflow_config),
                None if as_of is None else utc(as_of),
            )
    except LookupError as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"[green]✓ {rows:,} customers scored → {job.out}[/]")
    for line in lines:
        console.print(f"  {line}")


def monitor(
    workspace: Workspace,
    since: Annotated[
        dt.datetime | None,
        typer.Option(help="Judge survey answers from this date on (default: the last 90 days of data)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="Also write the verdict and every figure to this JSON file, and an HTML page beside it."
        ),
    ] = None,
    max_rows: Annotated[
        int,
        typer.Option(
            min=100, help="Rows compared at most per model, drawn at random (seeded) from larger bases."
        ),
    ] = 50_000,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Compare today's data with what each @champion was trained on: feature drift and estimated AUC.

    Exit codes for schedulers: 0 ok, 1 retrain recommended (the drifted features are named),
    2 broken input (one sentence says why).
    """
    from pipelines.monitor_page import monitor_page, page_path
    from pipelines.monitoring import monitor_workspace, print_report
    from training.tracking import load_mlflow_config

    if out is not None:
        check_output(out, "--out", workspace)
    with console.status("Comparing today's features with the champions' training data…"):
        report = monitor_workspace(
            workspace, load_mlflow_config(mlflow_config), since and utc(since), max_rows
        )
    print_report(console, report)
    if out is not None:
        write_text(out, json.dumps(report.as_dict(), indent=2))
        write_text(page_path(out), monitor_page(report.as_dict()))
    raise typer.Exit(report.exit_code)
