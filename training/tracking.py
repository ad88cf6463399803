"""MLflow settings from `mlflow.yml`, and the logging of one training run.

Nothing talks to MLflow on import: `load_mlflow_config` reads the file, `log_training_run`
is the only place that opens a run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Annotated, Any

import mlflow
import yaml
from mlflow.models import infer_signature
from mlflow.models.model import ModelInfo
from pydantic import BaseModel, ConfigDict, Field

from models import predictor as predictor_module
from models.predictor import Predictor, plain_input
from training.datasets import TrainingSet

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
MODEL_NAME = "model"  # artifact name of the pyfunc model inside a run
# logged as "models from code": MLflow runs this file on load, so no pickle enters the model
PYFUNC_ENTRY = Path(predictor_module.__file__).with_name("pyfunc_entry.py")
_REQUIREMENTS = ("lightgbm", "mlflow", "numpy", "pandas", "scikit-learn")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisteredModels(_Frozen):
    """Registry names of the two models."""

    satisfaction: str = "cx-satisfaction"
    churn: str = "cx-churn"


class PromotionRule(_Frozen):
    """When a new version may take the serving alias from the champion on the same holdout."""

    min_auc_gain: Annotated[float, Field(ge=0)] = 0.002
    max_ece_increase: Annotated[float, Field(ge=0)] = 0.005


class MlflowConfig(_Frozen):
    """The contents of `mlflow.yml`; every key has a default."""

    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment: str = "cxpredict"
    registered_models: RegisteredModels = RegisteredModels()
    serving_alias: str = "champion"
    promotion: PromotionRule = PromotionRule()
    artifact_location: str | None = None  # for a new experiment; None: the tracking server's default

    def model_name(self, kind: str) -> str:
        """The registry name for `churn` or `satisfaction`."""
        return str(getattr(self.registered_models, kind))


def load_mlflow_config(path: Path | None = None, environ: Mapping[str, str] = os.environ) -> MlflowConfig:
    """Read `mlflow.yml` (absent: defaults); `MLFLOW_TRACKING_URI` in `environ` wins over the file.

    Raises:
        pydantic.ValidationError: on an unknown key or a bad value.
    """
    data: dict[str, Any] = {}
    if path is not None and path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if environ.get("MLFLOW_TRACKING_URI"):
        data["tracking_uri"] = environ["MLFLOW_TRACKING_URI"]
    return MlflowConfig.model_validate(data)


def activate(config: MlflowConfig) -> None:
    """Point MLflow at the configured tracking URI and experiment (created when missing)."""
    mlflow.set_tracking_uri(config.tracking_uri)
    if mlflow.get_experiment_by_name(config.experiment) is None:
        mlflow.create_experiment(config.experiment, artifact_location=config.artifact_location)
    mlflow.set_experiment(config.experiment)


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
) -> ModelInfo:
    """Log one model's run (params, data digests and sizes, metrics, report, model) and register it.

    Args:
        config: where to log and under which registry name.
        predictor: the model to log; its `kind` picks the registry name.
        data: role (`train`, `holdout`, `fitted_on`) -> the rows it names; each gets a digest and a count.
        params: run parameters (holdout spec, seed, tree settings).
        metrics: holdout metrics in the contract's shape (nested dicts are flattened).
        report_folder: the evaluation report (PNGs and HTML), logged under `report/`.

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
        sample = next(iter(data.values())).X.head(5)
        return log_predictor(predictor, sample, config.model_name(predictor.kind))


def log_predictor(predictor: Predictor, sample: Any, registered_name: str | None = None) -> ModelInfo:
    """Log the predictor as a pyfunc model of the active run (optionally registering a version).

    Its state travels as the `predictor` artifact folder: LightGBM text models and a JSON manifest.
    """
    example = plain_input(sample)
    signature = infer_signature(example, predictor.predict(example))
    with tempfile.TemporaryDirectory() as tmp:
        folder = predictor.save(Path(tmp) / "predictor")
        return mlflow.pyfunc.log_model(
            name=MODEL_NAME,
            python_model=str(PYFUNC_ENTRY),
            artifacts={"predictor": str(folder)},
            signature=signature,
            input_example=example,
            registered_model_name=registered_name,
            # pinned here so MLflow does not start a process to infer them
            pip_requirements=[f"{package}=={version(package)}" for package in _REQUIREMENTS],
        )
