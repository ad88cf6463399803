"""What-if scenarios: each rewrites only its own table, as stated, and the effect reads the scores."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from training.insight.what_if import (
    Scenario,
    effect,
    halve_late_deliveries,
    ranked_worth,
    remove_theme,
    scaled,
    scenarios,
    shorten_call_waits,
    top_theme,
    value_column,
    worth_row,
)
from training.insight.worklist import worklist_head


def deliveries(late: int, on_time: int) -> pd.DataFrame:
    promised = pd.Timestamp("2026-01-10", tz="UTC")
    delivered = [promised + pd.Timedelta(days=2)] * late + [promised - pd.Timedelta(hours=3)] * on_time
    return pd.DataFrame(
        {
            "customer_id": "C1",
            "order_id": range(late + on_time),
            "promised_at": promised,
            "delivered_at": delivered,
        }
    )


def test_halving_late_deliveries_puts_half_of_them_on_their_promise_and_touches_nothing_else() -> None:
    tables = {"deliveries": deliveries(late=40, on_time=60), "calls": pd.DataFrame({"wait_s": [100.0]})}
    changed = halve_late_deliveries(tables)
    after = changed["deliveries"]
    assert (after["delivered_at"] > after["promised_at"]).sum() == 20
    fixed = after["delivered_at"] != tables["deliveries"]["delivered_at"]
    assert (after.loc[fixed, "delivered_at"] == after.loc[fixed, "promised_at"]).all() and fixed.sum() == 20
    assert changed["calls"] is tables["calls"]
    assert (
        tables["deliveries"]["delivered_at"] > tables["deliveries"]["promised_at"]
    ).sum() == 40  # input kept


def test_shorter_waits_and_a_removed_theme() -> None:
    calls = pd.DataFrame({"wait_s": [100.0, 600.0]})
    assert shorten_call_waits({"calls": calls})["calls"]["wait_s"].tolist() == pytest.approx([70.0, 420.0])
    texts = pd.DataFrame({"theme": ["late parcel", "late parcel", "rude agent", None]})
    assert top_theme(texts) == "late parcel"
    assert (
        remove_theme({"text_scores": texts}, "late parcel")["text_scores"]["theme"].tolist()[0]
        == "rude agent"
    )


def test_scenarios_follow_the_tables_a_workspace_has() -> None:
    assert [s.key for s in scenarios({"customers": pd.DataFrame({"customer_id": ["C1"]})})] == []
    tables = {
        "deliveries": deliveries(1, 1),
        "calls": pd.DataFrame({"wait_s": [1.0]}),
        "text_scores": pd.DataFrame({"theme": ["billing"]}),
    }
    assert [s.key for s in scenarios(tables)] == [
        "late_deliveries_halved",
        "call_wait_30pct_shorter",
        "theme_removed:billing",
    ]


def test_value_column_is_a_numeric_column_named_like_a_value() -> None:
    assert value_column(pd.DataFrame({"customer_id": ["a"], "annual_value": [10.0]})) == "annual_value"
    assert value_column(pd.DataFrame({"customer_id": ["a"], "value_band": ["high"]})) is None


def test_effect_reports_nps_churners_and_revenue_kept() -> None:
    before = pd.DataFrame(
        {"nps_promoter": [0.5, 0.5], "nps_detractor": [0.2, 0.4], "churn_probability": [0.2, 0.4]}
    )
    after = pd.DataFrame(
        {"nps_promoter": [0.6, 0.5], "nps_detractor": [0.1, 0.4], "churn_probability": [0.1, 0.4]}
    )
    row = effect(Scenario("k", "d", lambda t: dict(t)), before, after, np.array([100.0, 50.0]))
    assert row["nps_change"] == pytest.approx(10.0) and row["churners_change"] == pytest.approx(-0.1)
    assert row["revenue_kept"] == pytest.approx(10.0)
    assert effect(Scenario("k", "d", lambda t: dict(t)), before, after, None)["revenue_kept"] is None


def test_worklist_ranks_by_value_at_risk_and_names_the_top_reason() -> None:
    reasons = json.dumps([{"feature": "late", "sentence": "3 late deliveries", "log_odds": 0.4}])
    scores = pd.DataFrame({"churn_probability": [0.5, 0.2], "churn_reasons": [reasons, "[]"]})
    rows = worklist_head(pd.Series(["A", "B"]), scores, np.array([10.0, 100.0]))
    assert [r["customer_id"] for r in rows] == ["B", "A"] and rows[1]["reason"] == "3 late deliveries"


def test_an_nps_change_read_elsewhere_is_added_to_the_base_nps_as_it_is() -> None:
    before = pd.DataFrame({"nps_promoter": [0.5, 0.5], "nps_detractor": [0.2, 0.2]})
    after = pd.DataFrame({"nps_promoter": [0.9, 0.9], "nps_detractor": [0.0, 0.0]})
    row = effect(Scenario("s", "s", dict), before, after, None, nps_change=4.0)
    assert (row["nps"], row["nps_change"], row["nps_after"]) == (30.0, 4.0, 34.0)


def test_drivers_are_ranked_by_the_nps_they_win_then_by_the_churners_they_keep() -> None:
    rows = [
        {"driver": "a", "nps_change": 1.0, "churners_change": -2.0},
        {"driver": "b", "nps_change": 3.0, "churners_change": -1.0},
        {"driver": "c", "nps_change": 1.0, "churners_change": -5.0},
    ]
    ranked = ranked_worth(rows)
    assert [(r["rank"], r["driver"]) for r in ranked] == [(1, "b"), (2, "c"), (3, "a")]


def test_a_samples_churners_and_revenue_are_scaled_to_the_base_and_its_nps_change_is_not() -> None:
    row = {
        "scenario": "x",
        "description": "d",
        "nps": 9.0,
        "nps_after": 11.5,
        "nps_change": 2.5,
        "churners": 10.0,
        "churners_after": 8.5,
        "churners_change": -1.5,
        "revenue_kept": None,
    }
    whole = scaled(row, 4.0, nps=10.0)
    assert whole == row | {
        "nps": 10.0,
        "nps_after": 12.5,
        "churners": 40.0,
        "churners_after": 34.0,
        "churners_change": -6.0,
    }
    assert worth_row(whole) == {
        "driver": "x",
        "description": "d",
        "nps_change": 2.5,
        "churners_change": -6.0,
        "revenue_kept": None,
    }
