from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.predictor import Predictor
from models.reasons import Picks, ReasonWriter, describe
from models.tabular import ChurnModel
from tests.models.synthetic import DESCRIPTIONS, FEATURES, churn_frame


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    train = churn_frame(3000, seed=0)
    model = ChurnModel(monotone={"late_deliveries_30d": 1}).fit(
        train[list(FEATURES)], train["churned"], train["cutoff"]
    )
    return Predictor("churn", "churn_v1", DESCRIPTIONS, churn=model)


def profile(**values: object) -> pd.DataFrame:
    row = {"late_deliveries_30d": 0.0, "tickets_90d": 1.0, "tenure_days": 700.0, "plan": "plus", "noise": 0.0}
    return pd.DataFrame([{**row, **values}])


def test_the_feature_that_drives_a_prediction_is_its_top_reason_in_words(predictor: Predictor) -> None:
    reasons = predictor.explain(profile(late_deliveries_30d=6.0))[0]
    top = reasons[0]
    assert top.feature == "late_deliveries_30d"
    assert top.sentence == "6 late deliveries in the last 30 days"
    assert top.raises_risk and top.log_odds > 1.0


def test_a_protective_feature_is_a_reason_that_lowers_risk(predictor: Predictor) -> None:
    reasons = predictor.explain(profile(plan="pro", tenure_days=1500.0))[0]
    lowering = [r for r in reasons if not r.raises_risk]
    assert lowering and lowering[0].log_odds < 0
    assert {r.feature for r in lowering} & {"plan", "tenure_days", "late_deliveries_30d"}


def test_reasons_travel_as_json_in_the_predictor_output(predictor: Predictor) -> None:
    out = predictor.predict(profile(late_deliveries_30d=6.0))
    reasons = pd.read_json(pd.io.common.StringIO(out["churn_reasons"].iloc[0]))
    assert list(reasons.columns) == ["feature", "sentence", "value", "log_odds"]
    assert reasons["feature"].iloc[0] == "late_deliveries_30d"


@pytest.mark.parametrize(
    ("description", "value", "sentence"),
    [
        ("late deliveries in the last 30 days", 3.0, "3 late deliveries in the last 30 days"),
        ("subscription plan", "basic", "subscription plan: basic"),
        ("average wait in seconds", 42.5, "average wait in seconds: 42.50"),
        ("waited {value} seconds on the phone", 90.0, "waited 90 seconds on the phone"),
        ("days since the last ticket", None, "days since the last ticket: unknown"),
        ("amount spent", 12345.0, "12,345 amount spent"),
        ("latest csat score", 1.0, "latest csat score: 1"),
        ("customer's NumOfProducts", 1.0, "customer's NumOfProducts: 1"),  # an attribute, not a count
        (
            "total days late of deliveries in the last 30 days",
            4.0,
            "total days late of deliveries in the last 30 days: 4",
        ),
    ],
)
def test_a_description_and_a_value_make_a_sentence(description: str, value: object, sentence: str) -> None:
    assert describe(description, value) == sentence


def test_rows_without_any_push_get_an_empty_list_of_reasons(predictor: Predictor) -> None:
    assert predictor.churn is not None
    writer = ReasonWriter(predictor.features, DESCRIPTIONS)
    rows = predictor.encode(profile())
    nothing = Picks(np.full((1, 6), -1, dtype=np.intp), np.zeros((1, 6)))
    assert writer.json(nothing, rows).to_pylist() == ["[]"]
