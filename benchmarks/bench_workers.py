"""Cached customer reads with one and two service workers, in the same run.

    python -m benchmarks.bench_workers --customers 1000 --seconds 10
    python -m benchmarks.bench_workers --customers 400 --seconds 5 --no-sqlite   # under 3 CPU-minutes

Trains a small company into bench-out/workers/, then serves it three ways one after another: on
its SQLite file with one worker (the default), and on a Postgres database (`CX_DATABASE_URL`, the
local server at 127.0.0.1:5432 unless `--postgres` names another) with one and with two workers
(`--workers`). Each is warmed until every worker has every customer's answer cached, then GET
/customers/{id} is driven closed-loop by 16 and 32 clients from a separate process. Figures go to
the `workers` section of docs/benchmarks.md, each row with the load average when it began.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from benchmarks.bench_service import customer_requests
from benchmarks.load import Result, run_in_process
from benchmarks.report import write_section
from models.mlflow_config import MlflowConfig
from serving.keys import KeyStore, Role
from serving.state import open_database
from tests.serving.databases import POSTGRES, own_database
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import environment
from tests.serving.workspace import build_trained_workspace

CLIENTS = (16, 32)
# (label, on Postgres, workers)
SETUPS = (("SQLite, 1 worker", False, 1), ("Postgres, 1 worker", True, 1), ("Postgres, 2 workers", True, 2))


@contextmanager
def state_for(on_postgres: bool, server: str) -> Iterator[dict[str, str]]:
    """The variables of a fresh state: the workspace's SQLite file, or a Postgres database of its own."""
    if not on_postgres:
        yield {}
        return
    with own_database(server) as url:
        yield {"CX_DATABASE_URL": url}


def agent_key(workspace: Path, state: Mapping[str, str]) -> str:
    with environment(dict(state)):
        db = open_database(workspace)
    try:
        return KeyStore(db).create(Role.AGENT, "bench-agent")
    finally:
        db.close()


def measure(
    root: Path,
    workspace: Path,
    config: MlflowConfig,
    setup: tuple[str, bool, int],
    server: str,
    seconds: float,
) -> dict[str, tuple[Result, float]]:
    """Closed-loop GETs at each client count: (result, load average when it began)."""
    label, on_postgres, workers = setup
    ids = pd.read_parquet(workspace / "customers.parquet")["customer_id"].astype(str).tolist()
    shutil.rmtree(workspace / "_service", ignore_errors=True)
    with state_for(on_postgres, server) as state:
        key, port, log = agent_key(workspace, state), free_port(), root / f"{label.replace(' ', '_')}.log"
        process = start_server(workspace, config, port, log, state | {"CX_WORKERS": str(workers)})
        try:
            wait_ready(f"http://127.0.0.1:{port}", process, log)
            gets = customer_requests(ids, key)
            for _ in range(2 * workers):  # each worker scores (and caches) each customer on its first read
                run_in_process("closed", port, gets, 16, max(2.0, len(ids) / 200))
            results = {}
            for clients in CLIENTS:
                load = os.getloadavg()[0]
                results[f"{label}/{clients}"] = (run_in_process("closed", port, gets, clients, seconds), load)
            return results
        finally:
            stop_server(process)


def report(results: dict[str, tuple[Result, float]], customers: int) -> str:
    rows = [
        "| state, workers | clients | requests/s | p50 | p99 | errors | load average at start |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, (result, load) in results.items():
        label, clients = name.rsplit("/", 1)
        s = result.summary()
        figures = f"{s['rps']:,.0f} | {s['p50']:.2f} ms | {s['p99']:.2f} ms | {s['errors']:.0f}"
        rows.append(f"| {label} | {clients} | {figures} | {load:.1f} |")
    one, two = (results[f"Postgres, {n}/16"][0].summary()["rps"] for n in ("1 worker", "2 workers"))
    return "\n".join(
        [
            f"Company: {customers:,} customers; every answer cached in every worker before measuring (the "
            "steady state: a read is a dict lookup, the database is not asked); the load client runs in "
            "its own process on the same 2 cores, which other work shared during the run (the load "
            "average column).",
            "",
            *rows,
            "",
            f"Two workers against one at 16 clients on Postgres: {two / max(one, 1e-9):.2f}× the requests/s "
            "(the load client shares the same 2 cores, so a second worker gains only where a core is "
            "idle; the load average says how much other work there was). Workers and replicas are for "
            "more cores and for surviving a lost process; every process follows the others' changes "
            "(`serving/changes.py`), so a read reflects another process's event within a second.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--postgres", default=POSTGRES, help="Postgres server URL (a database per setup).")
    parser.add_argument("--out", type=Path, default=Path("bench-out/workers"))
    parser.add_argument("--no-sqlite", action="store_true", help="Leave out the SQLite, 1 worker setup.")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    root = args.out.resolve()
    workspace, config = build_trained_workspace(root, customers=args.customers, seed=5)
    results: dict[str, tuple[Result, float]] = {}
    for setup in SETUPS[1:] if args.no_sqlite else SETUPS:
        results |= measure(root, workspace, config, setup, args.postgres, args.seconds)
        print({name: r.summary()["rps"] for name, (r, _) in results.items()}, flush=True)
    write_section("workers", "Service workers: one and two processes", report(results, args.customers))
    print(report(results, args.customers))


if __name__ == "__main__":
    main()
