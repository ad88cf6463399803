"""Benchmark: `cxpredict score` and `cxpredict report` on a large generated company.

    flock /tmp/cx-bench.lock nice -n 10 python -m benchmarks.bench_insight_scale \
        --workspace /tmp/cx-1m [--train-customers 5000] [--registry DIR] [--report-only]

The champions are trained on a small company of the same generator (same tables, same features),
as `bench_monitor` does: what is timed is scoring and reporting, not training. Each stage is timed
on its own: reading and validating the workspace; the features of every customer (as
`cxpredict features` builds them); scoring those built features with reasons (the goal: ≤ 3
minutes); and the whole report from the validated tables (the goal: ≤ 5 minutes), which builds the
base's features at the window's start and now, once more per what-if scenario, and renders the page.
With `--compare CHECKOUT` (a checkout of another commit) that commit's report is timed too, in a
process of its own on the same workspace and champions: before and after in one run, and whether
the two summaries are the same. `--registry` reads champions trained elsewhere (never written to);
`--report-only` times the report alone (reading the workspace, untimed, aside).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_monitor import champions
from benchmarks.report import peak_rss_gib, write_section
from features.training_sets import build_scoring_set
from features.validation import load_workspace
from pipelines.insight import whole_base
from pipelines.report_html import PAGE, render_report
from pipelines.scoring import score_features
from pipelines.synthetic import generate_company
from training.insight.propensity import FIT_ROWS

SCORE_GOAL_S, REPORT_GOAL_S = 180.0, 300.0
GOAL_CUSTOMERS = 1_000_000


def timed(
    label: str, seconds: dict[str, tuple[float, float]], started: tuple[float, float]
) -> tuple[float, float]:
    """Record (wall, CPU) seconds since `started` under `label`; returns now's (wall, CPU) clocks.

    CPU seconds (every thread of this process) say what a stage costs when other work shares the cores.
    """
    now = (time.perf_counter(), time.process_time())
    seconds[label] = (now[0] - started[0], now[1] - started[1])
    print(f"{label}: {seconds[label][0]:.1f} s wall, {seconds[label][1]:.1f} s CPU", flush=True)
    return now


# Run by `--compare` with the other checkout first on the path: load untimed, then time the report.
ELSEWHERE = """
import json, sys, time
from pathlib import Path
from benchmarks.bench_monitor import champions
from features.validation import load_workspace
from pipelines.insight import whole_base
from pipelines.report_html import render_report
loaded = load_workspace(Path(sys.argv[1]))
config = champions(Path(sys.argv[2]), int(sys.argv[3]))
started = (time.perf_counter(), time.process_time())
summary = whole_base(loaded.tables, loaded.config, config)
render_report(summary)
print(time.perf_counter() - started[0], time.process_time() - started[1])
Path(sys.argv[4]).write_text(json.dumps(summary, indent=2))
"""


def timed_elsewhere(
    checkout: Path, workspace: Path, registry: Path, train: int, summary: Path
) -> tuple[str, float, float]:
    """(short commit, wall s, CPU s) of the report as the checkout `checkout` makes it.

    Its summary is written to `summary`, to be compared with this commit's.
    """
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {**os.environ, "PYTHONPATH": str(checkout.resolve())}
    arguments = [str(workspace.resolve()), str(registry.resolve()), str(train), str(summary.resolve())]
    done = subprocess.run(  # run from the checkout: `python -c` puts the working folder first on the path
        [sys.executable, "-c", ELSEWHERE, *arguments],
        env=env,
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    )
    wall, cpu = (float(x) for x in done.stdout.split()[-2:])
    print(f"report at {commit}: {wall:.1f} s wall, {cpu:.1f} s CPU", flush=True)
    return commit, wall, cpu


REPORT = "report (features at both moments, what-ifs, page)"
SCORE = "score the built features, with reasons"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, default=Path("/tmp/cx-1m"))
    parser.add_argument(
        "--customers", type=int, default=1_000_000, help="generated when --workspace is empty"
    )
    parser.add_argument("--train-customers", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=Path("bench-out/insight-scale"))
    parser.add_argument("--registry", type=Path, help="champions' folder (bench_monitor's); default --out")
    parser.add_argument("--report-only", action="store_true", help="time the report alone")
    parser.add_argument("--compare", type=Path, help="a checkout of another commit: its report timed too")
    args = parser.parse_args()
    if not (args.workspace / "customers.parquet").exists():
        generate_company(args.workspace, customers=args.customers, seed=0)
    args.out.mkdir(parents=True, exist_ok=True)
    config = champions(args.registry or args.out, args.train_customers)
    seconds: dict[str, tuple[float, float]] = {}
    clock = (time.perf_counter(), time.process_time())
    loaded = load_workspace(args.workspace)
    clock = timed("read and validate the workspace", seconds, clock)
    if not args.report_only:
        built = build_scoring_set(loaded.tables, loaded.config)
        clock = timed(f"features of {len(built):,} customers", seconds, clock)
        scores = score_features(built, config)
        clock = timed(SCORE, seconds, clock)
        del scores, built
        clock = (time.perf_counter(), time.process_time())
    summary = whole_base(loaded.tables, loaded.config, config)
    (args.out / PAGE).write_text(render_report(summary))
    clock = timed(REPORT, seconds, clock)
    same = ""
    if args.compare is not None:
        other = args.out / "summary-compared.json"
        commit, wall, cpu = timed_elsewhere(
            args.compare, args.workspace, args.registry or args.out, args.train_customers, other
        )
        seconds[f"report as commit {commit} makes it (same workspace and champions)"] = (wall, cpu)
        same = same_summary(json.loads(json.dumps(summary)), json.loads(other.read_text()), commit)
    customers = len(loaded.tables["customers"])
    body = _body(args, customers, summary["customers"], seconds) + same
    write_section("insight-scale", f"`score` and `report` on {customers:,} customers", body)


def same_summary(ours: dict[str, Any], theirs: dict[str, Any], commit: str) -> str:
    """A sentence: whether the two reports' summaries hold the same figures, else which keys differ."""
    differ = sorted(key for key in ours.keys() | theirs.keys() if ours.get(key) != theirs.get(key))
    if not differ:
        return f"\nThe summary.json of this commit and of {commit} are the same, figure for figure.\n"
    return f"\nThe summary.json of this commit and of {commit} differ in: {', '.join(differ)}.\n"


def _body(
    args: argparse.Namespace, customers: int, reported: int, seconds: dict[str, tuple[float, float]]
) -> str:
    """The section's text: the stages' table and each goal met or not."""
    body = (
        f"{customers:,} customers of a generated company ({args.workspace}), {reported:,} of them in the "
        f"report's base (existing at the window's start, not churned); champions trained on "
        f"{args.train_customers:,} customers of the same generator. Peak memory {peak_rss_gib():.1f} GiB.\n\n"
        "| stage | seconds | CPU seconds |\n|---|---:|---:|\n"
        + "".join(f"| {label} | {w:.1f} | {c:.1f} |\n" for label, (w, c) in seconds.items())
    )
    scale = GOAL_CUSTOMERS / customers  # the goals are for a million customers: below, scaled linearly
    if scale > 1:
        body += (
            f"\nThe goals are for {GOAL_CUSTOMERS:,} customers: below, these times × {scale:.0f} (linear). "
            f"The report's response-propensity fits stop growing past {FIT_ROWS:,} customers (a seeded "
            "sample is fitted), so its linear figure overstates.\n"
        )
    verdicts = []
    if SCORE in seconds:
        score_s = seconds[SCORE][0] * scale
        verdicts.append(
            f"Scoring built features with reasons: {score_s:.0f} s against ≤ {SCORE_GOAL_S:.0f} s: "
            f"{'met' if score_s <= SCORE_GOAL_S else 'NOT met'}."
        )
    report_s = seconds[REPORT][0] * scale
    verdicts.append(
        f"Report from the validated tables: {report_s:.0f} s against ≤ {REPORT_GOAL_S:.0f} s: "
        f"{'met' if report_s <= REPORT_GOAL_S else 'NOT met'}."
    )
    return body + "\n" + " ".join(verdicts) + "\n"


if __name__ == "__main__":
    main()
