"""Bank churn through the documented CLI flow, five customer holdouts, beside a plain baseline.

`figures(workspace)` runs `cxpredict train WORKSPACE --holdout-customers 0.2 --seed N` for seeds 0-4
against a throwaway MLflow store, and fits the data README's shallow LightGBM on the ten attributes
of the same training customers; `benchmarks.bench_real` puts the figures in docs/benchmarks.md.

Usage: python -m examples.bank_churn.evaluate [WORKSPACE]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from examples.holdouts import as_categories, churn_figure

GOAL = 0.87  # churn AUC; the README's shallow LightGBM reaches 0.865 ± 0.005 on stratified splits


def figures(workspace: Path) -> list[dict[str, object]]:
    """The churn AUC of our model and of the baseline, mean over five customer holdouts."""
    customers = pd.read_csv(workspace / "customers.csv", dtype={"customer_id": str})
    churned = set(pd.read_csv(workspace / "churn.csv", dtype={"customer_id": str})["customer_id"])
    attributes = as_categories(customers.drop(columns="created_at"))
    labels = customers["customer_id"].isin(churned).astype(int)
    return [churn_figure("bank_churn", workspace, attributes, labels, GOAL)]


if __name__ == "__main__":
    print(figures(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("workspaces/bank_churn")))
