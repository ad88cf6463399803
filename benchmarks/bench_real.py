"""Real data nobody on the team wrote: each case prepared and evaluated through its example.

    python -m benchmarks.bench_real [CASE ...]

For each case in `shared/data`, `examples/<case>/prepare.py` writes a workspace and
`examples/<case>/evaluate.py` runs the documented CLI flow on it; its `figures(workspace)` gives one
dict per figure (`case`, `target`, `split`, `ours`, `baseline`, `goal`, `ece`, `n_holdout`), the
data README's plain baseline fitted on the same split as ours. A case whose example is not written
yet is listed as such. Writes the `real` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.report import write_section

CASES = ("telco", "bank_churn", "womens_clothing")
ECE_GOAL, ECE_MIN_ANSWERS = 0.01, 2000
WORKSPACES = Path("workspaces")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example_ready(case: str) -> bool:
    """Whether `examples/<case>` has both of its scripts."""
    return all((EXAMPLES / case / f"{part}.py").is_file() for part in ("prepare", "evaluate"))


def case_figures(case: str) -> list[dict[str, Any]]:
    """Prepare the case's workspace as its README says (`python -m examples.<case>.prepare`), evaluate it."""
    subprocess.run([sys.executable, "-m", f"examples.{case}.prepare"], check=True)
    return list(importlib.import_module(f"examples.{case}.evaluate").figures(WORKSPACES / case))


def number(value: Any, sd: Any = None) -> str:
    """A figure as the table prints it: 4 decimals, with its spread over seeds when known."""
    if isinstance(value, int | float):
        return f"{value:.4f}" + (f" ± {sd:.4f}" if isinstance(sd, int | float) else "")
    return "—" if value is None else str(value)


def verdict(figure: Mapping[str, Any]) -> str:
    """Met, or how far from the goal; and the calibration goal where it applies."""
    ours, goal = figure["ours"], figure["goal"]
    parts = []
    if isinstance(ours, int | float) and isinstance(goal, int | float):
        parts.append("met" if ours >= goal else f"short by {goal - ours:.4f}")
    survey = figure["target"] != "churn"
    if survey and int(figure["n_holdout"]) >= ECE_MIN_ANSWERS and isinstance(figure["ece"], int | float):
        parts.append("ECE met" if figure["ece"] <= ECE_GOAL else f"ECE {figure['ece'] - ECE_GOAL:+.4f} over")
    return "; ".join(parts)


def table(figures: list[Mapping[str, Any]], missing: list[str]) -> str:
    """The one table of every case: ours and the baseline on the same split, the goal, the verdict."""
    lines = [
        "| case | target | split | ours | plain baseline (same split) | goal | ECE | holdout | verdict |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f['case']} | {f['target']} | {f['split']} | {number(f['ours'], f.get('ours_sd'))} | "
            f"{number(f['baseline'], f.get('baseline_sd'))} | ≥ {number(f['goal'])} | {number(f['ece'])} | "
            f"{int(f['n_holdout']):,} | {verdict(f)} |"
        )
    lines += [f"| {case} | — | — | not yet | — | — | — | — | example not written yet |" for case in missing]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    ready = [c for c in args.cases if example_ready(c)]
    figures = [f for case in ready for f in case_figures(case)]
    missing = [c for c in args.cases if c not in ready]
    seeds = "\n".join(
        f"- {f['case']}: " + ", ".join(f"{o:.4f} vs {b:.4f}" for o, b in f["per_seed"])
        for f in figures
        if "per_seed" in f
    )
    body = f"""Each case is prepared by `examples/<case>/prepare.py` and evaluated by \
`examples/<case>/evaluate.py`, which runs the documented CLI flow \
(`cxpredict train WORKSPACE --holdout-customers 0.2 --seed N`, seeds 0-4, a throwaway MLflow store) \
and fits the data README's plain baseline on the very customers that run trained on, judged on the \
customers it held out. Figures are means over the seeds (± their standard deviation). The calibration \
goal (ECE ≤ {ECE_GOAL} on the negative side) applies to survey answers where the holdout has \
{ECE_MIN_ANSWERS:,} or more; a churn ECE is shown for information (on 2,000 customers with 20% churn, \
a perfectly calibrated model scores about 0.02 by chance).

{table(figures, missing)}

Per seed, ours vs the baseline:
{seeds}
"""
    write_section("real", "Real data against plain baselines", body)
    print(body)


if __name__ == "__main__":
    main()
