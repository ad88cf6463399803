"""What the registry and the monitoring runs say about the models, for the Models page and model health.

Read from MLflow (what `train`, `promote` and `monitor` wrote), never from their code: the champion
and the challenger of each registered model (the version holding the shadow alias, `@challenger`,
else the newest other version), their holdout metrics, when they were trained, and the latest
`monitor` verdict with each model's drift.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path
from typing import Any

import mlflow
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from models.mlflow_config import REFERENCE_PROFILE, MlflowConfig
from serving.scorer import MODEL_KINDS
from serving.ui.svg_charts import calibration_chart

MLFLOW_UI = "http://127.0.0.1:5000"  # where `mlflow ui` serves a file or sqlite store by default
SHOWN_METRICS = ("auc", "pr_auc", "brier", "ece", "mae", "spearman", "auc_negative", "ece_negative")
NOT_MONITORED = "not monitored yet: run `cxpredict monitor WORKSPACE`"


def _when(millis: int | None) -> str | None:
    return None if millis is None else dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat()


def _ui_base(config: MlflowConfig) -> str:
    uri = config.tracking_uri
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else MLFLOW_UI


def _version(
    client: MlflowClient, config: MlflowConfig, version: Any, role: str, alias: str | None = None
) -> dict[str, Any]:
    """One model version: its run's holdout metrics, when it was trained and a link to its run."""
    run: Run | None = client.get_run(version.run_id) if version.run_id else None
    metrics = {} if run is None else run.data.metrics
    shown = {k: round(v, 4) for k, v in sorted(metrics.items()) if k.rsplit(".", 1)[-1] in SHOWN_METRICS}
    experiment = None if run is None else run.info.experiment_id
    link = f"{_ui_base(config)}/#/experiments/{experiment}/runs/{version.run_id}" if run is not None else None
    return {
        "role": role,
        "alias": alias,
        "version": str(version.version),
        "trained_at": _when(None if run is None else run.info.start_time)
        or _when(version.creation_timestamp),
        "run_id": version.run_id,
        "run_url": link,
        "metrics": shown,
        "calibration_svg": holdout_charts(config, version.run_id) if run is not None else {},
    }


def holdout_charts(config: MlflowConfig, run_id: str) -> dict[str, str]:
    """Risk -> the reliability chart of the version's own holdout, as its training run logged it.

    Versions trained before the curves were logged, or whose run lost its artifacts, have none.
    """
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id,
                artifact_path=REFERENCE_PROFILE,
                dst_path=folder,
                tracking_uri=config.tracking_uri,
            )
            curves = json.loads(Path(path).read_text(encoding="utf-8")).get("holdout_curves", {})
    except (MlflowException, OSError, ValueError):
        return {}
    return {
        risk: calibration_chart(
            [(p["predicted"], p["observed"], p["answers"]) for p in points], f"{risk} calibration"
        )
        for risk, points in curves.items()
    }


def _by_alias(client: MlflowClient, name: str, alias: str) -> Any:
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None  # no version holds the alias


def registered(config: MlflowConfig) -> list[dict[str, Any]]:
    """Per registered model: the champion and the challenger (`@challenger`, else the newest other one)."""
    client, found = MlflowClient(config.tracking_uri), []
    for kind in MODEL_KINDS:
        name = config.model_name(kind)
        try:
            versions = client.search_model_versions(f"name = '{name}'")
        except MlflowException:
            continue  # never registered
        if not versions:
            continue
        champion = _by_alias(client, name, config.serving_alias)  # search leaves the aliases out
        others = sorted(
            (v for v in versions if champion is None or v.version != champion.version),
            key=lambda v: -int(v.version),
        )
        shown = [_version(client, config, champion, "champion", config.serving_alias)] if champion else []
        shadowed = _by_alias(client, name, config.shadow_alias)
        if shadowed is not None and (champion is None or shadowed.version != champion.version):
            shown.append(_version(client, config, shadowed, "challenger", config.shadow_alias))
        elif others and (champion is None or int(others[0].version) > int(champion.version)):
            shown.append(_version(client, config, others[0], "challenger"))
        found.append({"kind": kind, "name": name, "versions": shown, "count": len(versions)})
    return found


def health(config: MlflowConfig) -> dict[str, Any]:
    """The latest `monitor` verdict and, per model, its drifted share (from the `monitor-*` runs)."""
    client = MlflowClient(config.tracking_uri)
    experiment = client.get_experiment_by_name(config.experiment)
    runs = (
        client.search_runs(
            [experiment.experiment_id],
            "tags.`monitor.verdict` != ''",
            order_by=["attributes.start_time DESC"],
            max_results=len(MODEL_KINDS) * 2,
        )
        if experiment is not None
        else []
    )
    if not runs:
        return {"verdict": None, "summary": NOT_MONITORED, "at": None, "models": []}
    latest, same = runs[0].info.start_time, dict[str | None, Run]()
    for run in runs:  # the checks of the latest `monitor`: one run per model, seconds apart
        if latest - run.info.start_time < 300_000:
            same.setdefault(run.data.tags.get("monitor.model"), run)
    models = [
        {
            "model": r.data.tags.get("monitor.model"),
            "version": r.data.tags.get("monitor.version"),
            "drifted_share": r.data.metrics.get("drifted_share"),
            "drifted_features": r.data.metrics.get("drifted_features"),
            "rows": r.data.metrics.get("rows"),
        }
        for r in same.values()
    ]
    verdict = runs[0].data.tags["monitor.verdict"]
    return {"verdict": verdict, "summary": f"monitor said: {verdict}", "at": _when(latest), "models": models}


def models_view(config: MlflowConfig, calibration: dict[str, Any]) -> dict[str, Any]:
    """The Models page: registered versions, calibration plots of the report, model health.

    Raises:
        MlflowException: when the registry cannot be read.
    """
    return {"models": registered(config), "health": health(config), "calibration": calibration}
