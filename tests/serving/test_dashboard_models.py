"""The Models page and model health read from a real (temporary) MLflow: aliases, runs, monitor runs."""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow import MlflowClient

from models.mlflow_config import MlflowConfig, activate
from serving.ui.models_view import NOT_MONITORED, health, registered


def _config(tmp_path: Path) -> MlflowConfig:
    return MlflowConfig(tracking_uri=f"sqlite:///{tmp_path}/mlflow.db", artifact_location=str(tmp_path / "a"))


def _version(client: MlflowClient, name: str, auc: float) -> str:
    with mlflow.start_run() as run:
        mlflow.log_metrics({"auc": auc, "rows": 10.0})
    return str(client.create_model_version(name, f"runs:/{run.info.run_id}/model", run.info.run_id).version)


def test_the_champion_and_a_newer_challenger_are_shown_with_their_holdout_metrics(tmp_path: Path) -> None:
    config = _config(tmp_path)
    activate(config)
    client = MlflowClient(config.tracking_uri)
    client.create_registered_model("cx-churn")
    first, second = _version(client, "cx-churn", 0.71), _version(client, "cx-churn", 0.74)
    client.set_registered_model_alias("cx-churn", "champion", first)
    (churn,) = registered(config)  # the satisfaction model was never registered: left out
    assert [(v["role"], v["version"]) for v in churn["versions"]] == [
        ("champion", first),
        ("challenger", second),
    ]
    champion = churn["versions"][0]
    assert champion["metrics"] == {"auc": 0.71} and champion["run_id"] in champion["run_url"]
    assert champion["trained_at"] is not None
    assert champion["calibration_svg"] == {}, "a run without a logged profile has no holdout curve"


def test_each_trained_version_draws_the_calibration_of_its_own_holdout(synthetic_store: MlflowConfig) -> None:
    # `train` logged each model's holdout reliability curve with its run
    shown = {m["kind"]: m["versions"][0] for m in registered(synthetic_store)}
    assert set(shown["churn"]["calibration_svg"]) == {"churn"}
    assert {"nps_negative", "csat_negative"} <= set(shown["satisfaction"]["calibration_svg"])
    for version in shown.values():
        for risk, svg in version["calibration_svg"].items():
            assert svg.startswith("<svg") and f"{risk} calibration" in svg and "<circle" in svg


def test_the_challenger_alias_is_shown_rather_than_the_newest_version(tmp_path: Path) -> None:
    config = _config(tmp_path)
    activate(config)
    client = MlflowClient(config.tracking_uri)
    client.create_registered_model("cx-churn")
    first, second, _ = (_version(client, "cx-churn", auc) for auc in (0.71, 0.74, 0.69))
    client.set_registered_model_alias("cx-churn", "champion", first)
    client.set_registered_model_alias("cx-churn", "challenger", second)
    (churn,) = registered(config)
    assert [(v["role"], v["alias"], v["version"]) for v in churn["versions"]] == [
        ("champion", "champion", first),
        ("challenger", "challenger", second),
    ]


def test_health_is_the_latest_monitor_verdict_with_each_models_drift(tmp_path: Path) -> None:
    config = _config(tmp_path)
    activate(config)
    assert health(config)["summary"] == NOT_MONITORED
    for verdict, share in (("ok", 0.0), ("retrain recommended", 0.4)):
        tags = {"monitor.verdict": verdict, "monitor.model": "cx-churn", "monitor.version": "1"}
        with mlflow.start_run(run_name="monitor-churn", tags=tags):
            mlflow.log_metrics({"drifted_share": share, "drifted_features": 3.0, "rows": 100.0})
    found = health(config)
    assert found["verdict"] == "retrain recommended"
    assert found["models"] == [
        {"model": "cx-churn", "version": "1", "drifted_share": 0.4, "drifted_features": 3.0, "rows": 100.0}
    ]
