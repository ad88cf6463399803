"""`monitor_tables`: each champion against its training data, and one verdict for schedulers.

Verdicts: `ok`; `retrain recommended` when a model's drifted features carry a stated share of its
importance, or when its label-free AUC estimate falls well below its holdout AUC; `broken input`
when the data cannot be compared at all (a feature the champion needs is gone, nothing to score).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from sklearn.metrics import roc_auc_score

from features.catalogue import Catalogue
from features.config import WorkspaceConfig
from features.discover import build_catalogue
from features.problems import DataProblem
from features.training_sets import CHURN_LABEL, default_as_of
from training.monitoring.cbpe import IsotonicCalibrator, ReferenceCalibrator, expected_auc
from training.monitoring.champion import Champion, load_champion, risk_probabilities
from training.monitoring.current import DEFAULT_MAX_ROWS, base_moment, current_rows, labelled_churn_rows
from training.monitoring.drift import DriftRule, drifted_share, feature_drift
from training.monitoring.shadow import ShadowCheck
from training.monitoring.themes import ThemeCheck, theme_check
from training.tracking import MlflowConfig, activate

Verdict = Literal["ok", "retrain recommended", "broken input"]
EXIT_CODES: dict[Verdict, int] = {"ok": 0, "retrain recommended": 1, "broken input": 2}
MODEL_KINDS = ("churn", "satisfaction")
NAMED = 8  # drifted features named in the verdict's sentence, most important first
MIN_CLASS_ROWS = 30  # churners (and stayers) a labelled base needs before CBPE calibrates on it
MIN_LABELLED_ROWS = 1000  # a labelled base this large gives the bar the estimate is held to


@dataclass(frozen=True)
class MonitorRule(DriftRule):
    """The drift thresholds, and how far the estimated AUC may fall below the holdout's.

    Attributes:
        auc_rows: a risk's estimate is judged from this many rows on; below, it is only reported
            (a few hundred answers move an AUC by more than `auc_drop` by chance).
    """

    auc_drop: float = 0.05
    auc_rows: int = 1000


@dataclass(frozen=True)
class ModelCheck:
    """One champion on today's rows.

    Attributes:
        drift: one row per feature (see `feature_drift`).
        performance: risk -> `estimated_auc` (CBPE), `realised_auc` (where labels exist), `holdout_auc`.
    """

    kind: str
    name: str
    version: str
    run_id: str
    rows: int
    drift: pd.DataFrame
    performance: dict[str, dict[str, float | None]]
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON-ready values."""
        drift = self.drift.astype({"drifted": bool}).to_dict(orient="records")
        keys = ("kind", "name", "version", "run_id", "rows", "performance", "reasons")
        return {k: getattr(self, k) for k in keys} | {
            "drifted_share": drifted_share(self.drift),
            "drift": drift,
        }


@dataclass(frozen=True)
class MonitorReport:
    """The verdict, its one-sentence reason and the checks behind it.

    Attributes:
        shadow: champion against challenger on the service's live traffic (never part of the verdict).
    """

    verdict: Verdict
    reason: str
    checks: list[ModelCheck]
    themes: ThemeCheck | None = None
    shadow: ShadowCheck | None = None

    @property
    def exit_code(self) -> int:
        """0 ok, 1 retrain recommended, 2 broken input."""
        return EXIT_CODES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values."""
        models = [c.as_dict() for c in self.checks]
        themes = None if self.themes is None else self.themes.as_dict()
        shadow = None if self.shadow is None else self.shadow.as_dict()
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "models": models,
            "themes": themes,
            "shadow": shadow,
        }


def broken(reason: str) -> MonitorReport:
    """The `broken input` report."""
    return MonitorReport("broken input", reason, [])


def monitor_tables(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    since: dt.datetime | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    rule: MonitorRule = MonitorRule(),
) -> MonitorReport:
    """Check every model that has a champion against a validated workspace's tables.

    Raises:
        DataProblem: when no model has a champion, or one lacks its reference profile.
    """
    activate(mlflow_config)
    champions = [c for kind in MODEL_KINDS if (c := load_champion(mlflow_config, kind)) is not None]
    if not champions:
        raise DataProblem("no model has a @champion to monitor: run `cxpredict train WORKSPACE` first")
    catalogue = build_catalogue(dict(tables), config)
    known = {f.name for f in catalogue.features}
    checks = []
    for champion in champions:
        needed = set(champion.profile["features"])
        if not needed <= known:
            gone = sorted(needed - known)
            return broken(
                f"{champion.name} version {champion.version} needs {len(gone)} feature(s) this workspace "
                f"no longer gives, such as {gone[0]}"
            )
        chosen = catalogue.subset(tuple(f for f in catalogue.features if f.name in needed))
        rows = current_rows(champion.kind, tables, chosen, since, max_rows, config.churn.cutoffs)
        if rows.empty and champion.kind == "churn":
            return broken("no customer is active at the end of the data: there is no one to monitor")
        if not rows.empty:
            labelled = _labelled(champion, tables, config, chosen, max_rows)
            checks.append(check_model(champion, rows, rule, labelled))
    ends = [pd.Timestamp(c.profile["until"]) for c in champions if "until" in c.profile]
    now = default_as_of(tables)
    themes = theme_check(tables, max(ends), now, rule.jensen_shannon) if ends else None
    return judge(checks, themes)


def _labelled(
    champion: Champion,
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    catalogue: Catalogue,
    max_rows: int,
) -> pd.DataFrame | None:
    """Churn: the newest labelled bases (see `labelled_churn_rows`) that the champion never saw.

    A base the champion was fitted on, or whose horizon overlaps the horizon of one it was fitted
    on (the same churners, labelled in both), would show its probabilities as sharper than they
    are on new customers: only bases a horizon after its last cutoff count. Without one, (and for
    surveys) the holdout's calibration stands in.
    """
    until = champion.profile.get("until")
    if champion.kind != "churn" or until is None or "churn" not in tables:
        return None
    horizon = config.churn.horizon_days
    unseen = pd.Timestamp(until) + pd.Timedelta(days=horizon)
    moment = base_moment(tables, config.churn.cutoffs) - pd.Timedelta(days=horizon)
    if moment < unseen:
        return None
    return labelled_churn_rows(tables, catalogue, horizon, max_rows, config.churn.cutoffs, unseen)


def check_model(
    champion: Champion, rows: pd.DataFrame, rule: MonitorRule, labelled: pd.DataFrame | None = None
) -> ModelCheck:
    """Drift of every feature, and each risk's estimated (and, where labelled, realised) AUC.

    Args:
        champion: the model judged.
        rows: today's rows with their features (see `current_rows`).
        rule: the thresholds.
        labelled: churn's newest labelled bases (see `_labelled`); CBPE calibrates on them (in
            isotonic steps) when they hold enough churners, else on the champion's holdout.
    """
    drift = feature_drift(champion.profile, rows, rule)
    performance = {}
    for risk, (mine, probabilities) in risk_probabilities(champion.predictor, rows).items():
        calibrator, figures = _calibrator(champion, risk, labelled)
        # CBPE weighs each row by its probability as the labelled reference showed it to be
        weights = probabilities if calibrator is None else calibrator.transform(probabilities)
        performance[risk] = {
            "rows": float(mine.sum()),
            "estimated_auc": expected_auc(weights),
            "realised_auc": _realised_auc(champion, risk, rows.loc[mine], probabilities),
            "holdout_auc": champion.holdout_auc.get(risk),
        } | figures
    reasons = _reasons(champion, drift, performance, rule)
    return ModelCheck(
        champion.kind,
        champion.name,
        champion.version,
        champion.run_id,
        len(rows),
        drift,
        performance,
        reasons,
    )


def _calibrator(
    champion: Champion, risk: str, labelled: pd.DataFrame | None
) -> tuple[ReferenceCalibrator | IsotonicCalibrator | None, dict[str, float | None]]:
    """CBPE's calibration for `risk`, and the labelled base's figures when it is the reference."""
    if labelled is not None and risk == "churn":
        churned = labelled[CHURN_LABEL].to_numpy(dtype=int)
        if min(churned.sum(), len(churned) - churned.sum()) >= MIN_CLASS_ROWS:
            p = risk_probabilities(champion.predictor, labelled)[risk][1]
            figures: dict[str, float | None] = {
                "labelled_rows": float(len(churned)),
                "labelled_auc": float(roc_auc_score(churned, p)),
            }
            return IsotonicCalibrator().fit(p, churned), figures
    calibration = champion.profile.get("calibration", {})
    if risk in calibration:
        return ReferenceCalibrator.from_params(**calibration[risk]), {}
    return None, {}


def _realised_auc(champion: Champion, risk: str, rows: pd.DataFrame, probabilities: Any) -> float | None:
    """The AUC against the answers themselves; churn labels are not known yet for today's base."""
    if champion.kind == "churn" or "score" not in rows:
        return None
    scale = champion.predictor.metrics[risk.removesuffix("_negative")].scale
    negative = rows["score"].map(scale.is_negative).astype(int)
    return float(roc_auc_score(negative, probabilities)) if negative.nunique() == 2 else None


def _reasons(
    champion: Champion, drift: pd.DataFrame, performance: Mapping[str, Any], rule: MonitorRule
) -> list[str]:
    reasons = []
    share = drifted_share(drift)
    if share >= rule.importance_share:
        named = ", ".join(drift.loc[drift["drifted"], "feature"].head(NAMED))
        reasons.append(f"{champion.name}: drifted features carry {share:.0%} of its importance ({named})")
    for risk, figures in performance.items():
        estimated, (bar, where) = figures["estimated_auc"], _bar(figures)
        if figures["rows"] < rule.auc_rows or estimated is None or bar is None:
            continue
        if bar - estimated > rule.auc_drop:
            reasons.append(f"{champion.name}: {risk} AUC estimated at {estimated:.3f}, {bar:.3f} {where}")
    return reasons


def _bar(figures: Mapping[str, float | None]) -> tuple[float | None, str]:
    """What the estimate must not fall well below: the newest realised AUC, else the holdout's.

    A churn holdout cut by time shares its customers (and overlapping label windows) with the
    training cutoffs, so it overstates the AUC on customers the model never saw; the labelled base
    is unseen, and the latest the labels tell.
    """
    if figures.get("labelled_auc") is not None and (figures.get("labelled_rows") or 0) >= MIN_LABELLED_ROWS:
        return figures["labelled_auc"], "realised on the newest labelled bases"
    return figures.get("holdout_auc"), "on its holdout"


def judge(checks: list[ModelCheck], themes: ThemeCheck | None = None) -> MonitorReport:
    """`retrain recommended` when any check found a reason or the text themes moved, else `ok`."""
    reasons = [reason for check in checks for reason in check.reasons]
    if themes is not None and themes.drifted:
        reasons.append(themes.reason())
    if reasons:
        return MonitorReport("retrain recommended", "; ".join(reasons), checks, themes)
    return MonitorReport("ok", "no feature the champions rely on has drifted", checks, themes)
