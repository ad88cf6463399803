"""The rows a champion sees now, computed as in training: the base for churn, recent answers for surveys.

Churn is scored on every customer still active, as of just after the latest event other than a churn
record (see `base_moment`). Satisfaction is
judged on the survey answers since a date, each with its features as of its own answer, so they
compare with the answers the model was trained on. A large base is sampled (seeded) *before* any
feature is computed, which is where the time goes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd

from features.catalogue import Catalogue
from features.engine import compute_features
from features.training_sets import churn_examples, default_as_of, satisfaction_keys
from training.monitoring.profile import RECENT_DAYS

DEFAULT_MAX_ROWS = 50_000
LABELLED_BASES = 3  # churn: the labelled bases, a month apart, CBPE calibrates on


def current_rows(
    kind: str,
    tables: Mapping[str, pd.DataFrame],
    catalogue: Catalogue,
    since: dt.datetime | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
    cutoffs: Sequence[dt.date] = (),
) -> pd.DataFrame:
    """Today's rows of model `kind`, with their features (and, for surveys, the answers).

    Args:
        kind: `churn` or `satisfaction`.
        tables: the workspace's typed tables.
        catalogue: the features to compute.
        since: satisfaction: the answers from this moment on (default the last 90 days of data).
        max_rows: rows kept at most, drawn at random with a fixed seed.
        cutoffs: the workspace's declared churn cutoffs, the base's moment when nothing else is dated.
    """
    keys = _churn_keys(tables, cutoffs) if kind == "churn" else _answer_keys(tables, since)
    if len(keys) > max_rows:
        keys = keys.sample(max_rows, random_state=0)
    return compute_features(tables, keys.reset_index(drop=True), catalogue)


def labelled_churn_rows(
    tables: Mapping[str, pd.DataFrame],
    catalogue: Catalogue,
    horizon_days: int,
    max_rows: int = DEFAULT_MAX_ROWS,
    cutoffs: Sequence[dt.date] = (),
    not_before: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """The newest labelled bases, with their features then and whether each customer churned since.

    A base's labels are complete one horizon after its moment, so the newest is one horizon before
    today's base; the `LABELLED_BASES` bases a month apart up to it are pooled (one month's few
    hundred churners made the estimate swing with that month's own luck). CBPE calibrates on them
    (see `check_model`), so its estimate for today's base rests on how the champion's
    probabilities held up lately rather than on its holdout, which is older and was scored by the
    model before its refit. Older bases before `not_before` are left out; `max_rows` bounds the pool.
    """
    newest = base_moment(tables, cutoffs) - pd.Timedelta(days=horizon_days)
    older = (newest - pd.DateOffset(months=k) for k in range(1, LABELLED_BASES))
    moments = [newest, *(m for m in older if not_before is None or m >= not_before)]
    keys = pd.concat([churn_examples(tables, m, horizon_days) for m in moments])
    if len(keys) > max_rows:
        keys = keys.sample(max_rows, random_state=0)
    return compute_features(tables, keys.reset_index(drop=True), catalogue)


def base_moment(tables: Mapping[str, pd.DataFrame], cutoffs: Sequence[dt.date] = ()) -> pd.Timestamp:
    """The moment the active base is taken at: just after the latest event that is not a churn record.

    A snapshot export dates every churner at the snapshot, after everything else; taking the base
    after those records would compare the survivors with a training population that held the
    churners too, and report the difference as drift. With nothing else dated, the latest declared
    cutoff (the moment the churn model's examples describe) stands in, then the data's end.
    """
    try:
        return default_as_of({name: frame for name, frame in tables.items() if name != "churn"})
    except ValueError:  # no table but churn holds a timestamp
        if cutoffs:
            return pd.Timestamp(max(cutoffs), tz="UTC")
        return default_as_of(tables)


def _churn_keys(tables: Mapping[str, pd.DataFrame], cutoffs: Sequence[dt.date]) -> pd.DataFrame:
    now = base_moment(tables, cutoffs)
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
