"""A company N times as large, made of N copies of a generated one with every key rewritten per copy.

    python -m benchmarks.replicate_company /tmp/cx-1m /tmp/cx-5m --copies 5

The generator holds a whole company in memory (about 5 GiB per million customers), so a company of
several million is built from one it made: copy k of every table gets `k-` before each key
(`customer_id`, `order_id`, `ticket_id`, … every column named `*_id`), so the copies are disjoint
customers with the same histories. DuckDB streams each table into one Parquet file (one file per
table, as both engines read a workspace), within `--memory-limit`. Texts that quote an order
number keep the original number; nothing that the features read depends on them.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import duckdb
import pyarrow.parquet as pq


def copy_select(source: Path, copies: int) -> str:
    """The SQL that yields `copies` copies of the table at `source`, keys prefixed by copy number."""
    names = pq.read_schema(source).names
    quoted = {n: '"' + n.replace('"', '""') + '"' for n in names}
    columns = ", ".join(
        f"CASE WHEN {quoted[n]} IS NULL THEN NULL ELSE copy || '-' || {quoted[n]} END AS {quoted[n]}"
        if n.endswith("_id")
        else quoted[n]
        for n in names
    )
    return (
        f"SELECT {columns} FROM read_parquet('{source}') "
        f"CROSS JOIN (SELECT CAST(range AS VARCHAR) AS copy FROM range({copies}))"
    )


def replicate(source: Path, target: Path, copies: int, memory_limit: str) -> None:
    """Write `copies` disjoint copies of every table of `source` into `target`."""
    target.mkdir(parents=True, exist_ok=True)
    for extra in ("cx.yml",):  # the workspace's settings apply to the copies alike
        if (source / extra).exists():
            shutil.copy(source / extra, target / extra)
    config = {"memory_limit": memory_limit, "preserve_insertion_order": False, "threads": 2}
    with duckdb.connect(config=config) as con:
        for table in sorted(source.glob("*.parquet")):
            partial = target / f".{table.name}.partial"
            con.execute(
                f"COPY ({copy_select(table, copies)}) TO '{partial}' (FORMAT parquet, ROW_GROUP_SIZE 1000000)"
            )
            partial.rename(target / table.name)
            print(f"{table.name}: {pq.ParquetFile(target / table.name).metadata.num_rows:,} rows", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="a generated company")
    parser.add_argument("target", type=Path, help="the folder to write the larger company into")
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB's memory_limit while copying")
    args = parser.parse_args()
    replicate(args.source, args.target, args.copies, args.memory_limit)


if __name__ == "__main__":
    main()
