"""Benchmark: `cxpredict monitor` on a large generated company, beside monitoring every customer.

The champions are trained on a small company of the same generator (same tables, same features):
what is timed is the check, not the training. `monitor` draws at most `--max-rows` customers (and
answers) before computing any feature; the obvious alternative computes the features of the whole
base, as a first implementation would. Both run in this process, one after the other.

Usage: nice -n 10 python -m benchmarks.bench_monitor [--customers 1000000] [--train-customers 20000]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from benchmarks.report import write_section
from features.validation import load_workspace
from models.mlflow_config import MlflowConfig
from pipelines.monitoring import monitor_workspace
from pipelines.synthetic import generate_company
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec
from training.workspace import train_supported

GOAL_S = 180.0


def champions(root: Path, customers: int) -> MlflowConfig:
    """Both champions trained on a small company of the same generator, into a registry of their own."""
    config = MlflowConfig.model_validate(
        {"tracking_uri": f"sqlite:///{root}/mlflow.db", "artifact_location": str(root / "artifacts")}
    )
    small = root / "train-company"
    if not (small / "customers.parquet").exists():
        generate_company(small, customers=customers, seed=1)
    if not (root / "mlflow.db").exists():  # trained once: the check is what is timed
        loaded = load_workspace(small)
        train_supported(loaded.tables, loaded.config, config, HoldoutSpec(), FitOptions())
    return config


def timed_monitor(workspace: Path, config: MlflowConfig, max_rows: int) -> tuple[float, float, str]:
    """Wall and CPU seconds for one whole `monitor` (validation included), and its verdict.

    CPU seconds (this process, all threads) say what the check costs when other work shares the
    machine's two cores and stretches the wall time.
    """
    started, cpu = time.perf_counter(), time.process_time()
    report = monitor_workspace(workspace, config, None, max_rows)
    return time.perf_counter() - started, time.process_time() - cpu, f"{report.verdict}: {report.reason}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--train-customers", type=int, default=20_000)
    parser.add_argument("--max-rows", type=int, default=50_000)
    parser.add_argument("--out", type=Path, default=Path("bench-out/monitor"))
    parser.add_argument("--skip-whole", action="store_true", help="time the default check only")
    parser.add_argument("--workspace", type=Path, help="a generated company (seed 0) to reuse")
    args = parser.parse_args()
    big = args.workspace or args.out / f"company-{args.customers}"
    if not (big / "customers.parquet").exists():
        generate_company(big, customers=args.customers, seed=0)
    config = champions(args.out, args.train_customers)
    sampled, cpu, verdict = timed_monitor(big, config, args.max_rows)
    print(f"monitor, at most {args.max_rows:,} rows a model: {sampled:.1f} s, {cpu:.1f} s CPU ({verdict})")
    whole = None if args.skip_whole else timed_monitor(big, config, args.customers * 10)[0]
    print(f"monitor over every customer and answer: {whole} s")
    body = (
        f"{args.customers:,} generated customers (seed 0); champions trained on {args.train_customers:,} "
        "customers of the same generator. Each figure is one whole `monitor` (reading and validating "
        "the workspace, features, drift, CBPE, the MLflow runs).\n\n"
        "| check | seconds | CPU seconds | goal |\n|---|---:|---:|---|\n"
        f"| `monitor` (at most {args.max_rows:,} rows a model, the default) | {sampled:.1f} | {cpu:.1f} | "
        f"≤ {GOAL_S:.0f} s: {'met' if sampled <= GOAL_S else 'not met'} |\n"
        + (
            "\nThe whole-base alternative was not run (`--skip-whole`).\n\n"
            if whole is None
            else f"| every customer and answer (the obvious alternative) | {whole:.1f} | | |\n\n"
            f"Ratio: {sampled / whole:.2f}x the time.\n\n"
        )
        + f"Verdict on the untouched company: {verdict}\n"
    )
    write_section("monitor", f"`cxpredict monitor` on {args.customers:,} customers", body)


if __name__ == "__main__":
    main()
