"""Every monitoring figure logged to MLflow: one run per champion checked, tagged with its version."""

from __future__ import annotations

import mlflow

from training.monitoring.drift import drifted_share
from training.monitoring.monitor import ModelCheck, MonitorReport
from training.tracking import MlflowConfig, activate, flatten_metrics


def log_monitoring(config: MlflowConfig, report: MonitorReport) -> list[str]:
    """Log each check as a run `monitor-<kind>`; returns the run ids.

    Tags name the model, the version judged, its training run and the verdict, so the registry's
    version and its monitoring runs find each other (`tags.monitor.version = '3'`).
    """
    activate(config)
    runs = []
    for check in report.checks:
        with mlflow.start_run(run_name=f"monitor-{check.kind}", tags=_tags(check, report)) as run:
            shadow = {} if report.shadow is None else report.shadow.metrics(check.name)
            mlflow.log_metrics(_metrics(check) | _theme_metrics(report) | shadow)
            mlflow.log_dict(check.as_dict(), "monitor.json")
            runs.append(run.info.run_id)
    return runs


def _tags(check: ModelCheck, report: MonitorReport) -> dict[str, str]:
    tags = {
        "monitor.model": check.name,
        "monitor.version": check.version,
        "monitor.model_run_id": check.run_id,
        "monitor.verdict": report.verdict,
    }
    challenger = None if report.shadow is None else report.shadow.versions(check.name)
    return tags if challenger is None else tags | {"monitor.challenger_version": challenger}


def _metrics(check: ModelCheck) -> dict[str, float]:
    drift = check.drift.set_index("feature")["statistic"]
    figures = {
        "rows": float(check.rows),
        "drifted_share": drifted_share(check.drift),
        "drifted_features": float(check.drift["drifted"].sum()),
    }
    # MLflow metric names allow letters, digits and _-./ only; feature names already keep to these
    return (
        figures
        | flatten_metrics(check.performance)
        | {f"drift.{name}": float(v) for name, v in drift.items()}
    )


def _theme_metrics(report: MonitorReport) -> dict[str, float]:
    themes = report.themes
    return {} if themes is None or themes.distance is None else {"themes.distance": themes.distance}
