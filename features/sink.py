"""Stream features to a Parquet file chunk by chunk, never holding the whole set in memory.

A training set of millions of examples is written as it is computed: each chunk's key rows and
features go to the file and are dropped, so memory stays bounded by one chunk, not by the set.
Rows come out grouped by customer, not in the order of `keys` (every row carries its keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from features.catalogue import Catalogue
from features.engine import CHUNK_ROWS, Engine, floats, run_chunks, spine_of


def write_features(
    tables: Mapping[str, pd.DataFrame],
    keys: pd.DataFrame,
    catalogue: Catalogue,
    path: Path,
    engine: str | Engine = "duckdb",
    chunk_rows: int = CHUNK_ROWS,
) -> int:
    """`compute_features`, written to the Parquet file `path` as it goes; returns the rows written.

    The file appears only once complete (written beside it, then renamed), so a failure leaves
    no half-written set behind.
    """
    keys = keys.reset_index(drop=True)
    codes, spine = spine_of(keys)
    schema = feature_schema(keys, catalogue)
    partial = path.with_name(f".{path.name}.partial")
    written = 0
    try:
        with pq.ParquetWriter(partial, schema) as writer:
            for rows, result in run_chunks(tables, spine, catalogue, engine, chunk_rows):
                table = _chunk_table(keys, codes, len(spine), rows, result, schema)
                writer.write_table(table)
                written += table.num_rows
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return written


def feature_schema(keys: pd.DataFrame, catalogue: Catalogue) -> pa.Schema:
    """The file's columns, in `compute_features`'s order: keys, float32 numbers, text categories."""
    numbers = [pa.field(f.name, pa.float32()) for f in catalogue.features if f.dtype != "category"]
    fields = numbers + [pa.field(f.name, pa.string()) for f in catalogue.features if f.dtype == "category"]
    return pa.schema([*pa.Schema.from_pandas(keys, preserve_index=False), *fields])


def _chunk_table(
    keys: pd.DataFrame,
    codes: np.ndarray,
    spine_rows: int,
    rows: np.ndarray,
    result: pa.Table,
    schema: pa.Schema,
) -> pa.Table:
    """The key rows whose (customer, moment) is in this chunk, each beside its feature row."""
    query_row = np.full(spine_rows, -1, dtype=np.int64)
    query_row[rows] = np.arange(len(rows))
    mine = np.flatnonzero(query_row[codes] >= 0)
    features = result.take(pa.array(query_row[codes[mine]]))
    table = pa.Table.from_pandas(keys.iloc[mine], preserve_index=False)
    for field in schema.remove_metadata():
        if field.name in features.column_names:
            column = features[field.name]
            table = table.append_column(
                field, pa.array(floats(column)) if field.type == pa.float32() else column.cast(field.type)
            )
    return table.cast(schema)
