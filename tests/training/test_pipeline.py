from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from models.predictor import plain_input
from tests.training.conftest import churn_set, satisfaction_set, temporary_mlflow
from tests.training.test_evaluate import CHURN_KEYS, SATISFACTION_KEYS
from training.datasets import latest_cut
from training.fitting import FitOptions, fit_churn
from training.pipeline import HoldoutSpec, train_workspace
from training.registry import promote_model
from training.tracking import MlflowConfig, log_training_run

HOLDOUT = HoldoutSpec(holdout_from=dt.date(2024, 10, 1))


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[MlflowConfig, dict[str, Any]]:
    """Both models trained once with the default holdout (latest 20%, then refit on everything)."""
    config = temporary_mlflow(tmp_path_factory.mktemp("mlflow"))
    return config, train_workspace(satisfaction_set(2000), churn_set(2000), HoldoutSpec(), config)


def test_metrics_have_exactly_the_contract_shape(trained: tuple[MlflowConfig, dict[str, Any]]) -> None:
    _, metrics = trained
    assert set(metrics) == {"satisfaction", "churn"}
    assert set(metrics["churn"]) == CHURN_KEYS
    assert set(metrics["satisfaction"]) == {"nps", "csat"}
    assert all(set(m) == SATISFACTION_KEYS for m in metrics["satisfaction"].values())
    assert metrics["churn"]["auc"] > 0.65 and metrics["satisfaction"]["csat"]["auc_negative"] > 0.75


def test_every_run_logs_data_digests_sizes_metrics_report_and_model(
    trained: tuple[MlflowConfig, dict[str, Any]],
) -> None:
    config, _ = trained
    client = MlflowClient(config.tracking_uri)
    version = client.get_model_version_by_alias("cx-churn", "champion")
    run = client.get_run(version.run_id)
    assert run.data.params["feature_set"] == "churn_v1" and run.data.params["refit"] == "True"
    assert len(run.data.params["data.train.sha256"]) == 64
    assert int(run.data.params["data.fitted_on.rows"]) == 2000
    assert {"auc", "ece", "n_test"} <= set(run.data.metrics)
    report = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
    assert {"report/report.html", "report/churn_roc.png", "report/churn_gain.png"} <= report
    assert str(client.get_model_version_by_alias("cx-satisfaction", "champion").version) == "1"


def test_a_model_that_was_not_trained_is_absent(mlflow_config: MlflowConfig) -> None:
    metrics = train_workspace(churn=churn_set(1000), holdout=HOLDOUT, config=mlflow_config)
    assert set(metrics) == {"churn"}


def test_a_metric_too_thin_for_the_holdout_fit_is_not_served_from_the_refit(
    mlflow_config: MlflowConfig, caplog: pytest.LogCaptureFixture
) -> None:
    ts = satisfaction_set(2000)
    early = ts.frame.index[(ts.frame["metric"] == "csat") & (ts.times < latest_cut(ts.times))]
    thin = ts.subset(~ts.frame.index.isin(early[50:]))  # csat: 50 answers before the latest fifth, ~200 in it
    metrics = train_workspace(satisfaction=thin, holdout=HoldoutSpec(), config=mlflow_config)
    assert set(metrics["satisfaction"]) == {"nps"}
    served = mlflow.pyfunc.load_model("models:/cx-satisfaction@champion").predict(plain_input(thin.X))
    assert "nps_score" in served.columns and not any(c.startswith("csat") for c in served.columns)
    assert sum("metric csat" in r.getMessage() for r in caplog.records) == 1  # said once, not per fit


def test_a_first_churn_model_without_signal_is_registered_but_not_promoted(
    mlflow_config: MlflowConfig, caplog: pytest.LogCaptureFixture
) -> None:
    ts = churn_set(4000)
    ts.frame["churned"] = np.random.default_rng(3).permutation(ts.frame["churned"].to_numpy())
    train_workspace(churn=ts, holdout=HOLDOUT, config=mlflow_config)
    client = MlflowClient(mlflow_config.tracking_uri)
    assert [v.aliases for v in client.search_model_versions("name='cx-churn'")] == [[]]
    version = client.get_model_version("cx-churn", "1")
    assert version.tags["gate.decision"] == "refused"
    assert version.tags["gate.reason"].startswith("no better than chance: churn: holdout AUC")
    assert any("no better than chance" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


def test_without_refit_all_the_registered_model_is_the_one_the_latest_fifth_judged(
    mlflow_config: MlflowConfig,
) -> None:
    train_workspace(churn=churn_set(1000), holdout=HoldoutSpec(refit_all=False), config=mlflow_config)
    client = MlflowClient(mlflow_config.tracking_uri)
    run = client.get_run(client.get_model_version_by_alias("cx-churn", "champion").run_id)
    assert run.data.params["refit"] == "False" and "data.fitted_on.rows" not in run.data.params
    trained, held_out = int(run.data.params["data.train.rows"]), int(run.data.params["data.holdout.rows"])
    assert trained + held_out == 1000 and 0 < held_out < trained


def test_the_champion_loaded_from_the_registry_predicts_as_in_memory(mlflow_config: MlflowConfig) -> None:
    ts = churn_set(1500)
    predictor = fit_churn(ts, FitOptions())
    info = log_training_run(mlflow_config, predictor, {"train": ts}, {}, {}, _empty_folder(mlflow_config))
    promote_model("cx-churn", str(info.registered_model_version), "first model")

    loaded = mlflow.pyfunc.load_model("models:/cx-churn@champion")
    rows = churn_set(300, seed=9).X
    pd.testing.assert_frame_equal(loaded.predict(plain_input(rows)), predictor.predict(rows))
    files = Path(mlflow.artifacts.download_artifacts("models:/cx-churn@champion"))
    assert (files / "artifacts" / "predictor" / "churn.booster.txt").read_text().startswith("tree\n")
    assert not list(files.rglob("*.pkl"))


def test_a_retrain_with_the_same_seed_reproduces_the_metrics(tmp_path: Path) -> None:
    first = train_workspace(churn=churn_set(1500), holdout=HOLDOUT, config=temporary_mlflow(tmp_path / "a"))
    second = train_workspace(churn=churn_set(1500), holdout=HOLDOUT, config=temporary_mlflow(tmp_path / "b"))
    assert first == second


def test_a_customer_holdout_scores_customers_the_model_never_saw(mlflow_config: MlflowConfig) -> None:
    holdout = HoldoutSpec(customers=0.3, seed=1)
    metrics = train_workspace(churn=churn_set(1500), holdout=holdout, config=mlflow_config)
    assert metrics["churn"]["n_test"] + metrics["churn"]["n_train"] == 1500
    assert 300 < metrics["churn"]["n_test"] < 600


def _empty_folder(config: MlflowConfig) -> Path:
    folder = Path(config.artifact_location or ".") / "empty-report"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
