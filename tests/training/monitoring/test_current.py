"""Which customers make today's base for the churn model."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from features.config import WorkspaceConfig
from features.discover import build_catalogue
from training.monitoring.current import base_moment, labelled_churn_rows

SNAPSHOT = pd.Timestamp("2024-01-31", tz="UTC")


def _snapshot() -> dict[str, pd.DataFrame]:
    """An undated export: customers with attributes, and churners all dated at the snapshot."""
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(6)], "contract": ["monthly"] * 6})
    churn = pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "churned_at": [SNAPSHOT] * 3})
    return {"customers": customers, "churn": churn}


def test_a_snapshot_base_is_taken_at_the_declared_cutoff_with_its_churners_still_in_it() -> None:
    moment = base_moment(_snapshot(), (dt.date(2024, 1, 30),))
    assert moment == pd.Timestamp("2024-01-30", tz="UTC")
    assert moment < SNAPSHOT  # the churners were still customers: the base is the training population


def test_the_base_is_taken_after_the_latest_event_that_is_not_a_churn_record() -> None:
    tables = _snapshot()
    last_delivery = pd.Timestamp("2024-01-20 08:00", tz="UTC")
    tables["deliveries"] = pd.DataFrame({"customer_id": ["C3"], "ordered_at": [last_delivery]})
    assert base_moment(tables, (dt.date(2024, 1, 1),)) == last_delivery + pd.Timedelta(microseconds=1)


def test_with_nothing_but_churn_dated_and_no_cutoff_the_base_is_taken_at_the_data_end() -> None:
    assert base_moment(_snapshot()) == SNAPSHOT + pd.Timedelta(microseconds=1)


def test_the_labelled_base_is_the_one_a_horizon_before_today_with_its_churn_since() -> None:
    # the newest base whose churn labels are complete: CBPE's reference for churn
    customers = pd.DataFrame(
        {"customer_id": [f"C{i}" for i in range(5)], "created_at": [pd.Timestamp("2024-01-01", tz="UTC")] * 5}
    )
    customers.loc[4, "created_at"] = pd.Timestamp("2024-05-01", tz="UTC")  # joined after that base's moment
    churned = pd.to_datetime(["2024-02-15", "2024-05-20", "2024-07-01"], utc=True)
    tables = {
        "customers": customers,
        "churn": pd.DataFrame({"customer_id": ["C0", "C1", "C2"], "churned_at": churned}),
        "deliveries": pd.DataFrame(
            {"customer_id": ["C3"], "ordered_at": [pd.Timestamp("2024-06-30", tz="UTC")]}
        ),
    }
    moment = base_moment(tables) - pd.Timedelta(days=90)
    catalogue = build_catalogue(tables, WorkspaceConfig())
    rows = labelled_churn_rows(tables, catalogue, horizon_days=90, not_before=moment)
    assert set(rows["as_of"]) == {moment}
    # C0 had left before the moment, C4 had not joined; C1 churned within the horizon, C2 after it
    assert dict(zip(rows["customer_id"], rows["churned"], strict=True)) == {"C1": 1, "C2": 0, "C3": 0}
    assert len(rows.columns) > 4  # the keys, then the features as of the moment


def test_the_labelled_bases_a_month_apart_are_pooled_from_the_one_a_horizon_before_today() -> None:
    customers = pd.DataFrame(
        {"customer_id": [f"C{i}" for i in range(4)], "created_at": [pd.Timestamp("2023-06-01", tz="UTC")] * 4}
    )
    tables = {
        "customers": customers,
        "churn": pd.DataFrame({"customer_id": ["C0"], "churned_at": [pd.Timestamp("2024-03-20", tz="UTC")]}),
        "deliveries": pd.DataFrame(
            {"customer_id": ["C1"], "ordered_at": [pd.Timestamp("2024-06-30", tz="UTC")]}
        ),
    }
    catalogue = build_catalogue(tables, WorkspaceConfig())
    newest = base_moment(tables) - pd.Timedelta(days=90)
    months = [newest - pd.DateOffset(months=k) for k in range(3)]
    assert set(labelled_churn_rows(tables, catalogue, horizon_days=90)["as_of"]) == set(months)
    # bases before `not_before` (the champion's own horizon) stay out; the newest always counts
    assert set(labelled_churn_rows(tables, catalogue, 90, not_before=months[1])["as_of"]) == set(months[:2])
    assert set(labelled_churn_rows(tables, catalogue, 90, not_before=newest)["as_of"]) == {newest}
