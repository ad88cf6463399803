"""`cxpredict features` and `cxpredict score` on DuckDB and on Spark local mode, with each run's memory.

    python -m benchmarks.bench_spark --company /tmp/cx-1m --mlflow-config mlflow.yml \\
        --results bench-out/spark.json --engine duckdb --command features

Each command runs as its own process, as a user runs it; a sampler reads the resident memory of
its process tree every 0.2 s and stops the run when the tree passes `--cap-gib` or the run passes
`--limit-s` (the figure then says so, with the peaks until then). For Spark the *driver* is the
Python process plus the JVM it starts (in local mode that JVM also runs the executors' tasks,
capped by `spark.driver.memory`); the Python workers that run the models are executors'
processes and are reported apart. One invocation measures the runs it
is asked for and adds them to `--results` (a JSON file), so each run can take its own turn on a
busy machine; the `spark` section of docs/benchmarks.md is rewritten from every result so far.
The models come from an existing registry (`--mlflow-config`), trained on a small company.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil
import pyarrow.parquet as pq

from benchmarks.report import write_section

SPARK_CONF = ("spark.master=local[2]", "spark.driver.memory=4g", "spark.sql.shuffle.partitions=16")
GIB = 2**30
CLI = "from pipelines.cli import app; app(prog_name='cxpredict')"  # the `cxpredict` entry point


@dataclass
class Run:
    """One command's wall time and peak memory (GiB): the driver's (Python + JVM, and each), the workers'."""

    seconds: float
    driver_gib: float
    python_gib: float
    jvm_gib: float
    workers_gib: float
    stopped: bool = False  # stopped by the memory cap before it finished
    load: float = 0.0  # the machine's load average when it finished


class Sampler(threading.Thread):
    """Peak RSS of a process (Python), its JVM child, and the JVM's Python workers, sampled together."""

    def __init__(self, pid: int, cap_gib: float, limit_s: float) -> None:
        super().__init__(daemon=True)
        self.root, self.done, self.cap, self.stopped = psutil.Process(pid), False, cap_gib * GIB, False
        self.deadline = time.monotonic() + limit_s
        self.peaks = {"driver": 0, "python": 0, "jvm": 0, "workers": 0}

    def run(self) -> None:
        while not self.done:
            try:
                children = self.root.children(recursive=True)
                now = {"python": self.root.memory_info().rss, "jvm": 0, "workers": 0}
                for child in children:
                    now["jvm" if "java" in child.name() else "workers"] += child.memory_info().rss
                now["driver"] = now["python"] + now["jvm"]
                self.peaks = {k: max(v, now[k]) for k, v in self.peaks.items()}
                over = now["driver"] + now["workers"] > self.cap or time.monotonic() > self.deadline
                if over:  # the machine is shared: stop, and say so
                    self.stopped = True
                    for process in [*children, self.root]:
                        process.kill()
            except psutil.Error:
                pass  # a process ended between listing and reading
            time.sleep(0.2)


def run(args: list[str], env: dict[str, str], cap_gib: float, limit_s: float) -> Run:
    """Run `cxpredict ARGS` in its own process; its wall time and peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    sampler = Sampler(process.pid, cap_gib, limit_s)
    sampler.start()
    output, _ = process.communicate()
    sampler.done = True
    sampler.join()
    if process.returncode != 0 and not sampler.stopped:
        raise RuntimeError(f"cxpredict {' '.join(args)} failed:\n{output.decode()[-3000:]}")
    p = {k: v / GIB for k, v in sampler.peaks.items()}
    seconds = time.perf_counter() - start
    return Run(seconds, p["driver"], p["python"], p["jvm"], p["workers"], sampler.stopped, os.getloadavg()[0])


def customers(company: Path) -> int:
    """Rows of the company's customers table (from the Parquet footer)."""
    return pq.ParquetFile(company / "customers.parquet").metadata.num_rows


def measure(
    company: Path, engine: str, command: str, mlflow_file: Path, cap_gib: float, limit_s: float
) -> Run:
    """One command on one engine for one company; its output is deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-spark-", dir=os.environ.get("CX_BENCH_TMP")) as folder:
        out = Path(folder) / f"{company.name}-{engine}-{command}.parquet"
        spark = [a for c in SPARK_CONF for a in ("--spark-conf", c)] if engine == "spark" else []
        models = ["--mlflow-config", str(mlflow_file)] if command == "score" else []
        args = [command, str(company), "--out", str(out), "--engine", engine, *spark, *models]
        print(f"{company}: {command} on {engine} ...", flush=True)
        result = run(args, {**os.environ}, cap_gib, limit_s)
        shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
    print(f"  {result}", flush=True)
    return result


def table(results: dict[str, dict]) -> str:
    """The figures as a Markdown table, one row per company size, command and engine."""
    lines = [
        "| customers | command | engine | wall (s) | driver peak RSS (GiB) | of which Python | of which JVM "
        "| Python workers peak (GiB) | load |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for key in sorted(results, key=_order):
        size, command, engine = key.split("/")
        r = Run(**results[key])
        spark = [f"{r.python_gib:.2f}", f"{r.jvm_gib:.2f}", f"{r.workers_gib:.2f}"]
        wall = f"stopped at {r.seconds:.0f}" if r.stopped else f"{r.seconds:.0f}"
        parts = spark if engine == "spark" else ["–", "–", "–"]
        cells = [f"{int(size):,}", command, engine, wall, f"{r.driver_gib:.2f}", *parts, f"{r.load:.1f}"]
        lines.append(f"| {' | '.join(cells)} |")
    return "\n".join(lines)


def _order(key: str) -> tuple[int, str, str]:
    size, command, engine = key.split("/")
    return int(size), command, engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--company", type=Path, action="append", default=[], help="a generated company")
    parser.add_argument("--mlflow-config", type=Path, required=True, help="the registry holding @champions")
    parser.add_argument("--results", type=Path, required=True, help="JSON file the figures accumulate in")
    parser.add_argument("--engine", choices=("duckdb", "spark"), action="append")
    parser.add_argument("--command", choices=("features", "score"), action="append")
    parser.add_argument("--cap-gib", type=float, default=10.0, help="stop a run whose processes pass this")
    parser.add_argument("--limit-s", type=float, default=3600.0, help="stop a run that takes longer")
    parser.add_argument(
        "--note", type=Path, help="a file of text that follows the table (how a company was made)"
    )
    args = parser.parse_args()
    for company in args.company:
        for command in args.command or ("features", "score"):
            for engine in args.engine or ("duckdb", "spark"):
                found = measure(company, engine, command, args.mlflow_config, args.cap_gib, args.limit_s)
                save(args.results, f"{customers(company)}/{command}/{engine}", asdict(found))
    results = json.loads(args.results.read_text()) if args.results.exists() else {}
    report(results, args.note.read_text() if args.note else "")
    print(table(results))


def save(path: Path, key: str, run: dict) -> None:
    """Add one run to the results file, read afresh: another invocation may have added its own."""
    results = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**results, key: run}, indent=1))


def report(results: dict[str, dict], note: str) -> None:
    """Write the figures so far into the `spark` section of docs/benchmarks.md."""
    body = (
        "`cxpredict features` (the scoring set) and `cxpredict score` (features, then the satisfaction and "
        "churn @champions with reasons) as separate processes, each writing Parquet, one run at a time. "
        f"Spark runs in local mode with `{' '.join(SPARK_CONF)}`; its driver peak is the Python process "
        "plus its JVM sampled together (in local mode that JVM runs the tasks too, so its heap is capped "
        "by `spark.driver.memory`); the Python workers (the models, in Arrow batches) are executors' "
        "processes, reported apart. DuckDB's figure is its one process. *load* is the machine's load "
        "average when the run ended (2 cores; other work slows every figure).\n\n"
        f"{table(results)}\n\n{note}\n"
    )
    write_section("spark", "Spark end to end against DuckDB (features and scoring)", body)


if __name__ == "__main__":
    main()
