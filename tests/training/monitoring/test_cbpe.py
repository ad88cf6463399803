from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from training.monitoring.cbpe import IsotonicCalibrator, ReferenceCalibrator, expected_auc
from training.monitoring.profile import holdout_calibration


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_expected_auc_of_calibrated_probabilities_matches_the_auc_of_labels_drawn_from_them(
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-2, 1.5, 20_000)))
    labels = rng.random(len(p)) < p
    assert expected_auc(p) == pytest.approx(roc_auc_score(labels, p), abs=0.01)


def test_expected_auc_counts_ties_half_and_ignores_missing() -> None:
    assert expected_auc(np.full(50, 0.3)) == pytest.approx(0.5)
    assert expected_auc(np.array([0.1, np.nan, 0.9])) == pytest.approx(expected_auc(np.array([0.1, 0.9])))


def test_expected_auc_matches_the_pairwise_definition() -> None:
    p = np.array([0.05, 0.2, 0.2, 0.6, 0.9])
    pairs = [(i, j) for i in range(5) for j in range(5) if i != j]
    weight = sum(p[i] * (1 - p[j]) for i, j in pairs)
    ordered = sum(
        p[i] * (1 - p[j]) * (1.0 if p[i] > p[j] else 0.5 if p[i] == p[j] else 0.0) for i, j in pairs
    )
    assert expected_auc(p) == pytest.approx(ordered / weight)


def test_expected_auc_is_undefined_below_two_rows() -> None:
    assert expected_auc(np.array([0.4])) is None
    assert expected_auc(np.array([1.0, 1.0])) is None


def test_a_reference_calibration_corrects_an_overconfident_model_before_estimating() -> None:
    rng = np.random.default_rng(3)
    true_p = 1 / (1 + np.exp(-rng.normal(-2, 1.0, 40_000)))
    labels = rng.random(len(true_p)) < true_p
    logit = np.log(true_p / (1 - true_p))
    overconfident = 1 / (1 + np.exp(-(2.5 * logit + 3)))  # the same ranking, stretched
    realised = roc_auc_score(labels[20_000:], true_p[20_000:])
    assert abs(expected_auc(overconfident[20_000:]) - realised) > 0.05
    calibrator = ReferenceCalibrator().fit(overconfident[:20_000], labels[:20_000])
    assert expected_auc(calibrator.transform(overconfident[20_000:])) == pytest.approx(realised, abs=0.01)


def test_a_small_reference_leans_on_the_models_own_calibration_and_a_large_one_overrules_it() -> None:
    # a well calibrated model and 200 labelled rows: plain Platt fits the sample's noise
    rng = np.random.default_rng(5)
    p = 1 / (1 + np.exp(-rng.normal(-1.5, 1.2, 200)))
    labels = rng.random(len(p)) < p
    plain, shrunk = (ReferenceCalibrator(prior_rows=k).fit(p, labels) for k in (0, 1000))
    assert abs(shrunk.coef_ - 1) < abs(plain.coef_ - 1) / 3 and abs(shrunk.intercept_) < 0.1
    # 20,000 rows of a really overconfident model outweigh the prior: the mapping still shrinks it
    stretched = 1 / (1 + np.exp(-2.5 * np.log(p / (1 - p))))
    many = np.tile(stretched, 100)
    big = ReferenceCalibrator().fit(many, rng.random(len(many)) < np.tile(p, 100))
    assert big.coef_ == pytest.approx(0.4, abs=0.05)


def test_the_holdout_calibration_is_stored_as_two_numbers_per_risk_and_restored() -> None:
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.9, 5000)
    labels = (rng.random(len(p)) < p).astype(int)
    sections = [SimpleNamespace(name="churn", labels=labels, probabilities=p)]
    one_class = SimpleNamespace(name="ces_negative", labels=np.zeros(10), probabilities=np.full(10, 0.2))
    stored = holdout_calibration([*sections, one_class])
    assert set(stored) == {"churn"} and stored["churn"]["coef"] == pytest.approx(1, abs=0.15)
    restored = ReferenceCalibrator.from_params(**stored["churn"])
    assert np.allclose(restored.transform(p), ReferenceCalibrator().fit(p, labels).transform(p))


def test_isotonic_steps_follow_probabilities_a_line_on_log_odds_cannot() -> None:
    # churn's own calibration leaves steps, the lowest fifth at exactly 0 though 1% of it churns:
    # Platt's line pivots on that clipped step and underestimates the AUC; isotonic steps do not
    rng = np.random.default_rng(6)
    true_p = 1 / (1 + np.exp(-rng.normal(-4, 0.8, 80_000)))
    labels = rng.random(len(true_p)) < true_p
    stepped = np.round(true_p * 1.5, 3)  # overconfident, in steps
    stepped[true_p < np.quantile(true_p, 0.2)] = 0.0
    reference, window = slice(0, 40_000), slice(40_000, None)
    realised = roc_auc_score(labels[window], stepped[window])
    platt = ReferenceCalibrator().fit(stepped[reference], labels[reference])
    assert expected_auc(platt.transform(stepped[window])) < realised - 0.05
    steps = IsotonicCalibrator().fit(stepped[reference], labels[reference])
    estimate = expected_auc(steps.transform(stepped[window]))
    assert estimate == pytest.approx(realised, abs=0.02)  # the realised AUC's own noise: about 0.01
    assert estimate == pytest.approx(expected_auc(true_p[window]), abs=0.005)  # what the truth expects
