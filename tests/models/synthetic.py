"""Seeded synthetic training frames with known effects, shared by the model and training tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

FEATURES = ("late_deliveries_30d", "tickets_90d", "tenure_days", "plan", "noise")
DESCRIPTIONS = {
    "late_deliveries_30d": "late deliveries in the last 30 days",
    "tickets_90d": "support tickets in the last 90 days",
    "tenure_days": "days as a customer",
    "plan": "subscription plan",
    "noise": "a column with no effect",
}
PLAN_EFFECT = {"basic": 0.4, "plus": 0.0, "pro": -0.4}


def customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    plans = rng.choice(list(PLAN_EFFECT), n)
    return pd.DataFrame(
        {
            "late_deliveries_30d": rng.poisson(1.0, n).astype(float),
            "tickets_90d": rng.poisson(1.5, n).astype(float),
            "tenure_days": rng.uniform(30, 1500, n).round(),
            "plan": pd.Categorical(plans, categories=list(PLAN_EFFECT)),
            "noise": rng.normal(size=n),
        }
    )


def risk_logit(frame: pd.DataFrame) -> np.ndarray:
    plan = frame["plan"].astype(str).map(PLAN_EFFECT).to_numpy(dtype=float)
    return (
        -1.6
        + 0.9 * frame["late_deliveries_30d"].to_numpy()
        + 0.3 * frame["tickets_90d"].to_numpy()
        - 0.0008 * frame["tenure_days"].to_numpy()
        + plan
    )


def churn_frame(n: int = 3000, seed: int = 0) -> pd.DataFrame:
    """One row per (customer, cutoff), churn drawn from a known probability kept in `true_p`."""
    rng = np.random.default_rng(seed)
    frame = customers(n, rng)
    frame.insert(0, "customer_id", [f"c{i % (n // 2)}" for i in range(n)])
    frame.insert(1, "cutoff", pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"))
    frame["true_p"] = 1 / (1 + np.exp(-risk_logit(frame)))
    frame["churned"] = (rng.uniform(size=n) < frame["true_p"]).astype(int)
    return frame.sort_values("cutoff", kind="stable").reset_index(drop=True)


def satisfaction_frame(
    n: int = 3000, seed: int = 0, metrics: tuple[str, ...] = ("nps", "csat")
) -> pd.DataFrame:
    """One row per survey answer; a worse experience lowers every score."""
    rng = np.random.default_rng(seed)
    frame = customers(n, rng)
    frame.insert(0, "customer_id", [f"c{i}" for i in range(n)])
    frame.insert(1, "metric", rng.choice(list(metrics), n))
    frame.insert(
        2, "responded_at", pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    )
    quality = 1 / (1 + np.exp(risk_logit(frame) + rng.normal(0, 0.7, n)))  # 1 = delighted
    nps = np.clip(np.round(quality * 10 + rng.normal(0, 1, n)), 0, 10)
    csat = np.clip(np.round(1 + quality * 4 + rng.normal(0, 0.5, n)), 1, 5)
    frame["score"] = np.where(frame["metric"] == "nps", nps, csat)
    return frame.sort_values("responded_at", kind="stable").reset_index(drop=True)
