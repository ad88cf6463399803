"""The serving alias (`@champion`): the promotion gate, and moves by hand with a recorded reason.

Every move is written on the model versions as tags, so the registry itself holds the history:
`champion.previous` on a version names the champion it replaced, which is where `rollback_model`
returns to. Stages and "the best run" are never used.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from training.tracking import PromotionRule

ALIAS = "champion"
PREVIOUS_TAG = "champion.previous"


@dataclass(frozen=True)
class Score:
    """A model's headline on one holdout: AUC (higher is better) and ECE (lower is better)."""

    auc: float | None
    ece: float | None


@dataclass(frozen=True)
class Decision:
    """The gate's verdict and why, in words."""

    promote: bool
    reason: str


def decide_promotion(candidate: Score, champion: Score | None, rule: PromotionRule) -> Decision:
    """Whether `candidate` may replace `champion`, both scored on the same holdout.

    The first version is promoted. After that a version must gain at least `rule.min_auc_gain`
    in AUC while its ECE grows by no more than `rule.max_ece_increase`.
    """
    if champion is None:
        return Decision(True, "first version: no champion yet")
    if candidate.auc is None or champion.auc is None or candidate.ece is None or champion.ece is None:
        return Decision(False, "AUC or ECE undefined on this holdout; promote by hand if intended")
    gain, ece_rise = candidate.auc - champion.auc, candidate.ece - champion.ece
    figures = f"AUC {candidate.auc:.4f} vs {champion.auc:.4f} (gain {gain:+.4f}), ECE change {ece_rise:+.4f}"
    if gain < rule.min_auc_gain:
        return Decision(False, f"{figures}: AUC gain below {rule.min_auc_gain}")
    if ece_rise > rule.max_ece_increase:
        return Decision(False, f"{figures}: calibration worse by more than {rule.max_ece_increase}")
    return Decision(True, f"{figures}: beats the champion")


def champion_version(name: str, alias: str = ALIAS, client: MlflowClient | None = None) -> str | None:
    """The version `alias` points at, or None when the model or the alias does not exist yet."""
    client = client or MlflowClient()
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote_model(
    name: str, version: str, reason: str, alias: str = ALIAS, client: MlflowClient | None = None
) -> None:
    """Point `alias` at `version`, recording the reason, the time and the champion it replaces.

    Raises:
        ValueError: when the model has no such version.
    """
    client = client or MlflowClient()
    try:
        client.get_model_version(name, str(version))
    except MlflowException as exc:
        raise ValueError(f"{name} has no version {version}") from exc
    previous = champion_version(name, alias, client)
    if previous == str(version):
        return
    _tag(
        client,
        name,
        version,
        {PREVIOUS_TAG: previous or "", "champion.reason": reason, "champion.promoted_at": _now()},
    )
    client.set_registered_model_alias(name, alias, str(version))


def rollback_model(name: str, reason: str, alias: str = ALIAS, client: MlflowClient | None = None) -> str:
    """Move `alias` back to the champion before the current one; returns that version.

    Raises:
        ValueError: when there is no champion, or the champion replaced none.
    """
    client = client or MlflowClient()
    current = champion_version(name, alias, client)
    if current is None:
        raise ValueError(f"{name} has no @{alias} to roll back")
    previous = client.get_model_version(name, current).tags.get(PREVIOUS_TAG, "")
    if not previous:
        raise ValueError(f"{name}@{alias} is version {current}, which replaced no earlier champion")
    _tag(client, name, current, {"champion.rolled_back_reason": reason, "champion.rolled_back_at": _now()})
    _tag(client, name, previous, {"champion.restored_reason": reason, "champion.restored_at": _now()})
    client.set_registered_model_alias(name, alias, previous)
    return previous


def record_gate(name: str, version: str, decision: Decision, client: MlflowClient | None = None) -> None:
    """Write the gate's verdict on the version, promoted or not."""
    verdict = "promoted" if decision.promote else "refused"
    _tag(
        client or MlflowClient(),
        name,
        version,
        {"gate.decision": verdict, "gate.reason": decision.reason, "gate.at": _now()},
    )


def _tag(client: MlflowClient, name: str, version: str, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        client.set_model_version_tag(name, str(version), key, value)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
