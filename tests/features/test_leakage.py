"""Point-in-time correctness: nothing known only after an example's moment reaches its features."""

from __future__ import annotations

import pandas as pd

from features.training_sets import build_churn_set, build_satisfaction_set, build_scoring_set
from tests.features.conftest import CONFIG, T, at, typed


def one_survey(**tables: dict[str, list[object]]) -> dict[str, pd.DataFrame]:
    survey = {"customer_id": ["C1"], "responded_at": [at("0s")], "metric": ["nps"], "score": ["3"]}
    return typed(surveys=survey, **tables)


def test_a_delivery_ordered_before_a_survey_but_delivered_after_it_contributes_no_lateness() -> None:
    # given a delivery ordered and due before the survey, delivered (late) only after it
    delivery = {
        "customer_id": ["C1"],
        "order_id": ["O1"],
        "ordered_at": [at("-10D")],
        "promised_at": [at("-5D")],
        "delivered_at": [at("+1D")],
    }
    # when the survey's features are built
    row = build_satisfaction_set(one_survey(deliveries=delivery), CONFIG).frame.iloc[0]
    # then the delivery counts, as open and overdue, but its lateness is unknown
    assert row["deliveries_count_all"] == 1
    assert row["deliveries_late_count_all"] == 0
    assert row["deliveries_days_late_sum_all"] == 0
    assert pd.isna(row["deliveries_days_late_max_all"])
    assert row["deliveries_open_overdue_count"] == 1


def test_the_same_delivery_is_late_once_delivered_before_the_survey() -> None:
    delivery = {
        "customer_id": ["C1"],
        "order_id": ["O1"],
        "ordered_at": [at("-10D")],
        "promised_at": [at("-5D")],
        "delivered_at": [at("-2D")],
    }
    row = build_satisfaction_set(one_survey(deliveries=delivery), CONFIG).frame.iloc[0]
    assert row["deliveries_late_count_all"] == 1
    assert row["deliveries_days_late_sum_all"] == 3
    assert row["deliveries_open_overdue_count"] == 0


def test_open_and_overdue_split_the_open_deliveries() -> None:
    # given one parcel delivered, one open and not yet due, one open past its promise (lost)
    deliveries = {
        "customer_id": ["C1"] * 3,
        "order_id": ["O1", "O2", "O3"],
        "ordered_at": [at("-20D"), at("-2D"), at("-30D")],
        "promised_at": [at("-15D"), at("+3D"), at("-25D")],
        "delivered_at": [at("-16D"), None, None],
    }
    # when the customer is scored
    row = build_scoring_set(typed(deliveries=deliveries), CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    # then the lost parcel is counted once, as overdue
    assert (row["deliveries_open_count"], row["deliveries_open_overdue_count"]) == (1, 1)


def test_a_surveys_own_comment_never_reaches_its_features() -> None:
    # given the same answer with and without a comment
    answer = {"customer_id": ["C1"], "responded_at": [at("0s")], "metric": ["nps"], "score": ["3"]}
    answer_with_comment = {**answer, "comment": ["parcel lost, never again"]}
    # when the features of each are built
    plain = build_satisfaction_set(typed(surveys=answer), CONFIG).frame
    commented = build_satisfaction_set(typed(surveys=answer_with_comment), CONFIG).frame
    # then they are the same, and no earlier comment is counted
    features = [c for c in plain.columns if c.startswith(("surveys_", "days_since"))]
    pd.testing.assert_frame_equal(plain[features], commented[features])
    assert commented.loc[0, "surveys_with_comment_count_all"] == 0
    assert not commented.isin(["parcel lost, never again"]).any().any()


def test_a_surveys_own_score_is_not_in_its_survey_history() -> None:
    # given two nps answers a day apart
    surveys = {
        "customer_id": ["C1", "C1"],
        "responded_at": [at("-1D"), at("0s")],
        "metric": ["nps", "nps"],
        "score": ["2", "9"],
    }
    # when the satisfaction set is built
    frame = build_satisfaction_set(typed(surveys=surveys), CONFIG).frame.set_index("score")
    # then each answer sees only strictly earlier answers
    assert frame.loc[2.0, "surveys_nps_answers_count_all"] == 0
    assert pd.isna(frame.loc[2.0, "surveys_nps_score_last"])
    assert frame.loc[9.0, "surveys_nps_answers_count_all"] == 1
    assert frame.loc[9.0, "surveys_nps_score_last"] == 2


def test_answers_given_at_the_same_moment_do_not_see_each_other() -> None:
    surveys = {
        "customer_id": ["C1", "C1"],
        "responded_at": [at("0s")] * 2,
        "metric": ["nps", "csat"],
        "score": ["2", "4"],
    }
    frame = build_satisfaction_set(typed(surveys=surveys), CONFIG).frame
    assert (frame["surveys_count_all"] == 0).all()


def tickets_at(*offsets: str) -> dict[str, list[object]]:
    return {
        "customer_id": ["C1"] * len(offsets),
        "ticket_id": [f"T{i}" for i in range(len(offsets))],
        "opened_at": [at(o) for o in offsets],
    }


def test_an_event_one_second_before_the_cutoff_counts() -> None:
    tables = typed(tickets=tickets_at("-1s"), churn={"customer_id": ["C2"], "churned_at": ["2024-06-01"]})
    row = build_churn_set(tables, CONFIG, cutoffs=[T]).frame.set_index("customer_id").loc["C1"]
    assert row["tickets_count_all"] == 1
    assert row["tickets_days_since_last"] * 86_400 == 1


def test_events_at_and_after_the_cutoff_do_not_count() -> None:
    tables = typed(
        tickets=tickets_at("0s", "+1s"), churn={"customer_id": ["C2"], "churned_at": ["2024-06-01"]}
    )
    row = build_churn_set(tables, CONFIG, cutoffs=[T]).frame.set_index("customer_id").loc["C1"]
    assert row["tickets_count_all"] == 0
    assert pd.isna(row["tickets_days_since_last"])


def test_a_ticket_closed_after_the_moment_is_open_and_its_reopening_unknown() -> None:
    ticket = {**tickets_at("-3D"), "closed_at": [at("+1D")], "reopened": ["true"]}
    row = build_scoring_set(typed(tickets=ticket), CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    assert row["tickets_open_count"] == 1
    assert row["tickets_reopened_count_all"] == 0
    assert pd.isna(row["tickets_hours_to_close_mean_all"])


def test_a_claims_outcome_is_unknown_until_it_is_resolved() -> None:
    claim = {
        "customer_id": ["C1", "C1"],
        "claim_id": ["W1", "W2"],
        "filed_at": [at("-9D"), at("-8D")],
        "resolved_at": [at("-1D"), at("+1D")],
        "outcome": ["rejected", "rejected"],
    }
    row = build_scoring_set(typed(warranty_claims=claim), CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    assert row["warranty_claims_rejected_count_all"] == 1
    assert row["warranty_claims_open_count"] == 1
    assert row["warranty_claims_outcome_last"] == "rejected"


def churn_examples_at_t(churned_at: str, created_at: str = "2023-01-01") -> pd.DataFrame:
    customers = {"customer_id": ["C1", "C2"], "created_at": [created_at, "2023-01-01"]}
    churn = {"customer_id": ["C1"], "churned_at": [churned_at]}
    return build_churn_set(typed(customers=customers, churn=churn), CONFIG, cutoffs=[T]).frame


def test_a_customer_churned_before_the_cutoff_is_not_an_example() -> None:
    assert list(churn_examples_at_t(at("-1D"))["customer_id"]) == ["C2"]


def test_a_customer_churned_exactly_at_the_cutoff_is_not_an_example() -> None:
    assert list(churn_examples_at_t(at("0s"))["customer_id"]) == ["C2"]


def test_a_customer_created_after_the_cutoff_is_not_an_example() -> None:
    assert list(churn_examples_at_t("2024-09-01", created_at=at("+1s"))["customer_id"]) == ["C2"]


def test_churn_within_the_horizon_after_the_cutoff_is_a_positive_label() -> None:
    frame = churn_examples_at_t(at("+90D")).set_index("customer_id")
    assert frame.loc["C1", "churned"] == 1
    assert frame.loc["C2", "churned"] == 0


def test_churn_after_the_horizon_is_a_negative_label() -> None:
    frame = churn_examples_at_t(at("+91D")).set_index("customer_id")
    assert frame.loc["C1", "churned"] == 0
