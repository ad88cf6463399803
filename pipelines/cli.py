"""The `cxpredict` command line: thin commands that call the packages.

Exit codes: 0 success, 2 invalid input (workspace, config, arguments) or data that cannot support
the step (one sentence says what it lacks), 3 capability not built yet, 70 an unexpected fault (one
line names its log; see `pipelines.cli_errors`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from rich.console import Console

from features.config import ConfigError, WorkspaceConfig, load_config
from features.problems import DataProblem, Problem, WorkspaceError
from features.summary import summarise
from features.validation import validate_workspace
from pipelines import demo as demo_flow
from pipelines.cli_admin import actions_app, keys_app, rules_app
from pipelines.cli_errors import CatchAllGroup
from pipelines.outputs import atomic_path, check_output, write_csv, write_text
from pipelines.render import insight_lines, print_problems, print_summary, score_lines
from pipelines.retrain_cli import retrain
from pipelines.text_cli import text_app

app = typer.Typer(
    help="cxpredict: predict every customer's satisfaction and churn risk from what the company observes.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    cls=CatchAllGroup,
)
console = Console()


@app.callback()
def _quiet_libraries() -> None:
    """Keep the CLI's output to what the user asked for: no library progress bars or INFO logs."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # MLflow sets its level when imported
    for name in ("alembic", "py4j"):
        logging.getLogger(name).setLevel(logging.WARNING)


Workspace = Annotated[
    Path,
    typer.Argument(help="Workspace folder: one <table>.csv or <table>.parquet per table, optional cx.yml."),
]
EXIT_INVALID = 2
EXIT_NOT_BUILT = 3


@app.command()
def demo(
    workspace: Annotated[Path, typer.Argument(help="Where the demo company lives.")] = Path("demo-workspace"),
    customers: Annotated[
        int, typer.Option(min=100, help="Customers to generate (empty workspace only).")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed generates the same company.")] = 0,
    serve: Annotated[
        bool, typer.Option("--serve", help="Start the service when the steps are done.")
    ] = False,
    text_encoder: Annotated[
        bool, typer.Option(help="Read texts with the transformer encoder (off: the TF-IDF fallback only).")
    ] = True,
) -> None:
    """Generate a synthetic company (if WORKSPACE has no tables) and run every built step on it.

    Steps: generate → validate → text → features → train → register → score → report. Ground truth lands
    in WORKSPACE/_truth/ so results can be judged; nothing else ever reads it.
    """
    code = demo_flow.run_demo(
        console, workspace, customers=customers, seed=seed, serve=serve, text_encoder=text_encoder
    )
    raise typer.Exit(code)


@app.command()
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
    report = validate_workspace(workspace, config, now=None if now is None else _utc(now))
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


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


def _write_problems(problems: list[Problem], path: Path) -> None:
    rows = ([p.file, p.row or "", p.column or "", p.rule, p.value or ""] for p in problems)
    write_csv(path, ["file", "row", "column", "rule", "value"], rows)
    console.print(f"Wrote {len(problems):,} problems to {path}")


@app.command()
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
        Path | None, typer.Option(help="Parquet file to write (default: features.parquet beside WORKSPACE).")
    ] = None,
    kind: Annotated[
        Literal["scoring", "satisfaction", "churn"],
        typer.Option(
            "--set",
            help="scoring: every customer as of --as-of; satisfaction or churn: a training set, "
            "streamed to the file chunk by chunk (one row per survey answer / per customer and cutoff).",
        ),
    ] = "scoring",
) -> None:
    """Build point-in-time features, written to Parquet: for scoring, or a training set."""
    from features.training_sets import build_scoring_set
    from features.validation import load_workspace

    target = check_output(out or workspace.resolve().parent / "features.parquet", "--out")
    loaded = load_workspace(workspace, load_config(workspace))
    if kind != "scoring":
        _write_training_set(kind, loaded.tables, loaded.config, target, engine)
        return
    with console.status(f"Computing features of every customer on {engine}…"):
        frame = build_scoring_set(
            loaded.tables, loaded.config, None if as_of is None else _utc(as_of), engine=engine
        )
    if frame.empty:
        moment = "the latest event" if as_of is None else f"--as-of {as_of:%Y-%m-%d %H:%M}"
        raise DataProblem(f"no customer existed before {moment}: there is nothing to compute features of")
    with atomic_path(target) as partial:
        frame.to_parquet(partial, index=False)
    console.print(f"[green]✓ {len(frame):,} customers × {frame.shape[1] - 2} features → {target}[/]")


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


MlflowFile = Annotated[
    Path, typer.Option("--mlflow-config", help="MLflow settings file; MLFLOW_TRACKING_URI wins over it.")
]
ModelKind = Annotated[
    Literal["churn", "satisfaction"], typer.Option(help="Which model: churn or satisfaction.")
]


@app.command()
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


@app.command()
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


@app.command()
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


@app.command()
def score(
    workspace: Workspace,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(
            help="Score with what was known strictly before this moment (default: after the latest event)."
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Parquet file to write (default: scores.parquet beside WORKSPACE).")
    ] = None,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Score every customer with the @champion models: satisfaction, churn risk and their reasons."""
    from features.validation import load_workspace
    from pipelines.scoring import score_customers
    from training.tracking import load_mlflow_config

    target = check_output(out or workspace.resolve().parent / "scores.parquet", "--out")
    try:
        loaded = load_workspace(workspace, load_config(workspace))
        with console.status("Computing features and scoring every customer…"):
            scores = score_customers(
                loaded.tables,
                loaded.config,
                load_mlflow_config(mlflow_config),
                None if as_of is None else _utc(as_of),
            )
    except (ConfigError, WorkspaceError, LookupError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    with atomic_path(target) as partial:
        scores.to_parquet(partial, index=False)
    console.print(f"[green]✓ {len(scores):,} customers scored → {target}[/]")
    for line in score_lines(scores):
        console.print(f"  {line}")


@app.command()
def report(
    workspace: Workspace,
    out: Annotated[
        Path, typer.Option(help="Folder to write summary.json and report.html into (outside WORKSPACE).")
    ],
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(help="The moment the figures describe (default: just after the latest event)."),
    ] = None,
    window_days: Annotated[
        int, typer.Option(min=1, help="Answers from this many days before --as-of correct the predictions.")
    ] = 90,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """The whole base's satisfaction three ways, what-ifs and drivers: OUT/summary.json and OUT/report.html.

    Respondents only, the models' mean prediction, and a doubly robust estimate that corrects the
    predictions with the window's answers weighted by each customer's chance of answering (95%
    interval). The summary names the assumptions each figure rests on.
    """
    from features.validation import load_workspace
    from pipelines.insight import whole_base
    from pipelines.report_html import render_report
    from training.tracking import load_mlflow_config

    _check_report_folder(out, workspace)
    loaded = load_workspace(workspace, load_config(workspace))
    with console.status("Scoring the base at the window's start and now…"):
        try:
            summary = whole_base(
                loaded.tables, loaded.config, load_mlflow_config(mlflow_config), _moment(as_of), window_days
            )
        except LookupError as exc:
            raise DataProblem(str(exc)) from None
    out.mkdir(exist_ok=True)
    target = out / "summary.json"
    write_text(target, json.dumps(summary, indent=2) + "\n")
    write_text(out / "report.html", render_report(summary))
    console.print(f"[green]✓ {summary['customers']:,} customers → {target} and {out / 'report.html'}[/]")
    for line in insight_lines(summary):
        console.print(f"  {line}", markup=False)


@app.command("survey-plan")
def survey_plan(
    workspace: Workspace,
    budget: Annotated[int, typer.Option(min=1, help="Expected number of invitations in the plan.")],
    out: Annotated[Path, typer.Option(help="CSV file to write the plan to (outside WORKSPACE).")],
    audit_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Part of the budget drawn uniformly at random.")
    ] = 0.3,
    min_days_since_answer: Annotated[
        int, typer.Option(min=0, help="Skip customers who answered within this many days.")
    ] = 30,
    per_day: Annotated[int, typer.Option(min=1, help="At most this many invitations a day.")] = 500,
    seed: Annotated[int, typer.Option(help="Seed of the draw.")] = 0,
    as_of: Annotated[
        dt.datetime | None,
        typer.Option(help="Plan as of this moment (default: just after the latest event)."),
    ] = None,
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Propose whom to survey next: a uniform audit share plus the customers the models know least about.

    Targeted invitations favour customers whose predicted answer is most uncertain and segments that
    answered too little lately. Every row carries its inclusion probability and weight 1/π, so later
    answers can be weighted by it.
    """
    from features.validation import load_workspace
    from pipelines.survey_plan import plan_lines
    from pipelines.survey_plan import survey_plan as plan_survey
    from training.insight.survey_plan import PlanRules
    from training.tracking import load_mlflow_config

    target = check_output(out, "--out", workspace)
    rules = PlanRules(budget, audit_share, min_days_since_answer, per_day, seed)
    loaded = load_workspace(workspace, load_config(workspace))
    try:
        plan = plan_survey(
            loaded.tables, loaded.config, load_mlflow_config(mlflow_config), rules, _moment(as_of)
        )
    except (LookupError, ValueError) as exc:
        raise DataProblem(str(exc)) from None
    write_csv(target, list(plan.columns), plan.itertuples(index=False))
    console.print(f"[green]✓ plan → {target}[/]")
    for line in plan_lines(plan, rules):
        console.print(f"  {line}", markup=False)


def _moment(as_of: dt.datetime | None) -> dt.datetime | None:
    return None if as_of is None else _utc(as_of)


def _check_report_folder(out: Path, workspace: Path) -> None:
    """Refuse, in one sentence, an --out that is a file, lies in the workspace or has no parent."""
    if out.exists() and not out.is_dir():
        raise DataProblem(f"--out {out} is a file; give a folder")
    if not out.parent.is_dir():
        raise DataProblem(f"--out {out}: the folder {out.parent} does not exist; create it first")
    if out.resolve().is_relative_to(workspace.resolve()):
        raise DataProblem(f"--out {out} lies inside the workspace {workspace}; write it elsewhere")


@app.command()
def serve(
    workspace: Workspace,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 3000,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    mlflow_config: MlflowFile = Path("mlflow.yml"),
) -> None:
    """Start the real-time service: scores with reasons, events, rules and actions.

    Loads the @champion models, materialises the online store from WORKSPACE when it is empty,
    and serves the API (docs at /docs; keys from `cxpredict keys create`).
    """
    from serving.server import check_servable
    from serving.server import serve as serve_workspace

    check_port_free(host, port)
    try:
        versions = check_servable(workspace, mlflow_config)
    except (ValueError, LookupError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"Serving {workspace} on http://{host}:{port} with {versions}")
    serve_workspace(workspace, mlflow_config, host=host, port=port)


def check_port_free(host: str, port: int) -> None:
    """Refuse, before loading any model, a port that another process holds or a host not here."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            probe.bind((host, port))
    except OSError as exc:
        raise DataProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


@app.command()
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
            workspace, load_mlflow_config(mlflow_config), since and _utc(since), max_rows
        )
    print_report(console, report)
    if out is not None:
        write_text(out, json.dumps(report.as_dict(), indent=2))
        write_text(page_path(out), monitor_page(report.as_dict()))
    raise typer.Exit(report.exit_code)


app.command()(retrain)
app.add_typer(text_app, name="text")

app.add_typer(rules_app, name="rules")
app.add_typer(actions_app, name="actions")
app.add_typer(keys_app, name="keys")
