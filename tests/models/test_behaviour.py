"""Behavioural tests: directional, invariance and minimum functionality, on known effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import DEFAULT_METRICS
from models.satisfaction import MetricModel
from models.tabular import ChurnModel
from tests.models.synthetic import FEATURES, churn_frame, satisfaction_frame

MONOTONE = {"late_deliveries_30d": 1, "tickets_90d": 1}


@pytest.fixture(scope="module")
def churn_model() -> ChurnModel:
    train = churn_frame(3000, seed=0)
    return ChurnModel(monotone=MONOTONE).fit(train[list(FEATURES)], train["churned"], train["cutoff"])


@pytest.fixture(scope="module")
def nps_model() -> MetricModel:
    answers = satisfaction_frame(3000, seed=0, metrics=("nps",))
    return MetricModel(DEFAULT_METRICS["nps"], monotone=MONOTONE).fit(
        answers[list(FEATURES)], answers["score"], answers["responded_at"]
    )


def customer(**values: object) -> pd.DataFrame:
    row = {"late_deliveries_30d": 1.0, "tickets_90d": 1.0, "tenure_days": 700.0, "plan": "plus", "noise": 0.0}
    return pd.DataFrame([{**row, **values}])


def sweep(feature: str, values: list[float], **base: object) -> pd.DataFrame:
    return pd.concat([customer(**{**base, feature: v}) for v in values], ignore_index=True)


BASES = [{}, {"plan": "basic", "tenure_days": 60.0}, {"plan": "pro", "tickets_90d": 4.0}, {"noise": 2.0}]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("feature", ["late_deliveries_30d", "tickets_90d"])
def test_more_service_failures_never_lower_churn_risk(
    churn_model: ChurnModel, feature: str, base: dict
) -> None:
    risk = churn_model.predict_proba(sweep(feature, [0, 1, 2, 3, 5, 8, 12], **base))
    assert np.all(np.diff(risk) >= 0)
    assert risk[-1] > risk[0] + 0.01  # and does rise: a model that ignores the feature fails here


@pytest.mark.parametrize("base", BASES)
def test_more_late_deliveries_never_raise_the_predicted_nps(nps_model: MetricModel, base: dict) -> None:
    frame = sweep("late_deliveries_30d", [0, 1, 2, 3, 5, 8], **base)
    score, negative = nps_model.score_.predict(frame), nps_model.negative_.predict_proba(frame)
    assert np.all(np.diff(score) <= 0) and np.all(np.diff(negative) >= 0)
    assert score[-1] < score[0] - 0.1 and negative[-1] > negative[0] + 0.01  # a constant model fails


@pytest.mark.parametrize("extra", [{"comment": "great service"}, {"email": "a@b.c"}, {"customer_id": "c42"}])
def test_a_column_outside_the_feature_set_changes_nothing(churn_model: ChurnModel, extra: dict) -> None:
    base = sweep("late_deliveries_30d", [0, 2, 4])
    with_extra = base.assign(**extra)
    assert np.array_equal(churn_model.predict_proba(base), churn_model.predict_proba(with_extra))


def test_an_irrelevant_feature_moves_churn_risk_far_less_than_a_relevant_one(churn_model: ChurnModel) -> None:
    rows = churn_frame(500, seed=3)[list(FEATURES)]

    def moved_by_shuffling(feature: str) -> float:
        shuffled = rows.assign(**{feature: np.random.default_rng(0).permutation(rows[feature].to_numpy())})
        return float(np.abs(churn_model.predict_proba(rows) - churn_model.predict_proba(shuffled)).mean())

    assert moved_by_shuffling("noise") < moved_by_shuffling("late_deliveries_30d") / 3


def test_an_unseen_category_level_is_scored_as_missing_not_an_error(churn_model: ChurnModel) -> None:
    unseen = churn_model.predict_proba(customer(plan="enterprise"))[0]
    missing = churn_model.predict_proba(customer(plan=None))[0]
    assert unseen == pytest.approx(missing, abs=1e-12)
    assert unseen != pytest.approx(churn_model.predict_proba(customer(plan="pro"))[0], abs=1e-6)


@pytest.mark.parametrize(
    ("profile", "low", "high"),
    [
        ({"late_deliveries_30d": 6.0, "tickets_90d": 5.0, "plan": "basic", "tenure_days": 40.0}, 0.7, 1.0),
        ({"late_deliveries_30d": 0.0, "tickets_90d": 0.0, "plan": "pro", "tenure_days": 1400.0}, 0.0, 0.15),
    ],
)
def test_obvious_profiles_get_obvious_churn_risk(
    churn_model: ChurnModel, profile: dict, low: float, high: float
) -> None:
    assert low <= churn_model.predict_proba(customer(**profile))[0] <= high


def test_nps_class_probabilities_sum_to_one_and_follow_the_experience(nps_model: MetricModel) -> None:
    assert nps_model.classes_ is not None
    classes = nps_model.classes_.predict_proba(sweep("late_deliveries_30d", [0, 6]))
    assert np.allclose(classes.sum(axis=1), 1)
    detractor, promoter = classes[:, 0], classes[:, 2]
    assert detractor[1] > detractor[0] and promoter[1] < promoter[0]
