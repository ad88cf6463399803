from __future__ import annotations

import numpy as np
import pytest

from models.boosting import BoosterParams
from models.calibration import (
    IsotonicCalibrator,
    PlattCalibrator,
    calibrator_from_dict,
    expected_calibration_error,
    fit_calibrator,
)
from models.tabular import ChurnModel
from tests.models.synthetic import FEATURES, churn_frame


def test_calibrated_churn_probabilities_match_known_probabilities_on_a_later_slice() -> None:
    # given training rows and a later, unseen slice whose true churn probabilities are known
    train, later = churn_frame(3000, seed=0), churn_frame(4000, seed=1)
    reweighted = BoosterParams(balance_classes=True)  # trees see equal class totals: raw scores are biased
    model = ChurnModel(reweighted, random_state=0).fit(
        train[list(FEATURES)], train["churned"], train["cutoff"]
    )
    # when the calibrated model scores the later slice
    predicted = model.predict_proba(later[list(FEATURES)])
    # then the calibration error is small, and far below that of the class-reweighted raw trees
    ece = expected_calibration_error(later["churned"], predicted)
    raw = 1 / (1 + np.exp(-model.raw_score(later[list(FEATURES)])))
    assert ece < 0.05
    assert ece < expected_calibration_error(later["churned"], raw) / 2
    assert np.abs(predicted - later["true_p"]).mean() < 0.08


def test_ece_is_zero_for_rates_that_match_their_probability() -> None:
    labels = np.array([0, 0, 0, 1] * 25 + [1, 1, 1, 0] * 25)
    probabilities = np.array([0.25] * 100 + [0.75] * 100)
    assert expected_calibration_error(labels, probabilities) == pytest.approx(0.0)


def test_ece_measures_the_gap_of_an_overconfident_model() -> None:
    labels = np.array([0, 1] * 50)
    assert expected_calibration_error(labels, np.full(100, 0.9)) == pytest.approx(0.4)


@pytest.mark.parametrize("method", ["isotonic", "platt"])
def test_a_calibrator_survives_its_json_form(method: str) -> None:
    rng = np.random.default_rng(0)
    scores = rng.normal(size=2000)
    labels = (rng.uniform(size=2000) < 1 / (1 + np.exp(-2 * scores))).astype(int)
    calibrator = fit_calibrator(scores, labels, method)  # type: ignore[arg-type]
    again = calibrator_from_dict(calibrator.to_dict())
    assert np.array_equal(calibrator.predict(scores), again.predict(scores))
    assert calibrator.predict(np.array([-10.0]))[0] < 0.1 < 0.9 < calibrator.predict(np.array([10.0]))[0]


@pytest.mark.parametrize(("rows", "kind"), [(300, PlattCalibrator), (3000, IsotonicCalibrator)])
def test_auto_calibration_picks_platt_for_small_slices_and_isotonic_for_large(rows: int, kind: type) -> None:
    rng = np.random.default_rng(1)
    assert isinstance(fit_calibrator(rng.normal(size=rows), rng.integers(0, 2, rows)), kind)


def test_a_single_class_slice_cannot_be_calibrated() -> None:
    with pytest.raises(ValueError, match="single class"):
        fit_calibrator(np.arange(10.0), np.zeros(10))


def test_platt_never_reverses_the_ranking_of_a_model_that_learned_nothing() -> None:
    # given scores that are, by chance, anti-correlated with the outcome on the calibration slice
    scores = np.linspace(-1, 1, 400)
    labels = (scores < 0).astype(int)
    # when calibrated, then every probability is the base rate rather than a flipped ranking
    probabilities = PlattCalibrator().fit(scores, labels).predict(scores)
    assert np.allclose(probabilities, labels.mean())
