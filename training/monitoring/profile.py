"""The reference profile a model is logged with: what its features looked like when it was trained.

A profile is small, JSON and model-free: per numeric feature the decile edges of its training values
and the share of rows in each bin (plus the share missing); per categorical feature the share of its
most frequent levels. Drift is later measured against these shares, so no training row is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from training.insight.calibration import reliability_bins
from training.monitoring.cbpe import ReferenceCalibrator

PROFILE_VERSION = 1
BINS = 10
TOP_LEVELS = 30
OTHER = "__other__"
MISSING = "__missing__"
CURVE_BINS = 10  # of a holdout's reliability curve
RECENT_DAYS = 90  # satisfaction: the answers of the last this many days of training


def reference_rows(frame: pd.DataFrame, time_column: str) -> pd.DataFrame:
    """The rows that stand for "the data at training time": the latest moment's, or the latest days'.

    A churn set repeats every customer at several cutoffs, and features such as tenure grow with
    time; comparing today's customers with the latest cutoff alone keeps that growth out of drift.
    """
    times = pd.to_datetime(frame[time_column])
    if times.nunique() <= BINS:  # cutoffs (or one snapshot): the latest one
        return frame.loc[times == times.max()]
    return frame.loc[times >= times.max() - pd.Timedelta(days=RECENT_DAYS)]


def build_profile(
    frame: pd.DataFrame, features: Sequence[str], importance: Mapping[str, float]
) -> dict[str, Any]:
    """The profile of `features` over the rows of `frame`, with each feature's share of importance.

    Args:
        frame: the reference rows (see `reference_rows`).
        features: the model's feature columns.
        importance: feature -> the model's total gain; normalised to shares here.
    """
    total = sum(importance.values()) or 1.0
    profiled = {name: _profile_column(frame[name]) for name in features}
    for name, entry in profiled.items():
        entry["importance"] = float(importance.get(name, 0.0)) / total
    return {"version": PROFILE_VERSION, "rows": len(frame), "features": profiled}


def holdout_calibration(sections: Iterable[Any]) -> dict[str, dict[str, float]]:
    """Risk -> the Platt mapping its holdout fits (`ReferenceCalibrator`), for CBPE to apply later.

    Args:
        sections: the holdout outcomes (`training.report.ReportSection`: name, labels, probabilities);
            a risk whose holdout holds one class only is left out.
    """
    fitted = {}
    for section in sections:
        labels = np.asarray(section.labels, dtype=int)
        if 0 < labels.sum() < len(labels):
            calibrator = ReferenceCalibrator().fit(np.asarray(section.probabilities), labels)
            fitted[section.name] = {"coef": calibrator.coef_, "intercept": calibrator.intercept_}
    return fitted


def holdout_curves(sections: Iterable[Any], bins: int = CURVE_BINS) -> dict[str, list[dict[str, float]]]:
    """Risk -> its holdout's reliability curve: bins of predicted probability, observed rate, rows.

    Kept with the run so a model page can draw each version's calibration on its own holdout.
    """
    curves = {}
    for section in sections:
        predicted = np.asarray(section.probabilities, dtype=float)
        if len(predicted):
            curves[section.name] = reliability_bins(predicted, np.asarray(section.labels, dtype=float), bins)
    return curves


def _profile_column(values: pd.Series) -> dict[str, Any]:
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        return _profile_levels(values)
    numbers = pd.to_numeric(values, errors="coerce").astype(float).to_numpy()
    known = numbers[~np.isnan(numbers)]
    edges = np.unique(np.quantile(known, np.linspace(0, 1, BINS + 1)[1:-1])) if len(known) else np.array([])
    return {"kind": "numeric", "edges": edges.tolist(), "shares": numeric_shares(numbers, edges.tolist())}


def numeric_shares(numbers: np.ndarray, edges: Sequence[float]) -> list[float]:
    """Share of `numbers` in each bin cut at `edges` (right-closed), then the share missing."""
    missing = np.isnan(numbers)
    bins = np.searchsorted(np.asarray(edges, dtype=float), numbers[~missing], side="left")
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(float)
    return [*(counts / max(len(numbers), 1)).tolist(), float(missing.mean()) if len(numbers) else 0.0]


def _profile_levels(values: pd.Series) -> dict[str, Any]:
    shares = values.astype("string").fillna(MISSING).value_counts(normalize=True)
    kept = shares.head(TOP_LEVELS)
    levels = {str(k): float(v) for k, v in kept.items()}
    if len(shares) > TOP_LEVELS:
        levels[OTHER] = float(shares.iloc[TOP_LEVELS:].sum())
    return {"kind": "categorical", "levels": levels}


def level_shares(values: pd.Series, levels: Sequence[str]) -> dict[str, float]:
    """Share of `values` at each reference level; values the reference never saw count as `OTHER`."""
    shares = values.astype("string").fillna(MISSING).value_counts(normalize=True)
    known = {level: float(shares.get(level, 0.0)) for level in levels if level != OTHER}
    known[OTHER] = max(0.0, 1.0 - sum(known.values()))
    return known
