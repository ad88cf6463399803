from __future__ import annotations

import pytest

from features.contract import DEFAULT_METRICS
from models.boosting import BoosterParams
from tests.models.synthetic import DESCRIPTIONS, FEATURES, satisfaction_frame
from tests.training.conftest import churn_set, satisfaction_set
from training.datasets import TrainingSet
from training.fitting import (
    HALF_PAIRS,
    MIN_ANSWERS,
    FitOptions,
    customer_halves,
    fit_churn,
    fit_halves,
    fit_satisfaction,
)


def test_each_metric_is_fitted_with_the_settings_for_its_own_number_of_answers() -> None:
    # given answers where only some metrics reach the large-set threshold
    ts = satisfaction_set(2000)
    answers = ts.frame["metric"].astype(str).value_counts()
    threshold = int(answers.min()) + 1
    # when the satisfaction models are fitted
    predictor = fit_satisfaction(ts, DEFAULT_METRICS, FitOptions(params=BoosterParams(large_rows=threshold)))
    # then a metric with at least `threshold` answers got the large-set settings, the others the defaults
    for name, model in predictor.metrics.items():
        expected = BoosterParams(large_rows=threshold).for_rows(int(answers[name]))
        assert model.params == expected
        assert (model.params.learning_rate == 0.1) == (answers[name] >= threshold)


def test_the_churn_model_is_fitted_with_the_settings_for_its_size() -> None:
    small = fit_churn(churn_set(1000), FitOptions())
    large = fit_churn(churn_set(1000), FitOptions(params=BoosterParams(large_rows=1000)))
    assert small.churn is not None and large.churn is not None
    assert small.churn.params == BoosterParams()
    assert (large.churn.params.learning_rate, large.churn.params.refit) == (0.1, False)


def test_a_metric_with_fewer_answers_than_the_minimum_is_left_out_saying_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given one metric with one answer fewer than the minimum, the others with plenty
    frame = satisfaction_frame(3000, seed=0)
    metrics = frame["metric"].astype(str)
    thin = metrics.value_counts().index[-1]
    keep = (metrics != thin) | (metrics == thin).cumsum().le(MIN_ANSWERS - 1)
    ts = TrainingSet(frame[keep], FEATURES, "score", "responded_at", DESCRIPTIONS, "satisfaction_v1")
    # when the satisfaction models are fitted
    predictor = fit_satisfaction(ts, DEFAULT_METRICS, FitOptions())
    # then that metric is absent (not zero), and the log says why in one line
    assert thin not in predictor.metrics and len(predictor.metrics) == metrics.nunique() - 1
    assert f"metric {thin}: {MIN_ANSWERS - 1} answers, fewer than {MIN_ANSWERS}; not trained" in caplog.text


def test_nps_is_also_fitted_from_the_experiences_alone_without_the_past_answers() -> None:
    # given answers whose features include a past answer
    frame = satisfaction_frame(2000, seed=0)
    frame["surveys_nps_last"] = frame["score"].where(frame["metric"] == "nps")
    features = (*FEATURES, "surveys_nps_last")
    ts = TrainingSet(frame, features, "score", "responded_at", DESCRIPTIONS, "satisfaction_v1")
    # when the satisfaction models are fitted
    predictor = fit_satisfaction(ts, DEFAULT_METRICS, FitOptions())
    # then the metrics read it, and the experience model reads every feature but it
    assert predictor.experience is not None
    assert predictor.experience.schema_.features == FEATURES
    assert predictor.features == features
    nps = predictor.experience_nps(frame)
    assert nps is not None and nps.shape == (len(frame),) and ((nps >= -1) & (nps <= 1)).all()


def test_without_nps_answers_there_is_no_experience_model() -> None:
    frame = satisfaction_frame(2000, seed=0)
    ts = TrainingSet(frame[frame["metric"] != "nps"], FEATURES, "score", "responded_at", DESCRIPTIONS, "s_v1")
    predictor = fit_satisfaction(ts, DEFAULT_METRICS, FitOptions())
    assert predictor.experience is None and predictor.experience_nps(frame) is None


def test_the_experience_model_is_also_fitted_on_complementary_halves_of_the_customers() -> None:
    # given answers of customers who answered twice each
    frame = satisfaction_frame(2000, seed=0)
    ts = TrainingSet(frame, FEATURES, "score", "responded_at", DESCRIPTIONS, "satisfaction_v1")
    # when the satisfaction models are fitted, and the halves with as few answers as a metric needs
    predictor = fit_satisfaction(ts, DEFAULT_METRICS, FitOptions())
    halves = fit_halves(ts, FitOptions(), least=MIN_ANSWERS)
    # then training fits none (a half would hold fewer than HALF_LEAST answers), and the halves are
    # three pairs that differ
    assert predictor.experience is not None and predictor.experience_halves == []
    assert len(halves) == 2 * HALF_PAIRS
    assert len({float(h.predict_proba(frame[list(FEATURES)])[:, 0].mean()) for h in halves}) == 2 * HALF_PAIRS
    # and each pair splits the customers in two, a customer's answers all on one side
    customers = frame["customer_id"]
    for first in customer_halves(customers, HALF_PAIRS, seed=0):
        assert set(customers[first]).isdisjoint(set(customers[~first]))
        assert abs(int(first.sum()) - len(frame) // 2) <= 2


def test_no_halves_are_fitted_when_a_half_would_hold_too_few_answers() -> None:
    frame = satisfaction_frame(2000, seed=0)
    nps = frame[frame["metric"] == "nps"].head(2 * MIN_ANSWERS - 20)
    ts = TrainingSet(nps, FEATURES, "score", "responded_at", DESCRIPTIONS, "satisfaction_v1")
    assert fit_halves(ts, FitOptions(), least=MIN_ANSWERS) == []
