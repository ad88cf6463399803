"""`cxpredict monitor`'s flow: validate the workspace, check every champion, print and write the verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from features.config import ConfigError, load_config
from features.online_db import StoreUnavailable, connect
from features.training_sets import default_as_of
from features.validation import ValidationReport, validate_workspace
from serving.shadow import COLUMNS, stored_shadow
from serving.state import database_url
from training.monitoring.monitor import MonitorReport, broken, monitor_tables
from training.monitoring.record import log_monitoring
from training.monitoring.shadow import (
    Labeller,
    ShadowCheck,
    churn_labeller,
    compare_shadow,
    survey_labeller,
)
from training.tracking import MlflowConfig

SHOWN = 10  # features per model in the printed table


def monitor_workspace(
    workspace: Path, mlflow_config: MlflowConfig, since: dt.datetime | None, max_rows: int
) -> MonitorReport:
    """The verdict on `workspace`; a workspace that breaks its contract is `broken input`, in one sentence."""
    checked = validated_workspace(workspace)
    if isinstance(checked, MonitorReport):
        return checked
    return monitor_validated(checked, mlflow_config, since, max_rows)


def validated_workspace(workspace: Path) -> ValidationReport | MonitorReport:
    """The workspace's validated tables, or the `broken input` report naming its first problem."""
    try:
        config = load_config(workspace)
    except ConfigError as exc:
        return broken(f"cx.yml cannot be read: {str(exc).splitlines()[0]}")
    report = validate_workspace(workspace, config)
    if report.problems:
        first = report.problems[0]
        where = ", ".join(
            part
            for part in (
                first.file,
                first.row and f"row {first.row}",
                first.column and f"column {first.column}",
            )
            if part
        )
        return broken(
            f"{len(report.problems)} problem(s) in the workspace, the first in {where}: {first.rule}"
        )
    return report


def monitor_validated(
    report: ValidationReport, mlflow_config: MlflowConfig, since: dt.datetime | None, max_rows: int
) -> MonitorReport:
    """The verdict on validated tables and the challenger in shadow, logged to MLflow per champion."""
    result = monitor_tables(report.tables, report.config, mlflow_config, since, max_rows)
    if result.verdict != "broken input":
        result = dataclasses.replace(result, shadow=shadow_check(report))
    log_monitoring(mlflow_config, result)
    return result


def shadow_check(report: ValidationReport) -> ShadowCheck:
    """Champion against challenger from the service database's shadow table, with the labels since."""
    try:
        rows = stored_shadow_rows(report.workspace)
    except StoreUnavailable as exc:
        return ShadowCheck([], f"the service database cannot be read, no shadow comparison: {exc}")
    return compare_shadow(rows, _labellers(report))


def stored_shadow_rows(workspace: Path) -> pd.DataFrame:
    """The rows the workspace's service scored in shadow (none when no service ran on it).

    Raises:
        StoreUnavailable: when the service database cannot be reached.
    """
    url = database_url(workspace, create=False)
    postgres = url.startswith(("postgresql://", "postgres://"))
    if not postgres and not Path(url.removeprefix("sqlite:///")).exists():
        return pd.DataFrame(columns=list(COLUMNS))
    db = connect(url)
    try:
        return pd.DataFrame(stored_shadow(db), columns=list(COLUMNS))
    finally:
        db.close()


def _labellers(report: ValidationReport) -> dict[str, Labeller]:
    """Output name -> its labels: churn within the horizon, or the next answer's negative side."""
    tables, config = report.tables, report.config
    labellers = {
        f"{metric}_negative_probability": survey_labeller(tables["surveys"], metric, scale.is_negative)
        for metric, scale in config.scales.items()
        if "surveys" in tables
    }
    if "churn" in tables:
        end = default_as_of(tables)
        labellers["churn_probability"] = churn_labeller(tables["churn"], config.churn.horizon_days, end)
    return labellers


def print_report(console: Console, report: MonitorReport) -> None:
    """Each model's most drifted features and its estimated AUC, then the verdict and its reason."""
    for check in report.checks:
        table = Table(title=f"{check.name} version {check.version}: {check.rows:,} rows now")
        for column in ("feature", "method", "statistic", "threshold", "importance", "drifted"):
            table.add_column(column)
        for row in check.drift.head(SHOWN).itertuples():
            cells = (f"{row.statistic:.3f}", f"{row.threshold:g}", f"{row.importance:.1%}")
            table.add_row(str(row.feature), str(row.method), *cells, "yes" if row.drifted else "")
        console.print(table)
        for risk, figures in check.performance.items():
            shown = ", ".join(f"{k} {v:.3f}" for k, v in figures.items() if v is not None and k != "rows")
            console.print(f"  {risk}: {shown}", markup=False)
    if report.themes is not None and report.themes.distance is not None:
        grown = ", ".join(report.themes.grown) or "none"
        console.print(f"  text themes: distance {report.themes.distance:.3f} (grown: {grown})", markup=False)
    if report.shadow is not None:
        console.print(f"  {report.shadow.summary}", markup=False, soft_wrap=True)
    style = {0: "green", 1: "yellow", 2: "red"}[report.exit_code]
    console.print(f"{report.verdict}: {report.reason}", style=style, markup=False, soft_wrap=True)
