"""Benchmark: answers that miss the cache, with a @challenger in shadow and without one.

One service runtime in this process serves a generated company; threads read every customer once
with the cache emptied first, so each read scores the customer. The same reads run with no
`@challenger` and with one on both models (another version of the champion: the same cost as a new
model), alternately, so both see the same machine. The shadow scores off the request path: what it
costs the answers is the CPU its thread takes from them.

Usage: nice -n 10 python -m benchmarks.bench_shadow [--customers 1000] [--threads 4] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from prometheus_client import REGISTRY

from benchmarks.report import write_section
from features.validation import load_workspace
from models.boosting import BoosterParams
from models.mlflow_config import MlflowConfig
from pipelines.synthetic import generate_company
from serving.runtime import Runtime
from serving.scorer import MODEL_KINDS
from serving.settings import ServiceSettings
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec
from training.workspace import train_supported

ROUNDS = 200  # trees at most per booster: a light run, under the machine's heavy-job threshold


def trained(root: Path, customers: int) -> tuple[Path, MlflowConfig]:
    """A generated company with both champions, and a second version of each to shadow (made once)."""
    workspace = root / "company"
    config = MlflowConfig.model_validate(
        {"tracking_uri": f"sqlite:///{root}/mlflow.db", "artifact_location": str(root / "artifacts")}
    )
    if not (workspace / "customers.parquet").exists():
        generate_company(workspace, customers=customers, seed=0)
    if not (root / "mlflow.db").exists():
        loaded = load_workspace(workspace)
        options = FitOptions(params=BoosterParams(num_boost_round=ROUNDS))
        train_supported(loaded.tables, loaded.config, config, HoldoutSpec(), options)
        registry = MlflowClient(config.tracking_uri)
        for kind in MODEL_KINDS:
            name = config.model_name(kind)
            champion = registry.get_model_version_by_alias(name, config.serving_alias)
            second = registry.create_model_version(name, str(champion.source), champion.run_id)
            registry.set_registered_model_alias(name, "challenger-off", second.version)
    return workspace, config


def shadow(runtime: Runtime, on: bool) -> None:
    """Point @challenger at the second versions (or remove it) and reload."""
    registry, config = MlflowClient(runtime.settings.mlflow.tracking_uri), runtime.settings.mlflow
    for kind in MODEL_KINDS:
        name = config.model_name(kind)
        if on:
            version = registry.get_model_version_by_alias(name, "challenger-off").version
            registry.set_registered_model_alias(name, config.shadow_alias, version)
        else:
            with contextlib.suppress(MlflowException):  # not set yet
                registry.delete_registered_model_alias(name, config.shadow_alias)
    runtime.reload(announce=False)
    assert bool(runtime.shadow.versions) == on


def reads(runtime: Runtime, threads: int) -> tuple[float, list[float]]:
    """Every customer read once by `threads` threads, the cache emptied first: seconds, latencies."""
    with runtime.read_lock:
        ids = runtime.store.customer_ids()
    runtime.answers.forget_all()

    def one(customer_id: str) -> float:
        started = time.perf_counter()
        runtime.customer_json(customer_id)
        return time.perf_counter() - started

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        latencies = list(pool.map(one, ids))
    return time.perf_counter() - started, latencies


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("cx_shadow_predictions_total", {"outcome": outcome}) or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench-out/shadow"))
    args = parser.parse_args()
    workspace, config = trained(args.out, args.customers)
    (workspace / "_service" / "cx.db").unlink(missing_ok=True)
    runtime = Runtime(ServiceSettings(workspace, config))
    runtime.start()
    figures: dict[bool, list[tuple[float, list[float]]]] = {False: [], True: []}
    try:
        shadow(runtime, False)  # a run stopped early may have left the alias set
        reads(runtime, args.threads)  # untimed: first calls set up what every later one reuses
        for _ in range(args.rounds):
            for on in (False, True):
                shadow(runtime, on)
                figures[on].append(reads(runtime, args.threads))
                while not runtime.shadow.idle():  # the next round starts on a quiet shadow
                    time.sleep(0.05)
        made, dropped = counted("made"), counted("dropped")
    finally:
        runtime.stop()
    rows = [_row(on, runs) for on, runs in figures.items()]
    for row in rows:
        print(row)
    base, shadowed = (sum(len(lat) for _, lat in runs) / sum(s for s, _ in runs) for runs in figures.values())
    body = (
        f"A generated company of {args.customers:,} customers (seed 0), both models trained "
        f"({ROUNDS} rounds at most); "
        f"one runtime in process; {args.threads} threads read every customer once with the cache "
        f"emptied first (each read scores), after one untimed pass; {args.rounds} rounds alternating "
        "without and with a `@challenger` on both models (a second version of each champion: the same "
        "cost).\n\n"
        "| shadow | reads/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n"
        + "\n".join(rows)
        + f"\n\nRatio: {shadowed / base:.2f}x the reads/s without a challenger. "
        f"The shadow scored {made:,.0f} customers and dropped {dropped:,.0f} (its queue holds 10,000 "
        "rows); it runs on a thread of its own, so the ratio is the CPU it takes from the answers.\n"
    )
    write_section("shadow", "Answers with a challenger in shadow", body)


def _row(on: bool, runs: list[tuple[float, list[float]]]) -> str:
    latencies = sorted(x for _, lat in runs for x in lat)
    rate = len(latencies) / sum(seconds for seconds, _ in runs)
    p50, p99 = statistics.median(latencies), latencies[int(len(latencies) * 0.99)]
    label = "`@challenger` on both models" if on else "none"
    return f"| {label} | {rate:,.0f} | {p50 * 1000:.1f} | {p99 * 1000:.1f} |"


if __name__ == "__main__":
    main()
