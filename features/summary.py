"""What a workspace holds: tables, rows, customers, time span, survey answers, supported models."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from features.validation import ValidationReport, table_specs

# Below these counts a model would learn noise; the CLI says so instead of training one.
MIN_SURVEY_ANSWERS = 50
MIN_CHURN_EVENTS = 20


@dataclass(frozen=True)
class TableFacts:
    """One table's row count and time span."""

    name: str
    file: str
    rows: int
    columns: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None


@dataclass(frozen=True)
class WorkspaceSummary:
    """The facts `cxpredict validate` prints."""

    tables: tuple[TableFacts, ...]
    customers: int
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    survey_answers: dict[str, int]
    models: dict[str, str]


def summarise(report: ValidationReport) -> WorkspaceSummary:
    """Summarise the typed tables of a validation report."""
    specs = table_specs(report.config)
    facts = tuple(
        _facts(name, report.files[name].name, frame, specs[name].time_column)
        for name, frame in report.tables.items()
    )
    firsts = [f.first for f in facts if f.first is not None]
    lasts = [f.last for f in facts if f.last is not None]
    customers = report.tables.get("customers")
    answers = _survey_answers(report.tables.get("surveys"))
    return WorkspaceSummary(
        tables=facts,
        customers=0 if customers is None else len(customers),
        first=min(firsts) if firsts else None,
        last=max(lasts) if lasts else None,
        survey_answers=answers,
        models=_supported_models(answers, report),
    )


def _facts(name: str, file: str, frame: pd.DataFrame, time_column: str | None) -> TableFacts:
    times = frame[time_column].dropna() if time_column and time_column in frame else pd.Series([])
    first = times.min() if len(times) else None
    last = times.max() if len(times) else None
    return TableFacts(name, file, len(frame), frame.shape[1], first, last)


def _survey_answers(surveys: pd.DataFrame | None) -> dict[str, int]:
    if surveys is None or "metric" not in surveys:
        return {}
    counts = surveys["metric"].value_counts()
    return {str(metric): int(n) for metric, n in counts.items()}


def _supported_models(answers: dict[str, int], report: ValidationReport) -> dict[str, str]:
    """For each model the data could feed: 'yes' or the reason it cannot be trained."""
    models = {}
    for metric in report.config.scales:
        n = answers.get(metric, 0)
        if n:
            enough = n >= MIN_SURVEY_ANSWERS
            models[f"satisfaction:{metric}"] = "yes" if enough else f"no: {n} answers < {MIN_SURVEY_ANSWERS}"
    if not answers:
        models["satisfaction"] = "no: the workspace has no surveys table"
    churn = report.tables.get("churn")
    if churn is None:
        models["churn"] = "no: the workspace has no churn table"
    else:
        enough = len(churn) >= MIN_CHURN_EVENTS
        models["churn"] = "yes" if enough else f"no: {len(churn)} churn events < {MIN_CHURN_EVENTS}"
    return models
