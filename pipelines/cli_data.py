"""`cxpredict validate` and `cxpredict features`: the data as the contract reads it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from features.config import WorkspaceConfig, load_config
from features.problems import DataProblem, Problem
from features.summary import summarise
from features.validation import validate_workspace
from pipelines.cli_common import (
    EXIT_INVALID,
    SparkConfOption,
    TablesOption,
    Workspace,
    console,
    spark_job,
    utc,
)
from pipelines.outputs import atomic_path, check_output, write_csv
from pipelines.render import print_problems, print_summary


def validate(
    workspace: Workspace,
    now: Annotated[
        dt.datetime | None,
        typer.Option(help="Treat timestamps after this moment as in the future (default: now)."),
    ] = None,
    problems_out: Annotated[
        Path | None, typer.Option(help="Also write every problem to this CSV file (outside the workspace).")
    ] = None,
) -> None:
    """Check a workspace against the data contract and summarise what it holds.

    Reports every problem at once, each with file, row (as a spreadsheet shows it), column and
    rule. Exit code 0 when valid, 2 when not. Never writes into the workspace.
    """
    if problems_out is not None:
        check_output(problems_out, "--problems-out", workspace)
    config = load_config(workspace)
    report = validate_workspace(workspace, config, now=None if now is None else utc(now))
    print_summary(console, summarise(report))
    if report.ignored:
        console.print(f"Ignored (not tables of the contract or cx.yml): {', '.join(report.ignored)}")
    if report.ok:
        console.print(f"[green]✓ {workspace} is valid.[/]")
        return
    print_problems(console, report.problems)
    if problems_out is not None:
        _write_problems(report.problems, problems_out)
    raise typer.Exit(EXIT_INVALID)


def _write_problems(problems: list[Problem], path: Path) -> None:
    rows = ([p.file, p.row or "", p.column or "", p.rule, p.value or ""] for p in problems)
    write_csv(path, ["file", "row", "column", "rule", "value"], rows)
    console.print(f"Wrote {len(problems):,} problems to {path}")


def features(
    workspace: Workspace,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Features as known strictly before this moment (default: just after the latest event)."
        ),
    ] = None,
    engine: Annotated[
        Literal["duckdb", "spark"],
        typer.Option(help="Where the feature SQL runs: duckdb (embedded) or spark."),
    ] = "duckdb",
    out: Annotated[
        str | None,
        typer.Option(
            help="Parquet file to write (default: features.parquet beside WORKSPACE); with --engine spark "
            "a Parquet folder, or a URI (s3a://, hdfs://)."
        ),
    ] = None,
    kind: Annotated[
        Literal["scoring", "satisfaction", "churn"],
        typer.Option(
            "--set",
            help="scoring: every customer as of --as-of; satisfaction or churn: a training set, "
            "streamed to the file chunk by chunk (one row per survey answer / per customer and cutoff).",
        ),
    ] = "scoring",
    tables: TablesOption = None,
    spark_conf: SparkConfOption = None,
) -> None:
    """Build point-in-time features, written to Parquet: for scoring, or a training set.

    With `--engine spark` the set is read, computed and written by Spark: `--out` is then
    a Parquet dataset (a folder of part files), and `--tables` may name a lake (see docs/spark.md).
    """
    from features.training_sets import build_scoring_set
    from features.validation import load_workspace

    if engine == "spark":
        _spark_features(workspace, as_of, out, tables, spark_conf or [], kind)
        return
    target = check_output(Path(out) if out else workspace.resolve().parent / "features.parquet", "--out")
    loaded = load_workspace(workspace, load_config(workspace))
    if kind != "scoring":
        _write_training_set(kind, loaded.tables, loaded.config, target, engine)
        return
    with console.status(f"Computing features of every customer on {engine}…"):
        frame = build_scoring_set(
            loaded.tables, loaded.config, None if as_of is None else utc(as_of), engine=engine
        )
    if frame.empty:
        moment = "the latest event" if as_of is None else f"--as-of {as_of:%Y-%m-%d %H:%M}"
        raise DataProblem(f"no customer existed before {moment}: there is nothing to compute features of")
    with atomic_path(target) as partial:
        frame.to_parquet(partial, index=False)
    console.print(f"[green]✓ {len(frame):,} customers × {frame.shape[1] - 2} features → {target}[/]")


def _spark_features(
    workspace: Path,
    as_of: dt.datetime | None,
    out: str | None,
    tables: str | None,
    conf: list[str],
    kind: str,
) -> None:
    from pipelines.spark_jobs import write_features, write_training_set

    job = spark_job(workspace, out, "features.parquet", tables, conf)
    if kind != "scoring":
        try:
            with console.status(f"Building the {kind} training set on spark…"):
                rows = write_training_set(job, load_config(workspace), kind)
        except ValueError as exc:
            console.print(str(exc), style="red", markup=False)
            raise typer.Exit(EXIT_INVALID) from exc
        console.print(f"[green]✓ {rows:,} {kind} examples → {job.out}[/]")
        return
    with console.status("Computing features of every customer on spark…"):
        rows = write_features(job, load_config(workspace), None if as_of is None else utc(as_of))
    console.print(f"[green]✓ {rows:,} customers → {job.out}[/]")


def _write_training_set(
    kind: str, tables: Mapping[str, Any], config: WorkspaceConfig, target: Path, engine: str
) -> None:
    from features.training_sets import write_training_set

    try:
        with console.status(f"Building the {kind} training set on {engine}…"):
            rows = write_training_set(kind, tables, config, target, engine)
    except ValueError as exc:
        console.print(str(exc), style="red", markup=False)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"[green]✓ {rows:,} {kind} examples → {target}[/]")
