"""The `cxpredict` command line: thin commands that call the packages.

Exit codes: 0 success, 2 invalid input (workspace, config, arguments) or data that cannot support
the step (one sentence says what it lacks), 3 capability not built yet, 70 an unexpected fault (one
line names its log; see `pipelines.cli_errors`).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from features.problems import DataProblem
from pipelines import demo as demo_flow
from pipelines.cli_admin import actions_app, keys_app, rules_app
from pipelines.cli_common import EXIT_INVALID, MlflowFile, Workspace, console
from pipelines.cli_data import features, validate
from pipelines.cli_errors import CatchAllGroup
from pipelines.cli_insight import report, survey_plan
from pipelines.cli_models import monitor, promote, rollback, score, train
from pipelines.ingest_cli import ingest
from pipelines.retrain_cli import retrain
from pipelines.text_cli import text_app
from serving.env_files import read_secret_files

app = typer.Typer(
    help="cxpredict: predict every customer's satisfaction and churn risk from what the company observes.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    cls=CatchAllGroup,
)


@app.callback()
def _prepare() -> None:
    """Read secrets from their `*_FILE`s; keep the output to what the user asked for (no progress bars)."""
    try:
        read_secret_files()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        raise typer.Exit(EXIT_INVALID) from None
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # MLflow sets its level when imported
    for name in ("alembic", "py4j"):
        logging.getLogger(name).setLevel(logging.WARNING)


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


def serve(
    workspace: Workspace,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 3000,
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    mlflow_config: MlflowFile = Path("mlflow.yml"),
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, help="Worker processes (default: CX_WORKERS, else 1); more than 1 needs CX_DATABASE_URL."
        ),
    ] = None,
) -> None:
    """Start the real-time service: scores with reasons, events, rules and actions.

    Loads the @champion models, materialises the online store from WORKSPACE when it is empty,
    and serves the API (docs at /docs; keys from `cxpredict keys create`).
    """
    from serving.server import check_servable, default_workers
    from serving.server import serve as serve_workspace

    check_port_free(host, port)
    try:
        workers = workers or default_workers()
        versions = check_servable(workspace, mlflow_config, workers)
    except (ValueError, LookupError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    console.print(f"Serving {workspace} on http://{host}:{port} with {versions} ({workers} workers)")
    serve_workspace(workspace, mlflow_config, host=host, port=port, workers=workers)


def check_port_free(host: str, port: int) -> None:
    """Refuse, before loading any model, a port that another process holds or a host not here."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
            probe.bind((host, port))
    except OSError as exc:
        raise DataProblem(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


app.command()(demo)
app.command()(validate)
app.command()(features)
app.command()(train)
app.command()(promote)
app.command()(rollback)
app.command()(score)
app.command()(report)
app.command("survey-plan")(survey_plan)
app.command()(serve)
app.command()(monitor)
app.command()(retrain)
app.command()(ingest)
app.add_typer(text_app, name="text")
app.add_typer(rules_app, name="rules")
app.add_typer(actions_app, name="actions")
app.add_typer(keys_app, name="keys")
