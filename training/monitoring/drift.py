"""Data drift of each feature against its reference profile, and the verdict over all of them.

Numeric features: the population stability index (PSI) over the reference's decile bins plus a
missing bin; 0.2 is the usual line for a shift worth acting on. Categorical features: the
Jensen-Shannon distance (base 2) between level shares, drifted from 0.1 as in Evidently. The set
drifts when the drifted features carry at least `DriftRule.importance_share` of the model's
importance, so a shift in a feature the model hardly uses does not ask for a retrain.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from training.monitoring.profile import level_shares, numeric_shares

SMOOTHING = 1e-4  # an empty bin on one side must not make PSI infinite


@dataclass(frozen=True)
class DriftRule:
    """When a feature, and then the whole set, counts as drifted."""

    psi: float = 0.2
    jensen_shannon: float = 0.1
    importance_share: float = 0.05


def psi(reference: np.ndarray, current: np.ndarray) -> float:
    """Population stability index between two vectors of bin shares."""
    ref, cur = reference + SMOOTHING, current + SMOOTHING
    ref, cur = ref / ref.sum(), cur / cur.sum()
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def feature_drift(profile: Mapping[str, Any], current: pd.DataFrame, rule: DriftRule) -> pd.DataFrame:
    """One row per profiled feature: method, statistic, threshold, drifted and importance share.

    Sorted with the drifted features first, most important first.
    """
    rows = [_one(name, entry, current[name], rule) for name, entry in profile["features"].items()]
    table = pd.DataFrame(rows, columns=["feature", "method", "statistic", "threshold", "importance"])
    table["drifted"] = table["statistic"] > table["threshold"]
    return table.sort_values(["drifted", "importance"], ascending=False, ignore_index=True)


def _one(name: str, entry: Mapping[str, Any], values: pd.Series, rule: DriftRule) -> tuple[Any, ...]:
    if entry["kind"] == "categorical":
        levels = entry["levels"]
        now = level_shares(values, list(levels))
        ref = np.array([levels.get(k, 0.0) for k in now])
        distance = float(jensenshannon(ref, np.array(list(now.values())), base=2))
        return name, "jensen_shannon", distance, rule.jensen_shannon, entry["importance"]
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    now_shares = np.array(numeric_shares(numbers, entry["edges"]))
    return name, "psi", psi(np.array(entry["shares"]), now_shares), rule.psi, entry["importance"]


def drifted_share(table: pd.DataFrame) -> float:
    """The share of the model's importance that the drifted features carry."""
    return float(table.loc[table["drifted"], "importance"].sum())
