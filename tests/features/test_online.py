"""The online store: materialised rows and one-customer refreshes equal the batch engine's rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from features.config import WorkspaceConfig
from features.contract import TABLES
from features.online import KeyTaken, OnlineStore, row_dict
from features.training_sets import build_scoring_set
from features.validation import to_typed
from tests.features.conftest import differing, typed
from tests.features.workspace_factory import VALID_TABLES

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
CONFIG = WorkspaceConfig()
AS_OF = pd.Timestamp("2024-04-01T00:00:00Z")
LATE_DELIVERY = {
    "customer_id": "C1",
    "order_id": "O9",
    "ordered_at": "2024-03-20T08:00:00Z",
    "promised_at": "2024-03-22T08:00:00Z",
    "delivered_at": "2024-03-25T09:00:00Z",
    "amount": "42.5",
}
# C2's open delivery in the valid workspace
O2 = {
    "customer_id": "C2",
    "order_id": "O2",
    "ordered_at": "2024-02-02",
    "promised_at": "2024-02-05",
    "amount": "5",
}


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OnlineStore]:
    url = str(tmp_path / "online.db") if request.param == "sqlite" else POSTGRES
    opened = OnlineStore.open(url, prefix=f"t{uuid.uuid4().hex[:12]}_")  # a test's own tables
    yield opened
    opened.drop()
    opened.close()


@pytest.fixture
def tables() -> dict[str, pd.DataFrame]:
    return typed(CONFIG, **VALID_TABLES)


def batch_row(tables: dict[str, pd.DataFrame], store: OnlineStore, customer: str) -> dict[str, object]:
    frame = build_scoring_set(tables, CONFIG, AS_OF, catalogue=store.catalogue)
    return row_dict(frame.loc[frame["customer_id"] == customer], store.catalogue)


def with_event(tables: dict[str, pd.DataFrame], table: str, row: dict[str, str]) -> dict[str, pd.DataFrame]:
    new = to_typed(TABLES[table], pd.DataFrame([row]))
    key = TABLES[table].key
    old = tables[table].loc[lambda f: ~f[key].isin(new[key])] if key else tables[table]
    return {**tables, table: pd.concat([old, new], ignore_index=True)}


def test_materialised_rows_equal_the_batch_scoring_rows(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    assert store.materialise(tables, CONFIG, AS_OF) == 3
    for customer in ("C1", "C2", "C3"):
        assert store.get(customer) == batch_row(tables, store, customer)


def test_a_refresh_after_a_new_event_equals_the_batch_result_at_that_moment(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    # given a materialised store
    store.materialise(tables, CONFIG, AS_OF)
    # when a late delivery arrives and the customer is refreshed
    store.append_events("deliveries", [LATE_DELIVERY])
    refreshed = store.refresh("C1", AS_OF)
    # then the row equals the batch engine's over all events, and it is what the store serves
    expected = batch_row(with_event(tables, "deliveries", LATE_DELIVERY), store, "C1")
    assert differing(refreshed, expected) == []
    assert refreshed["deliveries_late_count_30d"] == 1
    assert store.get("C1") == refreshed


def test_a_new_version_of_an_event_replaces_the_old_one(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    # given C2's delivery O2, still open and past its promised date when materialised
    store.materialise(tables, CONFIG, AS_OF)
    assert store.get("C2")["deliveries_open_overdue_count"] == 1  # type: ignore[index]
    # when it is delivered and C2 refreshed
    delivered = {**O2, "delivered_at": "2024-02-09"}
    store.append_events("deliveries", [delivered])
    refreshed = store.refresh("C2", AS_OF)
    # then it is no longer open, and it was late
    assert refreshed["deliveries_open_overdue_count"] == 0
    assert refreshed["deliveries_late_count_all"] == 1
    assert differing(refreshed, batch_row(with_event(tables, "deliveries", delivered), store, "C2")) == []


def owners(store: OnlineStore, order_id: str) -> list[str]:
    sql = f"SELECT customer_id FROM {store.prefix}src_deliveries WHERE order_id = ?"
    return sorted(row[0] for row in store.db.query(sql, (order_id,)))


def test_another_customers_event_with_a_held_key_is_refused_and_the_owner_keeps_its_rows(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    # given C2's delivery O2
    store.materialise(tables, CONFIG, AS_OF)
    before = store.refresh("C2", AS_OF)
    # when C1 sends a delivery under the same order id
    with pytest.raises(KeyTaken, match="deliveries row 0: its order_id belongs to another customer"):
        store.append_events("deliveries", [{**O2, "customer_id": "C1", "delivered_at": "2024-02-09"}])
    # then C2 still owns O2, unchanged, and C1 got nothing
    assert owners(store, "O2") == ["C2"]
    assert store.refresh("C2", AS_OF) == before


def test_one_new_key_sent_for_two_customers_in_one_batch_is_refused_whole(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    store.materialise(tables, CONFIG, AS_OF)
    rows = [{**O2, "order_id": "O77", "customer_id": c} for c in ("C1", "C3")]
    with pytest.raises(KeyTaken, match="row 1"):
        store.check_keys("deliveries", rows)
    with pytest.raises(KeyTaken):
        store.append_events("deliveries", rows)
    assert owners(store, "O77") == []


def test_a_reopened_store_refreshes_with_its_saved_catalogue(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    store.materialise(tables, CONFIG, AS_OF)
    before = store.refresh("C3", AS_OF)
    again = OnlineStore(store.db, store.prefix)  # a new process opening the same tables
    assert again.refresh("C3", AS_OF) == before


def test_a_customer_the_store_never_saw_has_no_row(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    store.materialise(tables, CONFIG, AS_OF)
    assert store.get("nobody") is None


def test_features_at_earlier_moments_equal_the_batch_rows_then_and_write_nothing(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    # given a materialised store
    store.materialise(tables, CONFIG, AS_OF)
    served = store.get_row("C1")
    # when C1's features are computed at two earlier moments and now
    moments = [AS_OF - pd.Timedelta(days=60), AS_OF - pd.Timedelta(days=30), AS_OF]
    rows = store.features_at("C1", [int(m.value // 1000) for m in moments])
    # then each equals the batch engine's row at that moment, in order, and the served row is unchanged
    for moment, row in zip(moments, rows, strict=True):
        frame = build_scoring_set(tables, CONFIG, moment, catalogue=store.catalogue)
        assert differing(row, row_dict(frame.loc[frame["customer_id"] == "C1"], store.catalogue)) == []
    assert rows[0] != rows[-1]  # the moments see different events
    assert store.get_row("C1") == served


def test_features_of_many_customers_in_one_query_equal_each_customers_own(
    store: OnlineStore, tables: dict[str, pd.DataFrame]
) -> None:
    store.materialise(tables, CONFIG, AS_OF)
    earlier = int((AS_OF - pd.Timedelta(days=30)).value // 1000)
    pairs = [("C2", earlier), ("C1", earlier), ("C2", int(AS_OF.value // 1000))]
    expected = [store.features_at(cid, [moment])[0] for cid, moment in pairs]
    assert store.features_of(pairs) == expected
