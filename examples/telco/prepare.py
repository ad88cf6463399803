"""Turn the IBM Telco churn snapshot into a cxpredict workspace.

The snapshot has no event dates, so every customer is observed at one moment (SNAPSHOT): churners
get `churned_at = SNAPSHOT`, and cx.yml asks for one churn cutoff the day before it. The project
itself knows nothing of Telco: this script only renames and reshapes columns, as any user would.

Usage: python -m examples.telco.prepare [CSV] [WORKSPACE]
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd

from examples.holdouts import shared_data

SNAPSHOT = "2024-01-31T00:00:00Z"
HERE = Path(__file__).resolve().parent
CSV_NAME = "WA_Fn-UseC_-Telco-Customer-Churn.csv"


def prepare(csv: Path, workspace: Path) -> None:
    """Write customers.csv, churn.csv and cx.yml into `workspace`."""
    raw = pd.read_csv(csv, dtype=str, keep_default_na=False)
    customers = raw.drop(columns=["Churn"]).rename(columns={"customerID": "customer_id"})
    churners = raw.loc[raw["Churn"] == "Yes", ["customerID"]].rename(columns={"customerID": "customer_id"})
    churners["churned_at"] = SNAPSHOT
    workspace.mkdir(parents=True, exist_ok=True)
    customers.to_csv(workspace / "customers.csv", index=False)
    churners.to_csv(workspace / "churn.csv", index=False)
    shutil.copy(HERE / "cx.yml", workspace / "cx.yml")
    print(f"{workspace}: {len(customers):,} customers, {len(churners):,} churned")


if __name__ == "__main__":
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else shared_data("telco") / CSV_NAME
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("workspaces/telco")
    prepare(source, target)
