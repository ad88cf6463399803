"""`cxpredict report` and `cxpredict survey-plan`: the whole base, and whom to ask next."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from features.config import load_config
from features.problems import DataProblem
from pipelines.cli_common import MlflowFile, Workspace, console, utc
from pipelines.outputs import check_output, write_csv, write_text
from pipelines.render import insight_lines


def report(
    workspace: Workspace,
    out: Annotated[
        Path,
        typer.Option(
            help="Folder to write summary.json and index.html into: outside WORKSPACE, "
            "or WORKSPACE/report for the dashboard."
        ),
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
    """The whole base's satisfaction three ways, what-ifs and drivers: OUT/summary.json and OUT/index.html.

    Respondents only, the models' mean prediction, and a doubly robust estimate that corrects the
    predictions with the window's answers weighted by each customer's chance of answering (95%
    interval). The summary names the assumptions each figure rests on.
    """
    from features.validation import load_workspace
    from pipelines.insight import whole_base
    from pipelines.report_html import PAGE, render_report
    from training.tracking import load_mlflow_config

    _check_report_folder(out, workspace)
    loaded = load_workspace(workspace, load_config(workspace))
    with console.status("Scoring the base now, and each answer of the window at its moment…"):
        try:
            summary = whole_base(
                loaded.tables, loaded.config, load_mlflow_config(mlflow_config), _moment(as_of), window_days
            )
        except LookupError as exc:
            raise DataProblem(str(exc)) from None
    out.mkdir(exist_ok=True)
    target = out / "summary.json"
    write_text(target, json.dumps(summary, indent=2) + "\n")
    write_text(out / PAGE, render_report(summary))
    console.print(f"[green]✓ {summary['customers']:,} customers → {target} and {out / PAGE}[/]")
    for line in insight_lines(summary):
        console.print(f"  {line}", markup=False)


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
    return None if as_of is None else utc(as_of)


def _check_report_folder(out: Path, workspace: Path) -> None:
    """Refuse, in one sentence, an --out that is a file, lies in the workspace or has no parent.

    The workspace's own report folders are the exception: the dashboard reads the summary there.
    """
    from serving.ui.places import REPORT_FOLDERS

    if out.exists() and not out.is_dir():
        raise DataProblem(f"--out {out} is a file; give a folder")
    if not out.parent.is_dir():
        raise DataProblem(f"--out {out}: the folder {out.parent} does not exist; create it first")
    inside = workspace.resolve()
    if out.resolve().is_relative_to(inside) and out.resolve() not in {inside / f for f in REPORT_FOLDERS}:
        raise DataProblem(
            f"--out {out} lies inside the workspace {workspace}; write it elsewhere, "
            f"or to {workspace / REPORT_FOLDERS[-1]} for the dashboard"
        )
