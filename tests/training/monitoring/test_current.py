"""Which customers make today's base for the churn model."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from training.monitoring.current import base_moment

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
