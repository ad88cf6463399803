"""Events typed by the service's request models take a short path to the store's rows: the same rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from features.catalogue import Source, SourceColumn
from features.contract import TABLES
from features.engine import source_arrow
from features.event_rows import plain_rows
from features.validation import to_typed

DELIVERIES = Source(
    name="deliveries",
    time="ordered_at",
    columns=(
        SourceColumn("order_id", "text"),
        SourceColumn("ordered_at", "time"),
        SourceColumn("delivered_at", "time"),
        SourceColumn("amount", "number"),
        SourceColumn("status", "text"),
    ),
    key="order_id",
)
PARIS = dt.timezone(dt.timedelta(hours=2))


def through_pandas(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    table = source_arrow(to_typed(TABLES["deliveries"], pd.DataFrame(rows)), DELIVERIES.columns)
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def delivery(**values: Any) -> dict[str, Any]:
    row = {"customer_id": "C1", "order_id": "O-1", "ordered_at": dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)}
    return row | values


def test_typed_rows_store_as_the_batch_path_stores_them() -> None:
    rows = [
        delivery(
            delivered_at=dt.datetime(2026, 6, 3, 12, 30, 1, 250, tzinfo=PARIS), amount=19, status="late"
        ),
        delivery(order_id="O-2", delivered_at=None, amount=float("nan")),  # not delivered yet, no amount
        delivery(order_id="O-3", ordered_at=dt.datetime(2026, 6, 2, 8), amount=True),  # naive means UTC
        delivery(order_id="O-4", ordered_at=pd.Timestamp("2026-06-02T08:00:00.123456Z"), amount=2.5),
    ]
    assert plain_rows(rows, DELIVERIES) == through_pandas(rows)


def test_a_value_that_needs_parsing_is_left_to_the_batch_path() -> None:
    assert plain_rows([delivery(delivered_at="2026-06-03T12:00:00Z")], DELIVERIES) is None
    assert plain_rows([delivery(amount="19.5")], DELIVERIES) is None
    assert plain_rows([delivery(order_id=42)], DELIVERIES) is None


moments = st.datetimes(
    min_value=dt.datetime(1990, 1, 1),
    max_value=dt.datetime(2100, 1, 1),
    timezones=st.sampled_from([dt.UTC, PARIS]),
)


@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "customer_id": st.text(min_size=1, max_size=8),
                "order_id": st.text(min_size=1, max_size=8),
                "ordered_at": moments,
                "delivered_at": st.none() | moments,
                "amount": st.none() | st.floats(allow_infinity=False) | st.integers(-(10**9), 10**9),
                "status": st.none() | st.text(max_size=8),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_typed_rows_store_as_the_batch_path_stores_them(rows: list[dict[str, Any]]) -> None:
    assert plain_rows(rows, DELIVERIES) == through_pandas(rows)
