"""Confidence-based performance estimation (CBPE): the AUC a model should reach, without labels.

When the predicted probabilities are calibrated, each row is a positive with probability `p` and a
negative with probability `1 - p`. The expected AUC is then the probability-weighted share of
(positive, negative) pairs that the scores order correctly, ties counting half, which is what
NannyML's CBPE computes from its expected ROC curve; here it is one sort, O(n log n).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.linear_model import LogisticRegression


def expected_auc(probabilities: np.ndarray | pd.Series) -> float | None:
    """The AUC expected from calibrated probabilities alone; None for fewer than two rows.

    Args:
        probabilities: each row's calibrated probability of the positive class, used both as the
            score that ranks rows and as the chance that the row is positive.
    """
    p = np.asarray(probabilities, dtype=float)
    p = p[~np.isnan(p)]
    if len(p) < 2:
        return None
    _, groups = np.unique(p, return_inverse=True)
    positives = np.bincount(groups, weights=p)
    negatives = np.bincount(groups, weights=1 - p)
    self_pairs = np.bincount(groups, weights=p * (1 - p))  # a row is never paired with itself
    below = np.concatenate([[0.0], np.cumsum(negatives)[:-1]])
    ordered = positives @ below + 0.5 * float(np.sum(positives * negatives - self_pairs))
    pairs = positives.sum() * negatives.sum() - self_pairs.sum()
    return float(ordered / pairs) if pairs > 0 else None


class ReferenceCalibrator:
    """Platt scaling of a model's probabilities on a labelled reference period, as CBPE does first.

    A model calibrated on its own last training slice may be over- or under-confident later; CBPE
    fits this mapping on a period whose labels are known, then applies it to unlabelled windows.
    It is monotone, so it changes the weights of the expected AUC, never the ranking.
    """

    def __init__(self, clip: float = 1e-6) -> None:
        self.clip = clip

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> ReferenceCalibrator:
        """Learn `coef_` and `intercept_` on the log-odds of `probabilities`."""
        model = LogisticRegression(C=1e6).fit(self._logit(probabilities), np.asarray(labels, dtype=int))
        self.coef_, self.intercept_ = float(model.coef_[0, 0]), float(model.intercept_[0])
        return self

    def transform(self, probabilities: np.ndarray) -> np.ndarray:
        """The recalibrated probabilities."""
        return np.asarray(expit(self.coef_ * self._logit(probabilities)[:, 0] + self.intercept_))

    @classmethod
    def from_params(cls, coef: float, intercept: float) -> ReferenceCalibrator:
        """A calibrator fitted earlier, from its two numbers (as the reference profile stores them)."""
        calibrator = cls()
        calibrator.coef_, calibrator.intercept_ = coef, intercept
        return calibrator

    def _logit(self, probabilities: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(probabilities, dtype=float), self.clip, 1 - self.clip)
        return np.log(p / (1 - p)).reshape(-1, 1)
