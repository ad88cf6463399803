"""A small, valid, hand-written workspace that tests break one cell at a time."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

VALID_TABLES: dict[str, dict[str, list[object]]] = {
    "customers": {
        "customer_id": ["C1", "C2", "C3"],
        "created_at": ["2024-01-01", "2024-01-02T08:00:00+02:00", "2024-01-03T00:00:00Z"],
        "plan": ["basic", "plus", "basic"],
    },
    "surveys": {
        "customer_id": ["C1", "C2", "C3"],
        "responded_at": ["2024-03-01T10:00:00Z", "2024-03-02", "2024-03-03"],
        "metric": ["nps", "csat", "CES"],
        "score": ["9", "2", "7"],
        "comment": ["great", "", "hard work"],
    },
    "churn": {"customer_id": ["C3"], "churned_at": ["2024-05-01"]},
    "deliveries": {
        "customer_id": ["C1", "C2"],
        "order_id": ["O1", "O2"],
        "ordered_at": ["2024-02-01", "2024-02-02"],
        "promised_at": ["2024-02-04", "2024-02-05"],
        "delivered_at": ["2024-02-06", ""],
        "amount": ["19.90", "5"],
    },
    "tickets": {
        "customer_id": ["C1"],
        "ticket_id": ["T1"],
        "opened_at": ["2024-02-10"],
        "closed_at": ["2024-02-11"],
        "reopened": ["false"],
    },
    "calls": {"customer_id": ["C2"], "call_id": ["K1"], "started_at": ["2024-02-12"], "wait_s": ["30"]},
    "warranty_claims": {"customer_id": ["C1"], "claim_id": ["W1"], "filed_at": ["2024-02-15"]},
    "verbatims": {"customer_id": ["C2"], "posted_at": ["2024-02-20"], "text": ["Parcel arrived late."]},
}


def write_workspace(folder: Path, changes: dict[str, dict[str, list[object]]] | None = None) -> Path:
    """Write the valid workspace as CSV, with whole columns replaced by `changes[table][column]`."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, columns in VALID_TABLES.items():
        data = {**columns, **(changes or {}).get(table, {})}
        pd.DataFrame(data).to_csv(folder / f"{table}.csv", index=False)
    return folder


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file below `folder` with its size and modification time, to prove nothing was written."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}
