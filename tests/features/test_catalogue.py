"""The catalogue: defaults, what richer tables and config add, and its round trip to JSON."""

from __future__ import annotations

import pandas as pd

from features.catalogue import FEATURE_SERVICES, Catalogue
from features.config import EventAggregation, EventTableConfig, WorkspaceConfig
from features.discover import build_catalogue
from features.harm import harm_directions, unheld
from features.training_sets import build_scoring_set
from tests.features.conftest import CONFIG, T, at, random_tables, typed

TICKETS = {"customer_id": ["C1", "C1"], "ticket_id": ["T1", "T2"], "opened_at": [at("-2D"), at("-40D")]}


def names(catalogue: Catalogue) -> set[str]:
    return {f.name for f in catalogue.features}


def test_an_extra_numeric_column_gets_window_sums_means_maxima_and_its_latest_value() -> None:
    tables = typed(tickets={**TICKETS, "minutes_spent": ["5", "7"]})
    row = build_scoring_set(tables, CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    assert row["tickets_minutes_spent_sum_7d"] == 5
    assert row["tickets_minutes_spent_sum_all"] == 12
    assert row["tickets_minutes_spent_max_30d"] == 5
    assert row["tickets_minutes_spent_last"] == 5


def test_an_extra_low_cardinality_text_column_gets_its_latest_value_and_value_counts() -> None:
    tables = typed(tickets={**TICKETS, "team": ["billing", "returns"]})
    row = build_scoring_set(tables, CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    assert row["tickets_team_last"] == "billing"
    assert row["tickets_team_returns_count_all"] == 1
    assert row["tickets_team_returns_count_30d"] == 0


def test_every_level_of_a_text_column_is_counted_so_shifting_frequencies_keep_the_features() -> None:
    # a champion trained on one snapshot needs the same value counts from the next, where the sixth
    # most frequent team may have overtaken the fifth
    teams = ["a", "b", "c", "d", "e", "f", "g"]

    def catalogue(weights: list[int]) -> set[str]:
        team = [t for t, k in zip(teams, weights, strict=True) for _ in range(k)]
        n = len(team)
        tickets = {
            "customer_id": ["C1"] * n,
            "ticket_id": [f"T{i}" for i in range(n)],
            "opened_at": [at("-2D")] * n,
            "team": team,
        }
        return {name for name in names(build_catalogue(typed(tickets=tickets), CONFIG)) if "_team_" in name}

    before, after = catalogue([7, 6, 5, 4, 3, 2, 1]), catalogue([1, 2, 3, 4, 5, 6, 7])
    assert before == after
    assert {f"tickets_team_{t}_count_all" for t in teams} <= before


def test_scored_texts_give_features_per_window_source_and_theme() -> None:
    texts = {
        "customer_id": ["C1", "C1", "C1", "C1"],
        "at": [at("-2D"), at("-20D"), at("-200D"), at("+1D")],
        "source": ["calls", "calls", "verbatims", "calls"],
        "satisfaction": ["2", "4", "9", "0"],
        "negative": ["0.9", "0.7", "0.1", "0.99"],
        "theme": ["#1 late / courier", "#1 late / courier", None, "#2 refund"],
    }
    row = build_scoring_set(typed(text_scores=texts), CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    assert row["text_scores_calls_negative_count_7d"] == 1
    assert row["text_scores_calls_negative_count_30d"] == 2
    assert row["text_scores_negative_count_all"] == 2
    assert row["text_scores_satisfaction_min_all"] == 2
    assert row["text_scores_verbatims_satisfaction_mean_all"] == 9
    assert row["text_scores_theme_1_late_courier_count_all"] == 2
    assert row["text_scores_theme_2_refund_count_all"] == 0  # written after the moment scored


def test_a_theme_feature_reads_as_its_terms() -> None:
    texts = {"customer_id": ["C1"], "at": [at("-2D")], "source": ["calls"], "satisfaction": ["2"]}
    texts |= {"negative": ["0.9"], "theme": ["#4 refund / waiting"]}
    catalogue = build_catalogue(typed(text_scores=texts), CONFIG)
    theme = next(f for f in catalogue.features if f.name == "text_scores_theme_4_refund_waiting_count_all")
    assert theme.description == "negative texts about #4 refund / waiting ever"


def test_free_text_and_high_cardinality_text_give_no_features() -> None:
    many = {
        "customer_id": ["C1"] * 30,
        "ticket_id": [f"T{i}" for i in range(30)],
        "opened_at": [at("-1D")] * 30,
    }
    tables = typed(tickets={**many, "text": ["words"] * 30, "agent": [f"agent {i}" for i in range(30)]})
    assert not {n for n in names(build_catalogue(tables, CONFIG)) if "agent" in n or "text" in n}


def test_a_declared_event_table_is_featurised_without_code() -> None:
    config = WorkspaceConfig(
        windows_days=(7,),
        events={
            "logins": EventTableConfig(
                time_column="logged_at",
                aggregations=(
                    EventAggregation(column="*", aggs=("count", "days_since_last")),
                    EventAggregation(column="minutes", aggs=("sum",)),
                ),
            )
        },
    )
    logins = {"customer_id": ["C1", "C1"], "logged_at": [at("-1D"), at("-9D")], "minutes": ["3", "4"]}
    row = build_scoring_set(typed(config, logins=logins), config, as_of=T).set_index("customer_id").loc["C1"]
    assert row["logins_count_7d"] == 1
    assert row["logins_count_all"] == 2
    assert row["logins_minutes_sum_all"] == 7
    assert row["logins_days_since_last"] == 1


def test_churn_records_are_labels_never_features() -> None:
    catalogue = build_catalogue(random_tables(50, seed=1), CONFIG)
    assert not any(f.source == "churn" or "churn" in f.name for f in catalogue.features)


def test_every_feature_has_a_unique_name_and_a_description() -> None:
    catalogue = build_catalogue(random_tables(50, seed=1), CONFIG)
    assert len(names(catalogue)) == len(catalogue.features)
    assert all(f.description for f in catalogue.features)
    assert catalogue.descriptions()["deliveries_late_count_30d"] == "late deliveries in the last 30 days"


def test_the_catalogue_survives_a_json_round_trip() -> None:
    catalogue = build_catalogue(random_tables(50, seed=1), CONFIG)
    assert Catalogue.from_json(catalogue.to_json()) == catalogue


def test_feature_services_are_named_and_versioned() -> None:
    assert set(FEATURE_SERVICES) == {"satisfaction_v1", "churn_v1"}
    catalogue = build_catalogue(random_tables(50, seed=1), CONFIG)
    assert FEATURE_SERVICES["churn_v1"].select(catalogue) == catalogue.features


def test_scoring_leaves_out_customers_who_join_later() -> None:
    customers = {"customer_id": ["C1", "C2"], "created_at": [at("-1D"), at("+1D")]}
    frame = build_scoring_set(typed(customers=customers), CONFIG, as_of=T)
    assert list(frame["customer_id"]) == ["C1"]
    assert (frame["as_of"] == pd.Timestamp(T)).all()


def test_harmful_measures_are_held_to_never_lower_risk_and_a_customers_volume_is_not() -> None:
    deliveries = {
        "customer_id": ["C1"],
        "order_id": ["O1"],
        "ordered_at": [at("-9D")],
        "promised_at": [at("-5D")],
        "delivered_at": [at("-3D")],
        "status": ["damaged"],
    }
    calls = {"customer_id": ["C1"], "call_id": ["K1"], "started_at": [at("-2D")], "wait_s": ["600"]}
    claims = {
        "customer_id": ["C1"],
        "claim_id": ["W1"],
        "filed_at": [at("-8D")],
        "resolved_at": [at("-4D")],
        "outcome": ["rejected"],
    }
    tickets = {
        "customer_id": ["C1"],
        "ticket_id": ["T1"],
        "opened_at": [at("-6D")],
        "closed_at": [at("-5D")],
        "priority": ["urgent"],
        "reopened": ["true"],
    }
    tables = typed(deliveries=deliveries, calls=calls, warranty_claims=claims, tickets=tickets)
    catalogue = build_catalogue(tables, CONFIG)
    held = harm_directions(catalogue)
    assert set(held.values()) == {1}
    assert {"deliveries_late_count_30d", "deliveries_days_late_sum_all", "deliveries_late_share_all"} <= set(
        held
    )
    assert {"calls_wait_s_mean_30d", "calls_wait_s_last", "deliveries_status_damaged_count_30d"} <= set(held)
    assert {"warranty_claims_count_30d", "warranty_claims_rejected_count_30d"} <= set(held)
    assert {
        "tickets_escalated_count_30d",
        "tickets_priority_urgent_count_30d",
        "tickets_reopened_count_30d",
    } <= set(held)
    # how long ago the last claim was is no count of harm: it stays free
    assert "warranty_claims_days_since_last" not in held
    free = {"deliveries_count_30d", "calls_count_30d"}
    assert free <= names(catalogue)
    assert not free & set(held)


def test_the_churn_model_reads_a_table_of_harms_alone_through_held_counts_that_read_zero_without_rows() -> (
    None
):
    claims = {
        "customer_id": ["C1", "C1"],
        "claim_id": ["W1", "W2"],
        "filed_at": [at("-8D"), at("-50D")],
        "resolved_at": [at("-4D"), at("-45D")],
        "outcome": ["approved", "rejected"],
        "product": ["kettle", "blender"],
        "amount": ["40", "90"],
    }
    deliveries = {
        "customer_id": ["C1", "C2"],
        "order_id": ["O1", "O2"],
        "ordered_at": [at("-9D")] * 2,
        "promised_at": [at("-5D")] * 2,
        "delivered_at": [at("-3D")] * 2,
        "status": ["damaged", "delivered"],
    }
    customers = {"customer_id": ["C1", "C2"], "created_at": [at("-99D")] * 2}
    tables = typed(warranty_claims=claims, deliveries=deliveries, customers=customers)
    catalogue = build_catalogue(tables, CONFIG)
    held, left_out = harm_directions(catalogue), unheld(catalogue)
    row = build_scoring_set(tables, CONFIG, as_of=T).set_index("customer_id")
    claim_features = [f.name for f in catalogue.features if f.source == "warranty_claims"]
    kept = [f for f in claim_features if f not in left_out]
    # what the churn model reads of the claims is held, and reads 0 (not missing) without a claim
    assert {
        "warranty_claims_count_all",
        "warranty_claims_count_30d",
        "warranty_claims_rejected_count_all",
        "warranty_claims_outcome_rejected_count_all",
    } <= set(kept)
    assert set(kept) <= set(held)
    assert (row.loc["C2", kept] == 0).all()
    # the latest claim's product, the mean amount, the days since the last: missing without one
    missing = {
        "warranty_claims_product_last",
        "warranty_claims_amount_mean_all",
        "warranty_claims_days_since_last",
    }
    assert missing <= left_out
    assert row.loc["C2", sorted(missing)].isna().all()
    # approved claims, one product's claims: more failed products, yet none says more hurt
    assert {
        "warranty_claims_outcome_approved_count_all",
        "warranty_claims_product_kettle_count_all",
    } <= left_out
    # a table whose rows are not all harms keeps its latest values and its other levels
    assert not {f for f in left_out if not f.startswith("warranty_claims_")}
    assert {"deliveries_status_last", "deliveries_status_delivered_count_all"} <= {
        f.name for f in catalogue.features
    }
