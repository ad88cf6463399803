"""Feature engine at scale: training sets on a generated company, online refresh latency, pandas baseline.

    python -m benchmarks.bench_features --customers 1000000 --workspace bench-out/company-1m

Generates the company first when the workspace holds no tables (about 3 minutes at 1M customers).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from benchmarks.report import peak_rss_gib, write_section
from features.config import load_config
from features.discover import build_catalogue
from features.engine import compute_features
from features.io import find_tables, read_table
from features.online import OnlineStore
from features.training_sets import default_as_of, write_training_set
from features.validation import table_specs, to_typed

DAY = pd.Timedelta(days=1)


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = step()
    return result, time.perf_counter() - start


def ensure_company(workspace: Path, customers: int, seed: int) -> None:
    if workspace.is_dir() and find_tables(workspace)[0]:
        return
    from pipelines.synthetic import generate_company

    print(f"generating {customers:,} customers into {workspace} ...", flush=True)
    generate_company(workspace, customers=customers, seed=seed)


def load_tables(workspace: Path) -> dict[str, pd.DataFrame]:
    """The typed tables, parsed exactly as validation parses them (the generator's data is valid)."""
    specs = table_specs(load_config(workspace))
    files, _ = find_tables(workspace)
    tables = {}
    for name, path in files.items():
        raw, _ = read_table(path)
        if raw is not None and name in specs:
            tables[name] = to_typed(specs[name], raw)
    return tables


def slice_of(tables: dict[str, pd.DataFrame], customers: int) -> dict[str, pd.DataFrame]:
    ids = set(tables["customers"]["customer_id"].iloc[:customers])
    return {
        name: frame.loc[frame["customer_id"].isin(ids)].reset_index(drop=True)
        for name, frame in tables.items()
    }


def pandas_delivery_counts(
    tables: dict[str, pd.DataFrame], spine: pd.DataFrame, windows: tuple[int, ...]
) -> pd.DataFrame:
    """The baseline: point-in-time delivery and late-delivery counts per window, in plain pandas."""
    d = tables["deliveries"][["customer_id", "ordered_at", "promised_at", "delivered_at"]]
    rows = spine.reset_index(drop=True).rename_axis("_row").reset_index()
    j = rows.merge(d, on="customer_id")
    j = j.loc[j["ordered_at"] < j["as_of"]]
    late = (j["delivered_at"] < j["as_of"]) & (j["delivered_at"] > j["promised_at"])
    columns = {}
    for days in (*windows, None):
        inside = j["ordered_at"] >= j["as_of"] - days * DAY if days else pd.Series(True, index=j.index)
        suffix = f"{days}d" if days else "all"
        columns[f"deliveries_count_{suffix}"] = inside
        columns[f"deliveries_late_count_{suffix}"] = inside & late
    counts = pd.DataFrame(columns).astype("int64").groupby(j["_row"]).sum()
    return counts.reindex(rows["_row"], fill_value=0).reset_index(drop=True)


def compare_with_pandas(tables: dict[str, pd.DataFrame], config: Any) -> dict[str, float]:
    """Both on the satisfaction spine: one row per (customer, survey moment)."""
    surveys = tables["surveys"]
    spine = surveys[["customer_id"]].assign(as_of=surveys["responded_at"]).drop_duplicates()
    windows = tuple(sorted(config.windows_days))
    baseline, pandas_s = timed(lambda: pandas_delivery_counts(tables, spine, windows))
    catalogue = build_catalogue(tables, config)
    subset = catalogue.subset(tuple(f for f in catalogue.features if f.name in baseline.columns))
    engine, engine_s = timed(lambda: compute_features(tables, spine, subset, "duckdb"))
    columns = [f.name for f in subset.features]
    assert np.allclose(engine[columns].to_numpy(float), baseline[columns].to_numpy(float)), "engine != pandas"
    return {"pandas_s": pandas_s, "engine_s": engine_s, "features": len(columns), "rows": len(spine)}


def refresh_latency(
    tables: dict[str, pd.DataFrame], config: Any, refreshes: int, seed: int
) -> dict[str, float]:
    as_of = default_as_of(tables)
    with tempfile.TemporaryDirectory() as folder:
        store = OnlineStore.open(Path(folder) / "online.db")
        _, materialise_s = timed(lambda: store.materialise(tables, config, as_of))
        ids = np.random.default_rng(seed).choice(tables["customers"]["customer_id"].to_numpy(), refreshes)
        latencies = []
        for customer in ids:
            _, seconds = timed(lambda c=customer: store.refresh(str(c), as_of))
            latencies.append(seconds * 1000)
        store.close()
    p50, p99 = np.percentile(latencies, [50, 99])
    return {"materialise_s": materialise_s, "p50_ms": p50, "p99_ms": p99, "n": refreshes}


def training_sets(
    workspace: Path, config: Any, slice_customers: int
) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """Build both training sets of the whole company into Parquet; return the figures and a slice."""
    tables, load_s = timed(lambda: load_tables(workspace))
    out = workspace.parent
    figures: dict[str, Any] = {"customers": len(tables["customers"]), "load_s": load_s}
    for kind in ("satisfaction", "churn"):
        path = out / f"{workspace.name}-{kind}.parquet"
        rows, seconds = timed(lambda k=kind, p=path: write_training_set(k, tables, config, p))
        print(f"{kind} set: {rows:,} rows in {seconds:.1f}s", flush=True)
        figures |= {f"{kind}_s": seconds, f"{kind}_rows": rows}
    figures["features"] = len(pq.read_schema(path).names) - 4  # customer_id, cutoff, churned, as_of
    figures["peak_gib"] = peak_rss_gib()
    return figures, slice_of(tables, slice_customers)


def report(
    args: argparse.Namespace, sets: dict[str, Any], versus: dict[str, float], online: dict[str, float]
) -> str:
    ratio = versus["pandas_s"] / versus["engine_s"]
    baseline = (
        f"pandas baseline: {versus['features']:.0f} delivery counts, {versus['rows']:,.0f} survey moments"
    )
    refresh = f"p50 {online['p50_ms']:.2f} ms, p99 {online['p99_ms']:.2f} ms"
    both_s, answers = sets["satisfaction_s"] + sets["churn_s"], sets["satisfaction_rows"]
    verdicts = [
        f"both sets in {both_s:.0f} s: {'met' if both_s < 300 else 'NOT met'}",
        f"peak {sets['peak_gib']:.1f} GiB: {'met' if sets['peak_gib'] < 12 else 'NOT met'}",
        f"refresh p99 {online['p99_ms']:.2f} ms: {'met' if online['p99_ms'] < 5 else 'NOT met'}",
    ]
    return f"""
Company: {sets["customers"]:,} customers in `{args.workspace}`; {sets["features"]} features per example.

| step | figure |
|---|---|
| load and type the tables | {sets["load_s"]:.0f} s |
| satisfaction training set (every survey answer: {answers:,} examples) | {sets["satisfaction_s"]:.0f} s |
| churn training set (6 monthly cutoffs: {sets["churn_rows"]:,} examples) | {sets["churn_s"]:.0f} s |
| peak memory of the above | {sets["peak_gib"]:.1f} GiB |
| {baseline} | {versus["pandas_s"]:.2f} s |
| engine (DuckDB), same features and spine | {versus["engine_s"]:.2f} s (pandas / engine = {ratio:.1f}×) |
| online store materialised ({args.slice:,} customers, SQLite) | {online["materialise_s"]:.0f} s |
| online refresh of one customer ({online["n"]:,} random customers) | {refresh} |

Each training set is built as `cxpredict features WORKSPACE --set satisfaction|churn` builds it:
computed in chunks of whole customers and streamed to Parquet, so memory holds the tables, the
engine's copy of the event tables and one chunk, never the whole set.
The pandas baseline and the online store use the first {args.slice:,} customers of the company.
Targets: both training sets under 5 minutes with peak memory under 12 GB; refresh under 5 ms p99.
Verdict: {"; ".join(verdicts)}.
The refresh runs the catalogue's one generated SQL on an in-memory SQLite over the customer's stored
events (DuckDB spends tens of milliseconds planning the same query, whatever the data size).
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000, help="company size to generate")
    parser.add_argument("--workspace", type=Path, default=Path("bench-out/company-1m"), help="company folder")
    parser.add_argument("--slice", type=int, default=100_000, help="customers in the pandas and online slice")
    parser.add_argument("--refreshes", type=int, default=2000, help="online refreshes to time")
    parser.add_argument("--seed", type=int, default=0, help="generator and sampling seed")
    args = parser.parse_args()
    ensure_company(args.workspace, args.customers, args.seed)
    config = load_config(args.workspace)
    sets, small = training_sets(args.workspace, config, args.slice)
    versus = compare_with_pandas(small, config)
    online = refresh_latency(small, config, args.refreshes, args.seed)
    body = report(args, sets, versus, online)
    print(body)
    write_section("features", "Point-in-time features", body)


if __name__ == "__main__":
    main()
