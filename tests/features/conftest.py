"""Tiny hand-built workspaces for the feature engine's tests, typed exactly as `load_workspace` types them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from features.config import WorkspaceConfig
from features.validation import table_specs, to_typed

CONFIG = WorkspaceConfig(windows_days=(7, 30))
T = pd.Timestamp("2024-03-01T12:00:00Z")  # the moment most tests look from


def at(offset: str) -> str:
    """An ISO timestamp `offset` (a pandas Timedelta string, e.g. '-1s', '+3D') from T."""
    return (T + pd.Timedelta(offset)).isoformat()


def typed(config: WorkspaceConfig = CONFIG, **tables: dict[str, list[object]]) -> dict[str, pd.DataFrame]:
    """Typed tables from columns of text; `customers` defaults to C1 and C2, joined long ago."""
    tables.setdefault("customers", {"customer_id": ["C1", "C2"], "created_at": ["2023-01-01", "2023-01-01"]})
    specs = table_specs(config)
    return {name: to_typed(specs[name], pd.DataFrame(columns)) for name, columns in tables.items()}


def differing(got: dict[str, object], want: dict[str, object], rel: float = 1e-6) -> list[str]:
    """The features whose values differ: floats beyond `rel`, anything else at all."""

    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)
        return a == b

    assert got.keys() == want.keys()
    return [name for name in want if not same(got[name], want[name])]


def random_tables(customers: int, seed: int) -> dict[str, pd.DataFrame]:
    """A seeded random workspace with every event table, open and late rows, and an extra column each."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i}" for i in range(customers)]
    start = pd.Timestamp("2023-01-01T00:00:00Z")

    def moments(n: int, days: float = 540) -> pd.Series:
        return pd.Series(start + pd.to_timedelta(rng.uniform(0, days, n), unit="D")).dt.floor("s")

    def events(n: int) -> dict[str, object]:
        return {"customer_id": rng.choice(ids, n)}

    n = customers * 4
    ordered = moments(n)
    delivered = ordered + pd.to_timedelta(rng.uniform(0.5, 12, n), unit="D")
    tables = {
        "customers": {
            "customer_id": ids,
            "created_at": moments(customers, 200),
            "plan": rng.choice(["basic", "plus", "pro"], customers),
            "annual_value": rng.gamma(2, 300, customers).round(2),
        },
        "deliveries": {
            **events(n),
            "order_id": [f"O{i}" for i in range(n)],
            "ordered_at": ordered,
            "promised_at": ordered + pd.Timedelta(days=5),
            "delivered_at": delivered.where(rng.random(n) > 0.05),
            "amount": rng.uniform(5, 200, n).round(2),
            "carrier": rng.choice(["dhl", "ups", "post"], n),
        },
        "tickets": {
            **events(customers),
            "ticket_id": [f"T{i}" for i in range(customers)],
            "opened_at": (o := moments(customers)),
            "closed_at": (o + pd.to_timedelta(rng.uniform(0.1, 9, customers), unit="D")).where(
                rng.random(customers) > 0.1
            ),
            "priority": rng.choice(["low", "high", "urgent"], customers),
            "channel": rng.choice(["email", "phone"], customers),
            "reopened": rng.random(customers) < 0.2,
        },
        "warranty_claims": {
            **events(customers // 2),
            "claim_id": [f"W{i}" for i in range(customers // 2)],
            "filed_at": (f := moments(customers // 2)),
            "resolved_at": f + pd.Timedelta(days=10),
            "outcome": rng.choice(["approved", "rejected"], customers // 2),
            "amount": rng.uniform(10, 500, customers // 2).round(2),
        },
        "calls": {
            **events(customers),
            "call_id": [f"K{i}" for i in range(customers)],
            "started_at": moments(customers),
            "wait_s": rng.exponential(90, customers).round(),
            "duration_s": rng.exponential(300, customers).round(),
        },
        "verbatims": {
            **events(customers),
            "posted_at": moments(customers),
            "text": ["fine"] * customers,
            "source": rng.choice(["review", "social"], customers),
        },
        "surveys": {
            **events(customers * 2),
            "responded_at": moments(customers * 2),
            "metric": rng.choice(["nps", "csat"], customers * 2),
            "score": rng.integers(1, 6, customers * 2).astype(float),
        },
        "churn": {
            "customer_id": rng.choice(ids, customers // 5, replace=False),
            "churned_at": moments(customers // 5, 600),
        },
    }
    specs = table_specs(CONFIG)
    return {name: to_typed(specs[name], pd.DataFrame(columns)) for name, columns in tables.items()}
