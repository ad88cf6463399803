"""The challenger against the champion on live traffic, from the rows the service scored in shadow.

Per model output and pair of versions: how many rows both scored, how far apart their values are
(mean and largest absolute difference), whether they rank customers alike (Spearman), and, where the
labels have arrived since, the realised AUC of each: churn within the horizon after the moment the
features describe, or a survey answer on the negative side of its scale after it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

NO_CHALLENGER = "no challenger was scored in shadow: set a @challenger alias and let the service run"
GROUP = ["model", "output", "champion_version", "challenger_version"]

Labeller = Callable[[pd.DataFrame], pd.Series]  # shadow rows -> 1/0 label, NaN where not known yet


@dataclass(frozen=True)
class ShadowComparison:
    """One model output of one champion and challenger version on the same rows."""

    model: str
    output: str
    champion_version: str
    challenger_version: str
    rows: int
    mean_abs_diff: float
    max_abs_diff: float
    rank_correlation: float | None
    labelled_rows: int = 0
    champion_auc: float | None = None
    challenger_auc: float | None = None


@dataclass(frozen=True)
class ShadowCheck:
    """Every comparison, and one sentence summing them up (or saying there is nothing to compare)."""

    comparisons: list[ShadowComparison]
    summary: str

    def as_dict(self) -> dict[str, Any]:
        """The check as JSON-ready values."""
        return {"summary": self.summary, "comparisons": [asdict(c) for c in self.comparisons]}

    def metrics(self, model: str) -> dict[str, float]:
        """MLflow metrics of `model`'s comparisons, `shadow.<output>.<figure>` (newest challenger wins)."""
        figures = ("rows", "mean_abs_diff", "max_abs_diff", "rank_correlation", "labelled_rows")
        out: dict[str, float] = {}
        for c in sorted(self.comparisons, key=lambda c: _number(c.challenger_version)):
            if c.model == model:
                values = {f: getattr(c, f) for f in (*figures, "champion_auc", "challenger_auc")}
                out |= {f"shadow.{c.output}.{k}": float(v) for k, v in values.items() if v is not None}
        return out

    def versions(self, model: str) -> str | None:
        """The newest challenger version compared for `model`, for the monitoring run's tags."""
        found = [c.challenger_version for c in self.comparisons if c.model == model]
        return max(found, key=_number) if found else None


def compare_shadow(rows: pd.DataFrame, labellers: Mapping[str, Labeller]) -> ShadowCheck:
    """Compare champion and challenger on the shadow table's rows.

    Args:
        rows: the `cx_shadow_predictions` rows (`serving.shadow.COLUMNS`); `features_at` in seconds.
        labellers: output name -> what gives its rows their labels (outputs without one get no AUC).
    """
    if rows.empty:
        return ShadowCheck([], NO_CHALLENGER)
    # a customer rescored on the same features gives the same row again: count it once
    rows = rows.sort_values("scored_at").drop_duplicates([*GROUP, "customer_id", "features_at"], keep="last")
    comparisons = [
        _compare(group, key, labellers.get(str(key[1]))) for key, group in rows.groupby(GROUP, sort=True)
    ]
    return ShadowCheck(comparisons, _summary(comparisons))


def _compare(rows: pd.DataFrame, key: Any, labeller: Labeller | None) -> ShadowComparison:
    ours, theirs = rows["champion"].to_numpy(float), rows["challenger"].to_numpy(float)
    difference = np.abs(ours - theirs)
    model, output, champion, challenger = (str(part) for part in key)
    auc: dict[str, Any] = {}
    if labeller is not None:
        labels = labeller(rows)
        known = labels.notna().to_numpy()
        truth = labels[known].to_numpy(int)
        auc["labelled_rows"] = int(known.sum())
        if len(set(truth)) == 2:
            auc["champion_auc"] = float(roc_auc_score(truth, ours[known]))
            auc["challenger_auc"] = float(roc_auc_score(truth, theirs[known]))
    return ShadowComparison(
        model,
        output,
        champion,
        challenger,
        len(rows),
        float(difference.mean()),
        float(difference.max()),
        _spearman(ours, theirs),
        **auc,
    )


def _spearman(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None  # a rank correlation needs rows that differ
    return float(spearmanr(a, b).statistic)


def _summary(comparisons: list[ShadowComparison]) -> str:
    parts = []
    for c in comparisons:
        part = f"{c.model} {c.output} v{c.champion_version} vs v{c.challenger_version} on {c.rows:,} rows: "
        part += f"mean |difference| {c.mean_abs_diff:.3f}"
        if c.champion_auc is not None and c.challenger_auc is not None:
            part += f", realised AUC {c.champion_auc:.3f} vs {c.challenger_auc:.3f}"
        parts.append(part)
    return "challenger in shadow: " + "; ".join(parts)


def churn_labeller(churn: pd.DataFrame, horizon_days: int, data_end: pd.Timestamp) -> Labeller:
    """Churn labels: 1 when the customer churned within the horizon after the row's moment.

    0 when the whole horizon has passed in the data without it; unknown otherwise, and for customers
    gone before the moment.
    """
    first = churn.astype({"customer_id": str}).groupby("customer_id")["churned_at"].min()
    horizon = pd.Timedelta(days=horizon_days)

    def label(rows: pd.DataFrame) -> pd.Series:
        moment = _moments(rows)
        churned = _utc(rows["customer_id"].astype(str).map(first))
        within = (churned > moment) & (churned <= moment + horizon)
        known = within | ((moment + horizon <= data_end) & ~(churned <= moment))
        return within.astype(float).where(known)

    return label


def survey_labeller(surveys: pd.DataFrame, metric: str, is_negative: Callable[[float], bool]) -> Labeller:
    """Survey labels: 1 when the customer's first answer on `metric` after the row's moment is negative.

    0 when it is not; unknown when no answer came.
    """
    answers = surveys.loc[surveys["metric"].astype(str) == metric, ["customer_id", "responded_at", "score"]]
    answers = answers.assign(responded_at=_utc(answers["responded_at"]))
    answers = answers.astype({"customer_id": str}).sort_values("responded_at")

    def label(rows: pd.DataFrame) -> pd.Series:
        spine = pd.DataFrame({"customer_id": rows["customer_id"].astype(str), "at": _moments(rows)})
        spine = spine.reset_index().sort_values("at")
        joined = pd.merge_asof(
            spine,
            answers,
            left_on="at",
            right_on="responded_at",
            by="customer_id",
            direction="forward",
            allow_exact_matches=False,
        ).set_index("index")
        negative = joined["score"].map(lambda s: float(is_negative(s)), na_action="ignore")
        return negative.reindex(rows.index).astype(float)

    return label


def _moments(rows: pd.DataFrame) -> pd.Series:
    return _utc(pd.to_datetime(rows["features_at"].astype(float), unit="s", utc=True))


def _utc(values: pd.Series) -> pd.Series:
    """UTC timestamps in one resolution: `merge_asof` and comparisons refuse mixed ones."""
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")


def _number(version: str) -> float:
    return float(version) if version.isdigit() else -1.0
