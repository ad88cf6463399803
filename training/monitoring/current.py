"""The rows a champion sees now, computed as in training: the base for churn, recent answers for surveys.

Churn is scored on every customer still active, as of just after the latest event. Satisfaction is
judged on the survey answers since a date, each with its features as of its own answer, so they
compare with the answers the model was trained on. A large base is sampled (seeded) *before* any
feature is computed, which is where the time goes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from features.catalogue import Catalogue
from features.engine import compute_features
from features.training_sets import default_as_of, satisfaction_keys
from training.monitoring.profile import RECENT_DAYS

DEFAULT_MAX_ROWS = 50_000


def current_rows(
    kind: str,
    tables: Mapping[str, pd.DataFrame],
    catalogue: Catalogue,
    since: dt.datetime | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> pd.DataFrame:
    """Today's rows of model `kind`, with their features (and, for surveys, the answers).

    Args:
        kind: `churn` or `satisfaction`.
        tables: the workspace's typed tables.
        catalogue: the features to compute.
        since: satisfaction: the answers from this moment on (default the last 90 days of data).
        max_rows: rows kept at most, drawn at random with a fixed seed.
    """
    keys = _churn_keys(tables) if kind == "churn" else _answer_keys(tables, since)
    if len(keys) > max_rows:
        keys = keys.sample(max_rows, random_state=0)
    return compute_features(tables, keys.reset_index(drop=True), catalogue)


def _churn_keys(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    now = default_as_of(tables)
    customers = tables["customers"]
    active = pd.Series(True, index=customers.index)
    if "created_at" in customers:
        active &= ~(customers["created_at"] >= now)
    if "churn" in tables:
        churned = tables["churn"].groupby("customer_id")["churned_at"].min()
        active &= ~(customers["customer_id"].map(churned) <= now)
    return customers.loc[active, ["customer_id"]].assign(as_of=now)


def _answer_keys(tables: Mapping[str, pd.DataFrame], since: dt.datetime | None) -> pd.DataFrame:
    keys = satisfaction_keys(tables)
    start = since or default_as_of(tables) - pd.Timedelta(days=RECENT_DAYS)
    return keys.loc[keys["responded_at"] >= start]
