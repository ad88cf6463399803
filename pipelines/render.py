"""Rich renderings of what the CLI reports: validation problems and workspace summaries."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from features.problems import Problem
from features.summary import WorkspaceSummary

MAX_PROBLEMS_SHOWN = 200


def _when(moment: pd.Timestamp | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def print_summary(console: Console, summary: WorkspaceSummary) -> None:
    """Tables with rows and time span, then survey answers and which models the data supports."""
    tables = Table(title="Tables", title_justify="left")
    for header in ("table", "file", "rows", "columns", "first", "last"):
        tables.add_column(header, justify="right" if header in ("rows", "columns") else "left")
    for facts in summary.tables:
        tables.add_row(
            facts.name,
            facts.file,
            f"{facts.rows:,}",
            str(facts.columns),
            _when(facts.first),
            _when(facts.last),
        )
    console.print(tables)
    span = f"{_when(summary.first)} → {_when(summary.last)}" if summary.first is not None else "no events"
    console.print(f"Customers: [bold]{summary.customers:,}[/]   Time span: {span}")
    answers = ", ".join(f"{metric} {n:,}" for metric, n in summary.survey_answers.items()) or "none"
    console.print(f"Survey answers: {answers}")
    models = Table(title="Models the data supports", title_justify="left")
    models.add_column("model")
    models.add_column("trainable")
    for model, verdict in summary.models.items():
        models.add_row(model, "[green]yes[/]" if verdict == "yes" else f"[yellow]{verdict}[/]")
    console.print(models)


def print_problems(console: Console, problems: list[Problem]) -> None:
    """One row per problem: file, row, column, rule, value."""
    table = Table(title=f"{len(problems):,} problem(s)", title_justify="left", title_style="bold red")
    for header in ("file", "row", "column", "rule", "value"):
        table.add_column(header, overflow="fold")
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        row = "" if problem.row is None else str(problem.row)
        table.add_row(problem.file, row, problem.column or "", problem.rule, problem.value or "")
    console.print(table)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        console.print(f"… and {len(problems) - MAX_PROBLEMS_SHOWN:,} more (use --problems-out to write all).")


def headline_lines(metrics: dict[str, Any]) -> list[str]:
    """One line per trained model with its holdout figures."""
    lines = []
    for metric, m in metrics.get("satisfaction", {}).items():
        lines.append(
            f"{metric}: {m['n_train']:,} train / {m['n_test']:,} holdout answers, MAE {_fig(m['mae'])}, "
            f"AUC(negative) {_fig(m['auc_negative'])}, ECE {_fig(m['ece_negative'])}"
        )
    if "churn" in metrics:
        m = metrics["churn"]
        lines.append(
            f"churn: {m['n_train']:,} train / {m['n_test']:,} holdout examples, AUC {_fig(m['auc'])}, "
            f"PR-AUC {_fig(m['pr_auc'])}, ECE {_fig(m['ece'])}"
        )
    return lines


def score_lines(scores: pd.DataFrame) -> list[str]:
    """What the scores say about the whole base: predicted NPS and churn risk."""
    lines = []
    if {"nps_promoter", "nps_detractor"} <= set(scores.columns):
        nps = 100 * (scores["nps_promoter"].mean() - scores["nps_detractor"].mean())
        lines.append(f"predicted NPS of the whole base: {nps:.1f}")
    if "churn_probability" in scores:
        risk = scores["churn_probability"]
        lines.append(f"mean churn risk {risk.mean():.1%}; {int((risk > 0.5).sum()):,} customers above 50%")
    return lines


def insight_lines(summary: Mapping[str, Any]) -> list[str]:
    """One line per whole-base figure: respondents only, model-based, corrected with its interval."""
    lines = []
    for name, figure in summary.items():
        if not (isinstance(figure, Mapping) and "interval" in figure):
            continue
        interval = figure["interval"]
        corrected = "n/a" if interval is None else f"{figure['corrected']} [{interval[0]}, {interval[1]}]"
        lines.append(
            f"{name}: respondents {figure['respondents']} (n={figure['n_respondents']:,}) · "
            f"model {figure['model']} · corrected {corrected}"
        )
    return lines


def _fig(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
