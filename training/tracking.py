"""The logging of one training run (the `mlflow.yml` settings live in `models.mlflow_config`).

Nothing talks to MLflow on import: `log_training_run` is the only place that opens a run.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo

from models import predictor as predictor_module
from models.mlflow_config import (
    DEFAULT_TRACKING_URI,
    REFERENCE_PROFILE,
    MlflowConfig,
    PromotionRule,
    RegisteredModels,
    activate,
    load_mlflow_config,
)
from models.predictor import Predictor, plain_input
from training.datasets import TrainingSet

# The settings moved to models/ so that serving can read them; re-exported for training and its callers.
__all__ = [
    "DEFAULT_TRACKING_URI",
    "REFERENCE_PROFILE",
    "MlflowConfig",
    "PromotionRule",
    "RegisteredModels",
    "activate",
    "flatten_metrics",
    "load_mlflow_config",
    "log_predictor",
    "log_training_run",
]

MODEL_NAME = "model"  # artifact name of the pyfunc model inside a run
# logged as "models from code": MLflow runs this file on load, so no pickle enters the model
PYFUNC_ENTRY = Path(predictor_module.__file__).with_name("pyfunc_entry.py")
_REQUIREMENTS = ("lightgbm", "mlflow", "numpy", "pandas", "scikit-learn")


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """`{"nps": {"mae": 1.2}}` -> `{"nps.mae": 1.2}`, leaving out undefined (None) values."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, f"{name}."))
        elif value is not None:
            flat[name] = float(value)
    return flat


def log_training_run(
    config: MlflowConfig,
    predictor: Predictor,
    data: Mapping[str, TrainingSet],
    params: Mapping[str, Any],
    metrics: Mapping[str, Any],
    report_folder: Path,
    reference: Mapping[str, Any] | None = None,
) -> ModelInfo:
    """Log one model's run (params, data digests and sizes, metrics, report, model) and register it.

    Args:
        config: where to log and under which registry name.
        predictor: the model to log; its `kind` picks the registry name.
        data: role (`train`, `holdout`, `fitted_on`) -> the rows it names; each gets a digest and a count.
        params: run parameters (holdout spec, seed, tree settings).
        metrics: holdout metrics in the contract's shape (nested dicts are flattened).
        report_folder: the evaluation report (PNGs and HTML), logged under `report/`.
        reference: the reference profile of the training data that drift is measured against,
            logged as `REFERENCE_PROFILE` (see `training.monitoring.profile`).

    Returns:
        The logged model, with its registered version in `registered_model_version`.
    """
    activate(config)
    with mlflow.start_run(run_name=f"{predictor.kind}-{predictor.feature_set}"):
        mlflow.log_params({**params, "kind": predictor.kind, "feature_set": predictor.feature_set})
        mlflow.log_params({f"data.{role}.sha256": ts.digest() for role, ts in data.items()})
        mlflow.log_params({f"data.{role}.rows": len(ts) for role, ts in data.items()})
        mlflow.log_metrics(flatten_metrics(metrics))
        mlflow.log_artifacts(str(report_folder), artifact_path="report")
        if reference is not None:
            mlflow.log_dict(dict(reference), REFERENCE_PROFILE)
        sample = next(iter(data.values())).X.head(5)
        return log_predictor(predictor, sample, config.model_name(predictor.kind))


def log_predictor(predictor: Predictor, sample: Any, registered_name: str | None = None) -> ModelInfo:
    """Log the predictor as a pyfunc model of the active run (optionally registering a version).

    Its state travels as the `predictor` artifact folder: LightGBM text models and a JSON manifest.
    The signature declares the outputs only: the predictor casts its input itself, as in training,
    so the model takes exactly what `cxpredict features` writes (categories, strings, float32) and
    extra columns such as `customer_id`. MLflow's own input check would refuse a category column
    and cost more than the prediction; the feature columns are listed in the model's metadata.
    """
    example = plain_input(sample)
    signature = infer_signature(model_output=predictor.predict(example))
    metadata = {
        "features": list(predictor.features),
        "categorical_features": sorted(predictor.categories),
        "feature_set": predictor.feature_set,
    }
    with tempfile.TemporaryDirectory() as tmp:
        folder = predictor.save(Path(tmp) / "predictor")
        return mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(PYFUNC_ENTRY),
            artifacts={"predictor": str(folder)},
            signature=signature,
            input_example=example,
            metadata=metadata,
            registered_model_name=registered_name,
            # pinned here so MLflow does not start a process to infer them
            pip_requirements=[f"{package}=={version(package)}" for package in _REQUIREMENTS],
        )
