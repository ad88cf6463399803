"""Out-of-time calibration: predicted chances of a negative answer against the answers that came.

Each answer of the window is set against the prediction made at its moment from the features known
just before it, as the model is used. With a model trained before the window (as `retrain` judges
its candidates), a curve here is what a CX team can trust the model's probabilities to mean.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from features.contract import MetricScale
from training.insight.population import Population, answers_of

BINS = 10
MIN_ANSWERS = 20  # fewer answers than this make a curve of noise


def calibration_curves(
    population: Population, scales: Mapping[str, MetricScale], bins: int = BINS
) -> dict[str, list[dict[str, float]]]:
    """Per answered metric: bins of predicted negative probability with their observed negative share."""
    curves: dict[str, list[dict[str, float]]] = {}
    for metric, scale in scales.items():
        column = f"{metric}_negative_probability"
        if column not in population.answers.columns:
            continue
        answers = answers_of(population, metric)
        answered = ~np.isnan(answers)
        if answered.sum() < MIN_ANSWERS:
            continue
        predicted = answers_of(population, metric, column)[answered]
        observed = np.array([scale.is_negative(v) for v in answers[answered]], dtype=float)
        curves[metric] = reliability_bins(predicted, observed, bins)
    return curves


def reliability_bins(predicted: np.ndarray, observed: np.ndarray, bins: int = BINS) -> list[dict[str, float]]:
    """Equal-width bins of predicted probability: each one's mean prediction, observed rate and rows.

    The rows are named `answers`, as a survey metric's are; for churn they are customers.
    """
    which = np.minimum((predicted * bins).astype(int), bins - 1)
    rows = []
    for k in np.unique(which):
        inside = which == k
        rows.append(
            {
                "predicted": round(float(predicted[inside].mean()), 4),
                "observed": round(float(observed[inside].mean()), 4),
                "answers": int(inside.sum()),
            }
        )
    return rows
