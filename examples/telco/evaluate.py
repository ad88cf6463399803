"""Train the churn model on the Telco workspace for five customer holdouts and record the AUCs.

Each seed runs the very command a user would (`cxpredict train WORKSPACE --holdout-customers 0.2
--seed N --metrics-out FILE`) against a throwaway MLflow store, so the figures come from the
workspace and its cx.yml alone. They are written to the `telco` section of docs/benchmarks.md.

Usage: python -m examples.telco.evaluate [WORKSPACE]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.report import write_section

SEEDS = range(5)
HOLDOUT = 0.2
LOGISTIC_REFERENCE = 0.845  # a tuned logistic regression on the same holdouts


def holdout_metrics(workspace: Path, seed: int, store: Path) -> dict[str, float]:
    """The churn metrics of one `cxpredict train` run with a seeded customer holdout."""
    out = store / f"metrics-{seed}.json"
    command = [
        str(Path(sys.executable).with_name("cxpredict")),
        "train",
        str(workspace),
        "--holdout-customers",
        str(HOLDOUT),
        "--seed",
        str(seed),
        "--metrics-out",
        str(out),
    ]
    env = os.environ | {"MLFLOW_TRACKING_URI": f"sqlite:///{store}/mlflow.db"}
    subprocess.run(command, env=env, check=True, capture_output=True)
    return dict(json.loads(out.read_text())["churn"])


def main() -> None:
    """Run every seed and write the table."""
    workspace = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("workspaces/telco")
    with tempfile.TemporaryDirectory() as folder:
        runs = [holdout_metrics(workspace, seed, Path(folder)) for seed in SEEDS]
    aucs = [r["auc"] for r in runs]
    rows = "\n".join(
        f"| {s} | {r['n_train']:,} | {r['n_test']:,} | {r['auc']:.4f} | {r['pr_auc']:.4f} | {r['ece']:.4f} |"
        for s, r in zip(SEEDS, runs, strict=True)
    )
    mean = float(np.mean(aucs))
    body = f"""Workspace: `{workspace}` from `python -m examples.telco.prepare` (IBM Telco churn snapshot).
Each row is `cxpredict train {workspace} --holdout-customers {HOLDOUT} --seed N`.

| seed | train | holdout | churn AUC | PR AUC | ECE |
|---|---|---|---|---|---|
{rows}

Mean churn AUC {mean:.4f} (sd {np.std(aucs):.4f}); target ≥ 0.85, a tuned logistic regression \
≈ {LOGISTIC_REFERENCE}: {"met" if mean >= 0.85 else "NOT met"}.
"""
    write_section("telco", "Telco churn, five customer holdouts", body)
    print(body)


if __name__ == "__main__":
    main()
