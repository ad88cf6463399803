"""Confidence-based performance estimation (CBPE): the AUC a model should reach, without labels.

When the predicted probabilities are calibrated, each row is a positive with probability `p` and a
negative with probability `1 - p`. The expected AUC is then the probability-weighted share of
(positive, negative) pairs that the scores order correctly, ties counting half, which is what
NannyML's CBPE computes from its expected ROC curve; here it is one sort, O(n log n).

Two calibrations: Platt scaling (`ReferenceCalibrator`) for a small reference, and isotonic steps
(`IsotonicCalibrator`, NannyML's default) for churn's labelled bases. The model's own isotonic
calibration leaves churn probabilities in steps, a fifth of the base at exactly 0: a line on
their log-odds then pivots on that clipped step, flattens every other row's probability, and
put the churn estimate 0.045 below the realised AUC in most months (bench_cbpe, 20,000 customers).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

# The weight of the model's own calibration against a reference's labels, in rows; the monitor
# judges an estimate from 1000 rows on (`MonitorRule.auc_rows`), and a reference that size
# should count at least as much as the model's own slice. (On bench_cbpe, seed 0, the CES
# windows were within 0.03 in 17%, 42%, 58%, 67% of months at 0, 300, 1000, 3000.)
PRIOR_ROWS = 1000.0


def expected_auc(probabilities: np.ndarray | pd.Series) -> float | None:
    """The AUC expected from calibrated probabilities alone; None for fewer than two rows.

    Args:
        probabilities: each row's calibrated probability of the positive class, used both as the
            score that ranks rows and as the chance that the row is positive. (Rows that a step
            mapping ties count the same as if ranked apart: a tied pair's two orders weigh alike.)
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

    On a small reference (a few hundred answers, a few dozen positives) two free parameters fit
    its noise, and the estimate inherits it. The model's own probabilities were themselves
    calibrated on its last training slice, so they count as `prior_rows` rows of evidence: each
    reference row is also entered with the model's probability as a soft label, at a total weight
    of `prior_rows`. A large reference outweighs them; with none, the mapping is the identity.
    """

    def __init__(self, clip: float = 1e-6, prior_rows: float = PRIOR_ROWS) -> None:
        self.clip = clip
        self.prior_rows = prior_rows

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> ReferenceCalibrator:
        """Learn `coef_` and `intercept_` on the log-odds of `probabilities`."""
        p = np.clip(np.asarray(probabilities, dtype=float), self.clip, 1 - self.clip)
        y = np.asarray(labels, dtype=int)
        x, weights = self._logit(p), np.ones(len(y))
        if self.prior_rows > 0:  # the soft labels: each row once as positive (weight p), once negative
            share = self.prior_rows / len(y)
            x = np.concatenate([x, x, x])
            y = np.concatenate([y, np.ones_like(y), np.zeros_like(y)])
            weights = np.concatenate([weights, share * p, share * (1 - p)])
        model = LogisticRegression(C=1e6).fit(x, y, sample_weight=weights)
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


class IsotonicCalibrator:
    """Isotonic regression of a reference's labels on a model's probabilities: CBPE's step mapping.

    It assumes no shape, so it follows probabilities that the model's own calibration left in
    steps, where `ReferenceCalibrator`'s line on log-odds cannot; it needs a large reference
    (churn's labelled bases: thousands of customers) and, as there, counts the model's own
    probabilities as `prior_rows` rows of evidence.
    """

    def __init__(self, prior_rows: float = PRIOR_ROWS) -> None:
        self.prior_rows = prior_rows

    def fit(self, probabilities: np.ndarray, labels: np.ndarray) -> IsotonicCalibrator:
        """Learn the non-decreasing step mapping `regression_`."""
        p, y = np.asarray(probabilities, dtype=float), np.asarray(labels, dtype=float)
        x, weights = p, np.ones(len(p))
        if self.prior_rows > 0:  # each row once more, its own probability as a soft label
            x, y = np.concatenate([p, p]), np.concatenate([y, p])
            weights = np.concatenate([weights, np.full(len(p), self.prior_rows / len(p))])
        self.regression_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        self.regression_.fit(x, y, sample_weight=weights)
        return self

    def transform(self, probabilities: np.ndarray) -> np.ndarray:
        """The recalibrated probabilities."""
        return np.asarray(self.regression_.predict(np.asarray(probabilities, dtype=float)))
