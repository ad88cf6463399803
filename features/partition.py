"""Split a feature computation into chunks of whole customers, each with only its own events.

A chunk of the spine joins only the events of the customers it holds, so however many chunks a
large spine needs, every event is joined once (chunking by spine rows alone would join every
event table once per chunk). Customers become dense integer codes on the way: joining on a
32-bit integer instead of a text id makes DuckDB's join markedly cheaper.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from features.sql import SPINE


@dataclass(frozen=True)
class Chunk:
    """One query's worth of work.

    Attributes:
        rows: the positions in the spine of this chunk's rows, in the order the query numbers them.
        tables: the spine (`_row`, `customer_id`, `as_of`) and each source's rows of these customers.
    """

    rows: np.ndarray
    tables: dict[str, pa.Table]


class CustomerPartition:
    """The spine and the sources, coded by customer and sorted by code, ready to cut into chunks."""

    def __init__(self, spine: pa.Table) -> None:
        """Code and sort `spine` (`customer_id`, `as_of`); sources join through `add`."""
        self.customers = pc.unique(spine["customer_id"])
        spine_codes = _codes(spine["customer_id"], self.customers)
        self.order = np.argsort(spine_codes, kind="stable")
        self.codes = spine_codes[self.order]
        self.spine = _recoded(spine, spine_codes).take(pa.array(self.order))
        self.sources: dict[str, tuple[pa.Table, np.ndarray]] = {}

    def add(self, name: str, table: pa.Table) -> None:
        """Code and sort one source's rows (with `customer_id`); the caller may drop `table` after.

        Events of customers who are not in the spine can never be joined, so they are dropped here.
        """
        codes = _codes(table["customer_id"], self.customers)
        keep = np.flatnonzero(codes >= 0)
        by_code = keep[np.argsort(codes[keep], kind="stable")]
        self.sources[name] = (_recoded(table, codes).take(pa.array(by_code)), codes[by_code])

    def chunks(self, rows: int) -> Iterator[Chunk]:
        """Chunks of about `rows` spine rows, never splitting one customer's rows between two."""
        start = 0
        while start < len(self.codes):
            end = min(start + rows, len(self.codes))
            end = int(np.searchsorted(self.codes, self.codes[end - 1], side="right"))
            yield self._chunk(start, end)
            start = end

    def _chunk(self, start: int, end: int) -> Chunk:
        first, last = self.codes[start], self.codes[end - 1]
        spine = self.spine.slice(start, end - start)
        tables = {SPINE: spine.append_column("_row", pa.array(np.arange(end - start, dtype=np.int64)))}
        for name, (table, codes) in self.sources.items():
            lo, hi = np.searchsorted(codes, [first, last + 1])
            tables[name] = table.slice(int(lo), int(hi - lo))
        return Chunk(self.order[start:end], tables)


def _codes(ids: pa.ChunkedArray | pa.Array, customers: pa.Array) -> np.ndarray:
    """Each id's position among `customers`, -1 where it is not one of them."""
    codes = pc.fill_null(pc.index_in(ids, value_set=customers), -1)
    return np.asarray(codes.to_numpy(), dtype=np.int64)


def _recoded(table: pa.Table, codes: np.ndarray) -> pa.Table:
    index = table.schema.get_field_index("customer_id")
    return table.set_column(index, "customer_id", pa.array(codes.astype(np.int32)))
