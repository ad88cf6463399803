"""`cxpredict retrain`: monitor -> training sets -> challenger -> gate -> promote -> reload the services.

The gate is the training pipeline's own (`training.pipeline`): each challenger and the @champion are
scored on the challenger's holdout, and the alias moves only when the challenger's AUC gains at least
`promotion.min_auc_gain` while its ECE grows by no more than `promotion.max_ece_increase` (mlflow.yml).
The registry is the record: what the gate decided is read back from the new version's tags.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mlflow.tracking import MlflowClient

from features.problems import DataProblem
from features.validation import ValidationReport
from pipelines.monitoring import monitor_validated, validated_workspace
from pipelines.reload_notify import Notified, notify_service
from serving.scorer import RegistryUnavailable, champion_versions
from training.evaluate import MIN_CLASS_FOR_CHANCE, Z_ONE_SIDED_95
from training.fitting import FitOptions
from training.monitoring.monitor import MonitorReport
from training.pipeline import HoldoutSpec
from training.tracking import MlflowConfig
from training.workspace import train_supported

Status = Literal["skipped", "not promoted", "promoted", "failed"]
EXIT_DONE, EXIT_NOT_RELOADED, EXIT_INVALID = 0, 1, 2
Progress = Callable[[str], None]


@dataclass(frozen=True)
class RetrainRequest:
    """What `retrain` is asked to do.

    Attributes:
        force: train even when monitoring says `ok`.
        notify: reload endpoints of the running services, told when a champion moves.
        admin_key: the key those calls present.
    """

    force: bool = False
    since: dt.datetime | None = None
    max_rows: int = 50_000
    holdout: HoldoutSpec = field(default_factory=HoldoutSpec)
    options: FitOptions = field(default_factory=FitOptions)
    notify: tuple[str, ...] = ()
    admin_key: str | None = None


@dataclass
class RetrainOutcome:
    """What happened, for the exit code and the `--out` JSON."""

    status: Status
    reason: str
    exit_code: int
    monitor: dict[str, Any] | None = None
    gate: dict[str, Any] = field(default_factory=dict)
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_trained: dict[str, str] = field(default_factory=dict)
    notified: list[Notified] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        keys = ("status", "reason", "exit_code", "monitor", "gate", "models", "not_trained")
        return {k: getattr(self, k) for k in keys} | {"notified": [n.as_dict() for n in self.notified]}


def failed(reason: str, **parts: Any) -> RetrainOutcome:
    """The outcome of a run stopped by data or a registry it cannot work with (exit 2)."""
    return RetrainOutcome("failed", reason, EXIT_INVALID, **parts)


def retrain_workspace(
    workspace: Path, mlflow_config: MlflowConfig, request: RetrainRequest, progress: Progress
) -> RetrainOutcome:
    """Run the loop once on `workspace`; every step is announced through `progress`."""
    try:
        before = champion_versions(mlflow_config)
    except RegistryUnavailable as exc:
        return failed(str(exc))
    checked = validated_workspace(workspace)
    if isinstance(checked, MonitorReport):
        return failed(checked.reason, monitor=_summary(checked))
    monitor = _monitor(checked, mlflow_config, request, progress) if before else None
    if isinstance(monitor, RetrainOutcome):
        return monitor
    if not before:
        progress("monitor: no @champion yet, training the first ones")
    progress("train: building the training sets and training a challenger per model")
    metrics, not_trained = train_supported(
        checked.tables, checked.config, mlflow_config, request.holdout, request.options
    )
    gate = gate_rule(mlflow_config)
    if not metrics:
        return failed("Nothing trained: " + "; ".join(not_trained.values()), monitor=monitor, gate=gate)
    models = gate_results(mlflow_config, metrics, before)
    for model in models.values():
        progress(f"gate: {model['name']} version {model['version']} {model['decision']}: {model['reason']}")
    outcome = RetrainOutcome("not promoted", "", EXIT_DONE, monitor, gate, models, not_trained)
    return _promoted(outcome, request, progress)


def _monitor(
    checked: ValidationReport, mlflow_config: MlflowConfig, request: RetrainRequest, progress: Progress
) -> dict[str, Any] | RetrainOutcome:
    """The monitoring summary when training should go on, else the outcome that ends the run."""
    progress("monitor: comparing today's data with the champions' training data")
    try:
        report = monitor_validated(checked, mlflow_config, request.since, request.max_rows)
    except DataProblem as exc:  # e.g. a champion logged without the profile drift is measured against
        if not request.force:
            return failed(f"{exc} (use --force to retrain without monitoring)")
        progress(f"monitor: {exc}; training anyway (--force)")
        return {"verdict": None, "reason": str(exc), "drifted_features": {}}
    monitor = _summary(report)
    progress(f"monitor: {report.verdict}: {report.reason}")
    if report.verdict == "broken input":
        return failed(report.reason, monitor=monitor)
    if report.verdict == "ok" and not request.force:
        return RetrainOutcome("skipped", "monitoring says ok (use --force to retrain)", EXIT_DONE, monitor)
    return monitor


def _promoted(outcome: RetrainOutcome, request: RetrainRequest, progress: Progress) -> RetrainOutcome:
    """Reload the services when a champion moved; the outcome's status, reason and exit code."""
    moved = {m["name"]: m["version"] for m in outcome.models.values() if m["promoted"]}
    if not moved:
        outcome.reason = "no challenger beat its champion on the same holdout; the champions stay"
        return outcome
    outcome.status = "promoted"
    names = ", ".join(f"{name} version {version}" for name, version in moved.items())
    for url in request.notify:
        progress(f"reload: asking {url} to serve the new champions")
        outcome.notified.append(notify_service(url, request.admin_key or "", moved))
        shown = outcome.notified[-1]
        progress(f"reload: {url}: " + (f"serves {shown.model_versions}" if shown.ok else str(shown.error)))
    lagging = [n.url for n in outcome.notified if not n.ok]
    if lagging:
        outcome.exit_code = EXIT_NOT_RELOADED
        outcome.reason = (
            f"promoted {names}, but {len(lagging)} service(s) did not reload: {', '.join(lagging)}"
        )
    else:
        told = f"; {len(outcome.notified)} service(s) reloaded" if outcome.notified else ""
        outcome.reason = f"promoted {names}{told}"
    return outcome


def gate_rule(config: MlflowConfig) -> dict[str, Any]:
    """The promotion rule in force, as the JSON states it."""
    return {
        "metric": "holdout AUC (churn: churned; satisfaction: the mean over survey metrics of the "
        "negative side's AUC), challenger and champion scored on the challenger's holdout",
        "min_auc_gain": config.promotion.min_auc_gain,
        "max_ece_increase": config.promotion.max_ece_increase,
        # every version, the first included, before it is compared with the champion
        "chance": f"refused when its holdout AUC does not clear 0.5 by {Z_ONE_SIDED_95:.3f} standard "
        f"errors of the AUC under chance (one-sided 95%); judged with at least {MIN_CLASS_FOR_CHANCE} "
        "of each outcome",
    }


def gate_results(
    config: MlflowConfig, metrics: Mapping[str, Any], before: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Per model trained: the new version, the gate's decision and reason, and the champion before/after."""
    client, results = MlflowClient(config.tracking_uri), {}
    after = champion_versions(config)
    for kind in metrics:
        name = config.model_name(kind)
        newest = max(client.search_model_versions(f"name='{name}'"), key=lambda v: int(v.version))
        results[kind] = {
            "name": name,
            "version": str(newest.version),
            "decision": newest.tags.get("gate.decision", "unknown"),
            "reason": newest.tags.get("gate.reason", ""),
            "champion_before": before.get(name),
            "champion_after": after.get(name),
            "promoted": after.get(name) == str(newest.version) != before.get(name),
            "holdout_metrics": metrics[kind],
        }
    return results


def _summary(report: MonitorReport) -> dict[str, Any]:
    drifted = {
        check.name: check.drift.loc[check.drift["drifted"], "feature"].tolist() for check in report.checks
    }
    return {"verdict": report.verdict, "reason": report.reason, "drifted_features": drifted}
