"""Probability calibration stored as plain numbers, and the calibration error that judges it.

Calibrators map a model's raw score (log-odds) to a probability. They keep their learned state as
a handful of floats, so a saved model holds them as JSON rather than as a pickle.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

Method = Literal["auto", "isotonic", "platt"]
# Isotonic regression overfits a small calibration slice; below this many rows Platt scaling is safer.
MIN_ROWS_FOR_ISOTONIC = 1000


class IsotonicCalibrator:
    """A monotone step function from score to probability, kept as its thresholds."""

    def fit(self, scores: ArrayLike, labels: ArrayLike) -> IsotonicCalibrator:
        """Fit on raw scores and 0/1 labels; returns self."""
        iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
        self.x_ = np.asarray(iso.X_thresholds_, dtype=float)
        self.y_ = np.asarray(iso.y_thresholds_, dtype=float)
        return self

    def predict(self, scores: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probabilities of the scores."""
        return np.interp(np.asarray(scores, dtype=float), self.x_, self.y_)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the method and its thresholds."""
        return {"method": "isotonic", "x": self.x_.tolist(), "y": self.y_.tolist()}


class PlattCalibrator:
    """A logistic curve `sigmoid(a * score + b)` fitted on raw scores."""

    def fit(self, scores: ArrayLike, labels: ArrayLike) -> PlattCalibrator:
        """Fit on raw scores and 0/1 labels; returns self."""
        x = np.asarray(scores, dtype=float).reshape(-1, 1)
        y = np.asarray(labels, dtype=float)
        lr = LogisticRegression(C=1e6).fit(x, y)
        self.a_, self.b_ = float(lr.coef_[0, 0]), float(lr.intercept_[0])
        if self.a_ < 0:  # a calibrator must never reverse the model's ranking: fall back to the base rate
            rate = float(np.clip(y.mean(), 1e-6, 1 - 1e-6))
            self.a_, self.b_ = 0.0, float(np.log(rate / (1 - rate)))
        return self

    def predict(self, scores: ArrayLike) -> NDArray[np.float64]:
        """Calibrated probabilities of the scores."""
        z = self.a_ * np.asarray(scores, dtype=float) + self.b_
        return 1.0 / (1.0 + np.exp(-z))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the method and its two coefficients."""
        return {"method": "platt", "a": self.a_, "b": self.b_}


Calibrator = IsotonicCalibrator | PlattCalibrator


def fit_calibrator(scores: ArrayLike, labels: ArrayLike, method: Method = "auto") -> Calibrator:
    """Fit a calibrator on a slice the trees never saw.

    Args:
        scores: raw model scores (log-odds) of the calibration slice.
        labels: its 0/1 outcomes; both values must occur.
        method: `auto` picks isotonic from `MIN_ROWS_FOR_ISOTONIC` rows on, Platt below.

    Raises:
        ValueError: when the slice holds only one class, so no calibration can be learned.
    """
    y = np.asarray(labels)
    if len(np.unique(y)) < 2:
        raise ValueError(f"calibration slice of {len(y)} rows holds a single class; need both")
    if method == "auto":
        method = "isotonic" if len(y) >= MIN_ROWS_FOR_ISOTONIC else "platt"
    calibrator: Calibrator = IsotonicCalibrator() if method == "isotonic" else PlattCalibrator()
    return calibrator.fit(scores, y)


def calibrator_from_dict(data: dict[str, Any]) -> Calibrator:
    """Rebuild a calibrator from its `to_dict` form."""
    if data["method"] == "isotonic":
        iso = IsotonicCalibrator()
        iso.x_, iso.y_ = np.asarray(data["x"], dtype=float), np.asarray(data["y"], dtype=float)
        return iso
    platt = PlattCalibrator()
    platt.a_, platt.b_ = float(data["a"]), float(data["b"])
    return platt


def expected_calibration_error(labels: ArrayLike, probabilities: ArrayLike, n_bins: int = 10) -> float:
    """Expected calibration error: the row-weighted mean |observed rate - mean probability|.

    Uses `n_bins` equal-width probability bins; a probability of exactly 1 falls in the last bin.
    """
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    if len(y) == 0:
        return float("nan")
    bins = np.minimum((p * n_bins).astype(int), n_bins - 1)
    error = 0.0
    for b in np.unique(bins):
        in_bin = bins == b
        error += in_bin.sum() * abs(y[in_bin].mean() - p[in_bin].mean())
    return float(error / len(y))
