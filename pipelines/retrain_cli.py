"""The `cxpredict retrain` command: options in, one run of `pipelines.retrain`, exit code and JSON out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.outputs import check_output, write_text

console = Console()


def retrain(
    workspace: Annotated[Path, typer.Argument(help="Workspace folder, as for `cxpredict train`.")],
    force: Annotated[bool, typer.Option("--force", help="Train even when monitoring says ok.")] = False,
    notify: Annotated[
        list[str] | None,
        typer.Option(
            help="A running service to reload when a champion moves (http://host:port); repeat for "
            "several. The admin key comes from CX_ADMIN_KEY or --admin-key-file."
        ),
    ] = None,
    admin_key_file: Annotated[
        Path | None, typer.Option(help="File whose first line is an admin key (instead of CX_ADMIN_KEY).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write what happened to this JSON file (outside WORKSPACE).")
    ] = None,
    since: Annotated[
        dt.datetime | None, typer.Option(help="Monitoring judges survey answers from this date on.")
    ] = None,
    holdout_from: Annotated[
        dt.datetime | None,
        typer.Option(help="The gate's holdout: examples from this date on (default: latest 20%)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the trees.")] = 0,
    max_rows: Annotated[
        int, typer.Option(min=100, help="Rows monitoring compares at most per model.")
    ] = 50_000,
    mlflow_config: Annotated[
        Path, typer.Option("--mlflow-config", help="MLflow settings file; MLFLOW_TRACKING_URI wins over it.")
    ] = Path("mlflow.yml"),
) -> None:
    """Monitor, and when retraining is recommended (or --force): train, gate, promote, reload services.

    Each challenger and the @champion are scored on the challenger's holdout; the alias moves only
    when the challenger wins by mlflow.yml's promotion margin. Exit codes: 0 done (skipped, not
    promoted, or promoted and every --notify service reloaded), 1 promoted but a service did not
    reload, 2 the data or registry cannot support the run (one sentence says why).
    """
    from pipelines.reload_notify import admin_key, reload_url
    from pipelines.retrain import RetrainRequest, retrain_workspace
    from training.fitting import FitOptions
    from training.pipeline import HoldoutSpec
    from training.tracking import load_mlflow_config

    urls = tuple(reload_url(url) for url in notify or ())
    key = admin_key(admin_key_file) if urls else None
    if out is not None:
        check_output(out, "--out", workspace)
    holdout = HoldoutSpec(holdout_from and holdout_from.date(), None, seed)
    request = RetrainRequest(
        force, since and _utc(since), max_rows, holdout, FitOptions(seed=seed), urls, key
    )
    outcome = retrain_workspace(workspace, load_mlflow_config(mlflow_config), request, _say)
    if out is not None:
        write_text(out, json.dumps(outcome.as_dict(), indent=2) + "\n")
    style = {"skipped": "green", "not promoted": "yellow", "promoted": "green", "failed": "red"}[
        outcome.status
    ]
    console.print(f"{outcome.status}: {outcome.reason}", style=style, markup=False, soft_wrap=True)
    raise typer.Exit(outcome.exit_code)


def _say(message: str) -> None:
    console.print(f"  {message}", markup=False, soft_wrap=True)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment
