"""One figure of the whole base three ways: respondents only, model-based, and doubly robust.

The corrected figure is the augmented inverse-propensity-weighted (AIPW) mean

    ψ = mean_i [ m_i + R_i / π_i · (y_i − a_i) ]

over every customer `i`: the model's prediction `m_i` for everyone now, plus each respondent's
residual weighted by the inverse of their estimated response propensity `π_i`. The residual is the
answer `y_i` less the model's prediction `a_i` *at the moment of that answer*, from the features
known just before it, exactly as the model was trained: an answer that followed a late parcel or
a closed ticket reads the customer's mood of that moment, which the model at that moment also
sees, so only the model's own error is carried to the base, not the passing dip. It is unbiased
when either the predictions or the propensities are right given the features (hence "doubly
robust"), provided the model's error for a customer at the moment they answered is its error for
them now.

The 95% interval comes from the estimator's influence function, `ψ ± 1.96 · sd(φ) / √n` with
`φ_i` the bracket above, not from a bootstrap: the predictions come from a model fitted before the
answers it is corrected with (so they are fixed, not re-estimated per resample), the propensity's
own estimation error only narrows an AIPW interval asymptotically (the plug-in is conservative), and
one pass over a million customers takes milliseconds where a bootstrap that refits the propensity
would take minutes. The interval covers sampling noise among respondents and the customers' spread;
it does not cover what no feature sees (answers that differ for reasons the propensity cannot know).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Z_95 = 1.959963984540054
MIN_RESPONDENTS = 2  # a mean and its spread need two answers

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """One figure three ways over `customers` customers, `n_respondents` of whom answered.

    Attributes:
        respondents: the plain mean of the answers (None without any).
        model: the mean of every customer's current prediction.
        corrected: the AIPW mean (None with fewer than two answers).
        interval: its 95% confidence interval, (lo, hi).
    """

    customers: int
    n_respondents: int
    respondents: float | None
    model: float
    corrected: float | None
    interval: tuple[float, float] | None

    def as_dict(self, digits: int = 2) -> dict[str, object]:
        """The JSON form, rounded; the interval also gives its width."""

        def r(value: float | None) -> float | None:
            return None if value is None else round(value, digits)

        interval = None if self.interval is None else [r(self.interval[0]), r(self.interval[1])]
        width = None if self.interval is None else r(self.interval[1] - self.interval[0])
        return {
            "customers": self.customers,
            "respondents": r(self.respondents),
            "n_respondents": self.n_respondents,
            "model": r(self.model),
            "corrected": r(self.corrected),
            "interval": interval,
            "interval_width": width,
        }


def aipw(current: Floats, predicted: Floats, answers: Floats, propensity: Floats) -> tuple[float, float]:
    """The AIPW mean and its standard error.

    Args:
        current: every customer's prediction now (`m_i`).
        predicted: the prediction at the moment of each customer's answer (`a_i`; unread elsewhere).
        answers: every customer's answer, NaN where they did not answer (`R_i = 0`).
        propensity: every customer's estimated chance of answering, already clipped away from 0.
    """
    answered = ~np.isnan(answers)
    residual = np.where(answered, np.nan_to_num(answers) - np.nan_to_num(predicted), 0.0)
    phi = current + residual / propensity
    return float(phi.mean()), float(phi.std(ddof=1) / np.sqrt(len(phi)))


def estimate(
    current: Floats, predicted: Floats, answers: Floats, propensity: Floats, outcome: Floats | None = None
) -> Estimate:
    """The three figures over the customers of these aligned arrays.

    Args:
        current: every customer's prediction now (the model-based figure is its mean).
        predicted: the prediction at the moment of each customer's answer, which the answer corrects.
        answers: every customer's answer in the window, NaN where none.
        propensity: every customer's clipped chance of answering in the window.
        outcome: the predictions now that the correction starts from (`m_i`), where they are not
            `current` (`anchor.anchored`).
    """
    answered = ~np.isnan(answers)
    n = int(answered.sum())
    respondents = float(answers[answered].mean()) if n else None
    corrected, interval = None, None
    if n >= MIN_RESPONDENTS:
        start = current if outcome is None else outcome
        corrected, se = aipw(start, predicted, answers, propensity)
        interval = (corrected - Z_95 * se, corrected + Z_95 * se)
    return Estimate(len(current), n, respondents, float(np.mean(current)), corrected, interval)
