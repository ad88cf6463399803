"""Copy the bank churn snapshot (`shared/data/bank_churn`) into a cxpredict workspace.

The shared files are already in the data contract's shape (`customers.csv` with the ten attributes,
`churn.csv` with one dated row per customer who left); this script only copies them beside cx.yml,
which asks for one churn cutoff the day before the placeholder churn date.

Usage: python -m examples.bank_churn.prepare [SOURCE_FOLDER] [WORKSPACE]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

from examples.holdouts import shared_data

HERE = Path(__file__).resolve().parent


def prepare(source: Path, workspace: Path) -> None:
    """Write customers.csv, churn.csv and cx.yml into `workspace`."""
    workspace.mkdir(parents=True, exist_ok=True)
    for table in ("customers.csv", "churn.csv"):
        shutil.copy(source / table, workspace / table)
    shutil.copy(HERE / "cx.yml", workspace / "cx.yml")
    customers, churned = (len(pd.read_csv(workspace / t)) for t in ("customers.csv", "churn.csv"))
    print(f"{workspace}: {customers:,} customers, {churned:,} churned")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data("bank_churn")
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("workspaces/bank_churn")
    prepare(source, target)
