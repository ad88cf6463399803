"""Chunks of whole customers: every spine row once, each customer in one chunk, only its own events."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from features.partition import Chunk, CustomerPartition
from features.sql import SPINE

SPINE_ROWS = pa.table(
    {
        "customer_id": ["b", "a", "c", "a", "b", "d", "a"],
        "as_of": [10, 20, 30, 40, 50, 60, 70],
    }
)
EVENTS = pa.table({"customer_id": ["a", "x", "b", "a", "d", "c", "b"], "at": [1, 2, 3, 4, 5, 6, 7]})


def _partition() -> CustomerPartition:
    partition = CustomerPartition(SPINE_ROWS)
    partition.add("src_events", EVENTS)
    return partition


def chunks_of(rows: int) -> list[Chunk]:
    return list(_partition().chunks(rows))


def test_every_spine_row_lands_in_exactly_one_chunk() -> None:
    placed = np.concatenate([chunk.rows for chunk in chunks_of(2)])
    assert sorted(placed.tolist()) == list(range(SPINE_ROWS.num_rows))


def test_a_customer_is_never_split_between_chunks() -> None:
    owners: dict[int, int] = {}
    for number, chunk in enumerate(chunks_of(1)):
        for customer in chunk.tables[SPINE]["customer_id"].to_pylist():
            assert owners.setdefault(customer, number) == number


def test_a_chunk_holds_the_events_of_its_customers_and_no_others() -> None:
    for chunk in chunks_of(2):
        spine_customers = set(chunk.tables[SPINE]["customer_id"].to_pylist())
        event_customers = set(chunk.tables["src_events"]["customer_id"].to_pylist())
        assert event_customers == spine_customers


def test_events_of_customers_outside_the_spine_are_dropped() -> None:
    events = sum(chunk.tables["src_events"].num_rows for chunk in chunks_of(100))
    assert events == EVENTS.num_rows - 1  # customer "x" has no spine row


def test_query_rows_map_back_to_the_original_spine_rows() -> None:
    for chunk in chunks_of(3):
        spine = chunk.tables[SPINE]
        assert spine["_row"].to_pylist() == list(range(spine.num_rows))
        original = SPINE_ROWS["as_of"].to_numpy()[chunk.rows]
        assert spine["as_of"].to_pylist() == original.tolist()
