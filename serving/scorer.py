"""The @champion models and how a feature row becomes scores with reasons.

Models are loaded by version after resolving the serving alias, so one load sees one version even
if the alias moves meanwhile. The packaged `Predictor` is unwrapped from its pyfunc model and
called directly: the same code MLflow runs, without its per-call schema checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

import models.reasons
from models.mlflow_config import MlflowConfig
from models.predictor import Predictor
from models.satisfaction import NPS_CLASSES
from serving.schemas import ChurnRisk, MetricScore, Reason

MODEL_KINDS = ("satisfaction", "churn")
TOP_REASONS = 3
_ABSENT = {"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"}  # no such model or alias: not trained yet


class RegistryUnavailable(LookupError):
    """The MLflow tracking server or registry cannot be reached (as opposed to holding no champion)."""


@dataclass(frozen=True)
class Champion:
    """One loaded champion model."""

    kind: str
    name: str
    version: str
    predictor: Predictor


@dataclass(frozen=True)
class Prediction:
    """What the models say about one feature row."""

    metrics: dict[str, MetricScore]
    churn: ChurnRisk | None

    def top_reasons(self, top: int = TOP_REASONS) -> list[str]:
        """The sentences of the strongest reasons raising any risk, one per feature."""
        reasons = [r for m in self.metrics.values() for r in m.reasons]
        reasons += self.churn.reasons if self.churn is not None else []
        seen: dict[str, tuple[float, str]] = {}
        for r in sorted((r for r in reasons if r.log_odds > 0), key=lambda r: -r.log_odds):
            seen.setdefault(r.feature, (r.log_odds, r.sentence))
        return [sentence for _, sentence in list(seen.values())[:top]]


class Champions:
    """The champion model of each kind, and the scoring of feature rows with them."""

    def __init__(self, champions: Sequence[Champion], horizon_days: int) -> None:
        self.models = {c.kind: c for c in champions}
        self.horizon_days = horizon_days

    @property
    def versions(self) -> dict[str, str]:
        """Registered model name -> version served."""
        return {c.name: c.version for c in self.models.values()}

    @property
    def features(self) -> tuple[str, ...]:
        """Every feature column any of the models reads."""
        return tuple(dict.fromkeys(f for c in self.models.values() for f in c.predictor.features))

    def predict(self, rows: Sequence[Mapping[str, Any]]) -> list[Prediction]:
        """Scores and reasons of each feature row; a feature a row lacks counts as unknown."""
        columns: dict[str, Any] = {}
        encoded = None
        for champion in self.models.values():  # models of the same features share one encoding
            encoded = champion.predictor.encode(rows) if encoded is None else encoded
            columns.update(champion.predictor.outputs(encoded))
        return [
            self._prediction({name: values[i] for name, values in columns.items()}) for i in range(len(rows))
        ]

    def _prediction(self, row: Mapping[str, Any]) -> Prediction:
        churn = None
        if "churn" in self.models:
            churn = ChurnRisk(
                probability=float(row["churn_probability"]),
                horizon_days=self.horizon_days,
                reasons=_reasons(row["churn_reasons"]),
            )
        metrics = {}
        if "satisfaction" in self.models:
            for name in self.models["satisfaction"].predictor.metrics:
                classes = {c: float(row[f"nps_{c}"]) for c in NPS_CLASSES} if name == "nps" else None
                metrics[name] = MetricScore(
                    score=float(row[f"{name}_score"]),
                    negative=float(row[f"{name}_negative_probability"]),
                    classes=classes,
                    reasons=_reasons(row[f"{name}_reasons"]),
                )
        return Prediction(metrics, churn)


def _reasons(reasons: Sequence[models.reasons.Reason]) -> list[Reason]:
    return [Reason.model_validate(r.to_dict()) for r in reasons]


def load_champions(config: MlflowConfig, horizon_days: int, alias: str | None = None) -> Champions:
    """Load the model each registered name's serving alias (or `alias`) points at.

    Raises:
        RegistryUnavailable: when the tracking server cannot be reached.
        LookupError: when no model has the alias (nothing trained or promoted yet).
    """
    champions = []
    alias = alias or config.serving_alias
    for kind, (name, version) in zip(MODEL_KINDS, _aliases(config, alias), strict=True):
        if version is None:
            continue  # this model was never trained or promoted
        try:
            predictor = _load_version(config, name, version)
        except (MlflowException, OSError) as exc:
            raise RegistryUnavailable(_unreachable(config, exc)) from exc
        champions.append(Champion(kind, name, version, predictor))
    if not champions:
        raise LookupError(
            f"no model has a @{alias} in {config.tracking_uri}: run `cxpredict train WORKSPACE` first"
        )
    return Champions(champions, horizon_days)


def _load_version(config: MlflowConfig, name: str, version: str) -> Predictor:
    """The predictor of one registered version, read through `config`'s registry alone.

    `models:/name/version` would resolve through MLflow's process-wide tracking URI, which another
    registry's load (a second workspace served in the same process) may have moved meanwhile.
    """
    source = MlflowClient(config.tracking_uri).get_model_version_download_uri(name, version)
    local = mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=config.tracking_uri)
    predictor: Predictor = mlflow.pyfunc.load_model(local).unwrap_python_model().predictor
    return predictor


def champion_versions(config: MlflowConfig, alias: str | None = None) -> dict[str, str]:
    """Registered model name -> the version its serving alias (or `alias`) points at now (no loading).

    Raises:
        RegistryUnavailable: when the tracking server cannot be reached.
    """
    pairs = _aliases(config, alias or config.serving_alias)
    return {name: version for name, version in pairs if version is not None}


def _aliases(config: MlflowConfig, alias: str) -> list[tuple[str, str | None]]:
    """(registered name, version `alias` points at or None) per model kind."""
    client, found = MlflowClient(config.tracking_uri), []
    for kind in MODEL_KINDS:
        name, version = config.model_name(kind), None
        try:
            version = str(client.get_model_version_by_alias(name, alias).version)
        except MlflowException as exc:
            if exc.error_code not in _ABSENT:
                raise RegistryUnavailable(_unreachable(config, exc)) from exc
        found.append((name, version))
    return found


def _unreachable(config: MlflowConfig, exc: Exception) -> str:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    return (
        f"the MLflow registry at {config.tracking_uri} cannot be reached or read ({first}): start it, "
        "or point MLFLOW_TRACKING_URI at one that runs"
    )
