"""A small trained workspace for the service's tests: generated company, champions registered."""

from __future__ import annotations

from pathlib import Path

import mlflow
from mlflow import MlflowClient

from features.config import load_config
from features.validation import load_workspace
from models.boosting import BoosterParams
from models.mlflow_config import MlflowConfig, activate
from models.text.bundle import TEXT_MODELS_FOLDER
from pipelines.synthetic import generate_company
from pipelines.text import TextOptions, train_text, write_text_events
from training.fitting import FitOptions, fit_churn, fit_satisfaction
from training.tracking import log_predictor
from training.workspace import prepared

# one thread and few rounds: a test model in seconds on a busy machine
FAST = BoosterParams(num_boost_round=80, learning_rate=0.1, num_threads=1)


def train_champions(workspace: Path, config: MlflowConfig, seed: int = 0) -> None:
    """Fit both models on the workspace, register them and point @champion at them (no reports)."""
    loaded = load_workspace(workspace, load_config(workspace))
    options = FitOptions(seed=seed, params=FAST)
    churn_set, churn_options = prepared("churn", loaded.tables, loaded.config, options)
    survey_set, survey_options = prepared("satisfaction", loaded.tables, loaded.config, options)
    predictors = [
        fit_churn(churn_set, churn_options),
        fit_satisfaction(survey_set, loaded.config.scales, survey_options),
    ]
    activate(config)
    client = MlflowClient(config.tracking_uri)
    for predictor, ts in zip(predictors, (churn_set, survey_set), strict=True):
        with mlflow.start_run():
            info = log_predictor(predictor, ts.X.head(5), config.model_name(predictor.kind))
        name = config.model_name(predictor.kind)
        client.set_registered_model_alias(name, config.serving_alias, str(info.registered_model_version))


def score_texts(workspace: Path) -> None:
    """Train the TF-IDF text models (no encoder: seconds) and write the `text_scores` table."""
    loaded = load_workspace(workspace)
    options = TextOptions(use_encoder=False)
    result = train_text(loaded.tables, loaded.config.scales, workspace / TEXT_MODELS_FOLDER, options)
    write_text_events(workspace, result.scores, result.models)


def build_trained_workspace(root: Path, customers: int = 400, seed: int = 1) -> tuple[Path, MlflowConfig]:
    """Generate a company under `root/ws` and train its champions into `root/mlflow.db`."""
    workspace = root / "ws"
    generate_company(workspace, customers=customers, seed=seed)
    score_texts(workspace)
    config = MlflowConfig(
        tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=str(root / "artifacts")
    )
    train_champions(workspace, config, seed)
    return workspace, config
