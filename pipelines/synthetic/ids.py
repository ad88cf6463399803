"""Row ids of every table, derived from row numbers so that texts can cite the same order numbers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.synthetic.strings import make_ids

# First number of each id series: shops rarely start counting at one.
ORDER_BASE = 10_000_001


def customer_ids(rows: np.ndarray) -> pa.StringArray:
    """`C0000001`, `C0000002`, ... (wider beyond ten million customers)."""
    return make_ids("C", np.asarray(rows) + 1, 7)


def order_ids(rows: np.ndarray) -> pa.StringArray:
    """`ORD-10000001`, ... from delivery row numbers."""
    return make_ids("ORD-", np.asarray(rows) + ORDER_BASE, 8)


def row_ids(prefix: str, rows: np.ndarray) -> pa.StringArray:
    """Ids such as `TKT-00000001` for claims, tickets, calls, verbatims and survey responses."""
    return make_ids(prefix, np.asarray(rows) + 1, 8)
