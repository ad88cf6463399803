"""What happened to each customer during the window: the events that invite a survey.

Most answers follow an experience: a delivery, a closed ticket, a call. Who is *asked* therefore
depends on what happened in the window, which the features at its start cannot know; a customer
with a ticket in the window is both likelier to answer a CSAT survey and, for a while, less
satisfied. Counting each table's events in the window lets the response propensity see that part
of who answers. Only events are counted, never the answers themselves (the `surveys` table) nor
churn: a propensity that read the answers would explain them away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from features.contract import DERIVED_TABLES, TABLES

NOT_EXPOSURE = frozenset({"surveys", "churn"}) | DERIVED_TABLES
SUFFIX = "_in_window"


def exposure_tables(tables: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Table -> its time column, for every dated event table present that can invite a survey."""
    out = {}
    for name, frame in tables.items():
        spec = TABLES.get(name)
        if spec is None or name in NOT_EXPOSURE or spec.time_column is None:
            continue
        if spec.time_column in frame and "customer_id" in frame:
            out[name] = spec.time_column
    return out


def window_exposure(
    tables: Mapping[str, pd.DataFrame], ids: Sequence[str], start: pd.Timestamp, moment: pd.Timestamp
) -> pd.DataFrame:
    """Per customer of `ids` (in order): how many rows of each event table fall in [start, moment).

    Columns are `<table>_in_window`; a table without dated rows gives none.
    """
    columns: dict[str, np.ndarray] = {}
    index = pd.Index(ids)
    for name, time_column in exposure_tables(tables).items():
        frame = tables[name]
        moments = pd.to_datetime(frame[time_column], errors="coerce")
        inside = frame.loc[(moments >= start) & (moments < moment), "customer_id"]
        counts = inside.value_counts().reindex(index, fill_value=0)
        columns[name + SUFFIX] = counts.to_numpy(dtype=float)
    return pd.DataFrame(columns, index=range(len(ids)))
