"""A model's @champion as monitoring needs it: its predictor, reference profile and holdout AUC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from features.problems import DataProblem
from models.predictor import Predictor
from training.tracking import REFERENCE_PROFILE, MlflowConfig

CHURN = "churn"


@dataclass(frozen=True)
class Champion:
    """The serving alias's version of one model, loaded.

    Attributes:
        holdout_auc: risk name (`churn`, `nps_negative`) -> the AUC it reached on its holdout.
    """

    kind: str
    name: str
    version: str
    run_id: str
    predictor: Predictor
    profile: dict[str, Any]
    holdout_auc: dict[str, float]


def load_champion(config: MlflowConfig, kind: str) -> Champion | None:
    """The champion of model `kind`, or None when it has none.

    Raises:
        DataProblem: when the champion was logged without a reference profile.
    """
    client, name = MlflowClient(), config.model_name(kind)
    try:
        version = client.get_model_version_by_alias(name, config.serving_alias)
    except MlflowException:
        return None
    uri = f"models:/{name}@{config.serving_alias}"
    predictor = mlflow.pyfunc.load_model(uri).unwrap_python_model().predictor
    try:
        profile = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{REFERENCE_PROFILE}")
    except (MlflowException, OSError) as exc:
        raise DataProblem(
            f"{name} version {version.version} was logged without a reference profile of its training "
            "data: retrain it with this version of cxpredict to monitor it"
        ) from exc
    run_id = str(version.run_id)
    metrics = client.get_run(run_id).data.metrics
    aucs = {CHURN: metrics.get("auc")} if kind == CHURN else _negative_aucs(metrics)
    known = {risk: float(auc) for risk, auc in aucs.items() if auc is not None}
    return Champion(kind, name, str(version.version), run_id, predictor, profile, known)


def _negative_aucs(metrics: dict[str, float]) -> dict[str, float | None]:
    suffix = ".auc_negative"
    return {
        f"{key.removesuffix(suffix)}_negative": value
        for key, value in metrics.items()
        if key.endswith(suffix)
    }


def risk_probabilities(predictor: Predictor, rows: pd.DataFrame) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Risk name -> (which rows it applies to, their calibrated probabilities), reasons left out.

    Churn applies to every row; a metric's negative side to the answers of that metric.
    """
    if predictor.churn is not None:
        every = np.ones(len(rows), dtype=bool)
        return {CHURN: (every, predictor.churn.predict_proba(rows[list(predictor.features)]))}
    risks = {}
    for metric, model in predictor.metrics.items():
        mine = (rows["metric"].astype(str) == metric).to_numpy()
        if mine.any():
            risks[f"{metric}_negative"] = (
                mine,
                model.negative_.predict_proba(rows.loc[mine, list(predictor.features)]),
            )
    return risks
