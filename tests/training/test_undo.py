"""Each driver undone whole: what each scenario rewrites, and which scenarios the tables support."""

from __future__ import annotations

import pandas as pd

from training.insight.undo import undo_scenarios

PROMISED = pd.Timestamp("2026-01-10", tz="UTC")


def deliveries(statuses: list[str], late: list[bool]) -> pd.DataFrame:
    delivered = [PROMISED + pd.Timedelta(days=2 if d else -1) for d in late]
    return pd.DataFrame(
        {
            "customer_id": "C1",
            "order_id": [f"O{k}" for k in range(len(late))],
            "promised_at": PROMISED,
            "delivered_at": pd.Series(delivered, dtype="datetime64[ns, UTC]"),
            "status": pd.Series(statuses, dtype="string"),
        }
    )


def by_key(tables: dict[str, pd.DataFrame]) -> dict[str, dict[str, pd.DataFrame]]:
    return {s.key: s.change(tables) for s in undo_scenarios(tables)}


def test_late_parcels_arrive_on_their_promise_and_the_others_keep_their_moment() -> None:
    table = deliveries(["delivered"] * 3, [True, False, True])
    after = by_key({"deliveries": table})["late_parcels_on_time"]["deliveries"]
    assert after["delivered_at"].tolist() == [PROMISED, table["delivered_at"][1], PROMISED]
    assert table["delivered_at"][0] > PROMISED  # the workspace's own table is left as it was


def test_each_rarer_status_is_undone_alone_into_the_most_common_one_whatever_its_case() -> None:
    table = deliveries(["delivered", "Delivered", "DAMAGED", "lost", "delivered"], [False] * 5)
    found = by_key({"deliveries": table})
    assert set(found) == {"no_damaged_parcels", "no_lost_parcels"}  # no parcel is late
    assert found["no_damaged_parcels"]["deliveries"]["status"].tolist() == [
        "delivered",
        "Delivered",
        "delivered",
        "lost",
        "delivered",
    ]
    assert found["no_lost_parcels"]["deliveries"]["status"].tolist()[2:4] == ["DAMAGED", "delivered"]


def test_a_parcel_never_delivered_is_delivered_on_its_promise_when_its_status_is_undone() -> None:
    # a lost parcel has no delivery time, and its status is known only once it has one: changing
    # the status alone would leave it an overdue parcel, as the models see it
    table = deliveries(
        ["delivered", "lost", "lost", "delivered", "delivered"], [False, False, True, False, False]
    )
    table.loc[1, "delivered_at"] = pd.NaT
    table.loc[4, "delivered_at"] = pd.NaT  # in transit, of the usual status: not undone
    after = by_key({"deliveries": table})["no_lost_parcels"]["deliveries"]
    assert after["status"].tolist() == ["delivered"] * 5
    assert after["delivered_at"].tolist()[:4] == [
        table["delivered_at"][0],
        PROMISED,
        table["delivered_at"][2],  # a lost parcel with a delivery time keeps it
        table["delivered_at"][3],
    ]
    assert pd.isna(after["delivered_at"][4]) and pd.isna(table["delivered_at"][1])


def test_parcels_still_on_their_way_are_no_driver_but_lost_ones_spread_over_the_year_are() -> None:
    promised = [PROMISED - pd.Timedelta(days=d) for d in (300, 200, 100, 5, 2, 250, 150, 1)]
    delivered = [p - pd.Timedelta(hours=1) for p in promised[:5]] + [pd.NaT] * 3
    table = pd.DataFrame(
        {
            "customer_id": "C1",
            "order_id": [f"O{k}" for k in range(8)],
            "promised_at": pd.Series(promised, dtype="datetime64[ns, UTC]"),
            "delivered_at": pd.Series(delivered, dtype="datetime64[ns, UTC]"),
            "status": ["delivered"] * 5 + ["lost", "lost", "in_transit"],
        }
    )
    assert set(by_key({"deliveries": table})) == {"no_lost_parcels"}


def test_claims_go_and_rejections_become_the_most_common_other_outcome() -> None:
    claims = pd.DataFrame(
        {"claim_id": ["A", "B", "C", "D"], "outcome": ["rejected", "partial", "approved", "approved"]}
    )
    found = by_key({"warranty_claims": claims})
    assert found["no_warranty_claims"]["warranty_claims"].empty
    assert found["no_rejected_claims"]["warranty_claims"]["outcome"].tolist() == [
        "approved",
        "partial",
        "approved",
        "approved",
    ]


def test_tickets_lose_their_escalation_and_reopening_and_calls_wait_at_most_the_median() -> None:
    tickets = pd.DataFrame(
        {
            "priority": ["urgent", "high", "low", "normal", "normal"],
            "reopened": [True, False, True, False, None],
        }
    )
    calls = pd.DataFrame({"wait_s": [10.0, 20.0, 30.0, 400.0, None]})
    found = by_key({"tickets": tickets, "calls": calls})
    assert found["no_escalated_tickets"]["tickets"]["priority"].tolist() == [
        "normal",
        "normal",
        "low",
        "normal",
        "normal",
    ]
    assert found["no_reopened_tickets"]["tickets"]["reopened"].tolist()[:4] == [False] * 4
    assert found["no_long_call_waits"]["calls"]["wait_s"].tolist()[:4] == [10.0, 20.0, 25.0, 25.0]


def test_a_driver_the_tables_do_not_record_gets_no_scenario() -> None:
    # given a status with one level, no late parcel, no claim, no escalation level, no reopening
    tables = {
        "deliveries": deliveries(["delivered"] * 2, [False, False]),
        "warranty_claims": pd.DataFrame({"claim_id": pd.Series([], dtype="string")}),
        "tickets": pd.DataFrame({"priority": ["high", "urgent"], "reopened": [False, False]}),
        "calls": pd.DataFrame({"call_id": ["K1"]}),
    }
    assert undo_scenarios(tables) == []
