"""Generate a whole synthetic company into a workspace: the contract's tables plus `_truth/`.

Everything is written into a hidden folder inside the workspace first and moved into place only
when every file succeeded, so a failure never leaves half a company behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from features.contract import TABLES
from pipelines.synthetic.contact_tables import build_calls, build_surveys, build_tickets, build_verbatims
from pipelines.synthetic.customers import draw_customers
from pipelines.synthetic.ids import customer_ids
from pipelines.synthetic.pii import draw_identities
from pipelines.synthetic.population import expected_table, population_truth
from pipelines.synthetic.replay import what_if_truth
from pipelines.synthetic.simulate import History, simulate
from pipelines.synthetic.tables import (
    Context,
    build_churn,
    build_claims,
    build_customers,
    build_deliveries,
    observable,
)
from pipelines.synthetic.timegrid import build_grid
from pipelines.synthetic.truth import customers_table, latent_table, summary
from pipelines.synthetic.world import World

Format = Literal["parquet", "csv"]
MIN_CUSTOMERS = 100  # below this some tables would be empty, which the contract rejects


def write_table(table: pa.Table, path: Path) -> None:
    """Parquet as is; CSV with timestamps as ISO 8601 strings ending in `Z`."""
    if path.suffix == ".parquet":
        pq.write_table(table, path, compression="zstd", compression_level=1)
        return
    for i, column in enumerate(table.columns):
        if pa.types.is_timestamp(column.type):
            seconds = pc.cast(column, pa.timestamp("s", tz="UTC"))  # whole seconds: no fraction
            table = table.set_column(i, table.field(i).name, pc.strftime(seconds, "%Y-%m-%dT%H:%M:%SZ"))
    pcsv.write_csv(table, path)


class BackgroundWriter:
    """Writes tables on a second thread while the next one is built (Arrow releases the GIL)."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1)
        self._pending: list[Future[None]] = []

    def write(self, table: pa.Table, path: Path) -> None:
        """Queue a table for writing."""
        self._pending.append(self._pool.submit(write_table, table, path))

    def finish(self) -> None:
        """Wait for every queued write; re-raises the first failure."""
        try:
            for future in self._pending:
                future.result()
        finally:
            self._pool.shutdown(cancel_futures=True)


def _refuse_existing(workspace: Path) -> None:
    if not workspace.exists():
        return
    if not workspace.is_dir():
        raise ValueError(f"workspace {workspace} exists and is not a folder")
    found = sorted(
        p.name for p in workspace.iterdir() if p.stem in TABLES and p.suffix in (".parquet", ".csv")
    )
    if found:
        raise ValueError(
            f"workspace {workspace} already holds tables ({', '.join(found)}); "
            "generate into an empty folder or remove them first"
        )


def _move_into_place(temp: Path, workspace: Path) -> None:
    truth = workspace / "_truth"
    if truth.exists():  # truth of an earlier company whose tables were removed
        shutil.rmtree(truth)
    for path in sorted(temp.iterdir()):
        path.rename(workspace / path.name)


def generate_company(
    workspace: Path,
    customers: int = 5000,
    seed: int = 0,
    *,
    fmt: Format = "parquet",
    end: dt.date = dt.date(2026, 6, 30),
    months: int = 24,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Generate a synthetic company with known ground truth into `workspace`.

    Args:
        workspace: folder to fill (created if missing); it must not hold any contract table yet.
        customers: number of customers (at least 100).
        seed: the same seed gives byte-identical files.
        fmt: file format of the tables; `_truth/` is always Parquet plus `summary.json`.
        end: last date of the data; no timestamp falls on or after midnight starting this day.
        months: length of the window before `end`.
        progress: called with a short step name ("customers", "deliveries", ...) as each starts.

    Returns:
        The truth summary, as written to `_truth/summary.json`.

    Raises:
        ValueError: the workspace already holds tables, or the arguments are out of range.
    """
    if customers < MIN_CUSTOMERS:
        raise ValueError(f"customers must be at least {MIN_CUSTOMERS}, got {customers}")
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    workspace = Path(workspace)
    _refuse_existing(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    temp = workspace / f".generating-{os.getpid()}"
    try:
        (temp / "_truth").mkdir(parents=True)
        writer = BackgroundWriter()
        try:
            result = _generate(temp, writer, customers, seed, fmt, end, months, progress or (lambda _: None))
        finally:
            writer.finish()
        _move_into_place(temp, workspace)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return result


def _generate(
    folder: Path,
    writer: BackgroundWriter,
    n: int,
    seed: int,
    fmt: Format,
    end: dt.date,
    months: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    grid = build_grid(end, months)
    progress("customers")
    world = World.start(rng, grid, draw_customers(rng, n, grid))
    history = simulate(world, lambda step: progress(f"simulation: {step}"))
    ids = customer_ids(np.arange(n))
    progress("identities")
    ctx = Context(rng, grid, world.customers, world.churned_at, draw_identities(rng, n), ids)
    rows: dict[str, int] = {}

    def save(name: str, table: pa.Table) -> None:
        writer.write(table, folder / f"{name}.{fmt}")
        rows[name] = table.num_rows

    save("customers", build_customers(ctx))
    for name, log, build in (
        ("deliveries", "deliveries", build_deliveries),
        ("warranty_claims", "warranty_claims", build_claims),
        ("tickets", "tickets", build_tickets),
        ("calls", "calls", build_calls),
        ("verbatims", "verbatims", build_verbatims),
    ):
        progress(name)
        save(name, build(ctx, world.log.take(log)))
    progress("surveys")
    responses = observable(ctx, world.log.take("responses"), "responded")
    surveys, response_truth = build_surveys(ctx, responses)
    save("surveys", surveys)
    progress("churn")
    churn = world.log.take("churn")
    save("churn", build_churn(ctx, churn))
    progress("truth")
    truth = _truth_tables(ctx, world, history, response_truth)
    for name, table in truth.items():
        writer.write(table, folder / "_truth" / f"{name}.parquet")
    result = summary(ctx, world, history, responses, churn, rows, seed)
    result["population"] = population_truth(ctx, history)
    result["what_if"] = what_if_truth(seed, grid, world.customers)
    (folder / "_truth" / "summary.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


def _truth_tables(
    ctx: Context, world: World, history: History, response_truth: pa.Table
) -> dict[str, pa.Table]:
    return {
        "latent": latent_table(ctx, history),
        "customers": _joined(customers_table(ctx, world, history), expected_table(ctx, history)),
        "texts": pa.concat_tables(ctx.texts),
        "pii": pa.concat_tables(ctx.pii),
        "surveys": response_truth,
    }


def _joined(left: pa.Table, right: pa.Table) -> pa.Table:
    """The columns of both tables side by side (same rows, same order)."""
    for name in right.column_names:
        left = left.append_column(name, right[name])
    return left
