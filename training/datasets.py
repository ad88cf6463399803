"""The training-set interface between the feature engine and model fitting, and its holdout splits.

The feature engine hands over a frame plus the names that say how to read it; nothing here knows
how the features were computed. Splits never shuffle time: a holdout is later than its training
rows, or holds customers the training rows never saw.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

CUSTOMER_COLUMN = "customer_id"
METRIC_COLUMN = "metric"  # satisfaction sets: which survey metric a row answers
DEFAULT_HOLDOUT_SHARE = 0.2


@dataclass(frozen=True)
class TrainingSet:
    """A frame of examples and how to read it.

    Attributes:
        frame: one row per example: keys, the time, the label and the feature columns
            (categorical features as pandas `category` dtype).
        features: the feature columns, in model order.
        label: the label column (`score` for surveys, a 0/1 column for churn).
        time_column: when each example happens (`responded_at`, the churn cutoff).
        descriptions: feature -> one-line description, used by the reason codes.
        feature_set: the versioned name of the feature set (`churn_v1`).
        label_days: how far after its moment an example's label looks (churn's horizon); a time
            split purges the training examples whose label reaches into the holdout. 0 (no purge)
            unless the builder of the set declares it.
    """

    frame: pd.DataFrame
    features: tuple[str, ...]
    label: str
    time_column: str
    descriptions: Mapping[str, str]
    feature_set: str
    label_days: int = 0

    def __post_init__(self) -> None:
        needed = [*self.features, self.label, self.time_column]
        missing = [c for c in needed if c not in self.frame.columns]
        if missing:
            raise KeyError(f"training set {self.feature_set!r}: frame lacks columns {missing}")

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def X(self) -> pd.DataFrame:
        """The feature columns."""
        return self.frame[list(self.features)]

    @property
    def y(self) -> pd.Series:
        """The label column."""
        return self.frame[self.label]

    @property
    def times(self) -> pd.Series:
        """The time column."""
        return self.frame[self.time_column]

    def subset(self, mask: pd.Series | np.ndarray) -> TrainingSet:
        """The same set restricted to the rows where `mask` is true."""
        return dataclasses.replace(self, frame=self.frame.loc[np.asarray(mask, dtype=bool)])

    def digest(self) -> str:
        """sha256 of the frame's content (values and column names), to tell data sets apart."""
        hashed = pd.util.hash_pandas_object(self.frame, index=False).to_numpy()
        header = "\x1f".join(map(str, self.frame.columns)).encode()
        return hashlib.sha256(header + hashed.tobytes()).hexdigest()


def split_by_time(ts: TrainingSet, holdout_from: dt.date | dt.datetime) -> tuple[TrainingSet, TrainingSet]:
    """(train, holdout): examples before `holdout_from`, and those at or after it.

    Training examples whose label window (`label_days` after their moment) ends after the first
    holdout example's moment are purged: a customer who churns early in the holdout is a positive both
    there and in each such earlier example, so the model would be judged on churners it was
    fitted on, and its holdout AUC would promise more than later months give.
    """
    start = pd.Timestamp(holdout_from)
    times = pd.to_datetime(ts.times)
    if times.dt.tz is not None and start.tz is None:
        start = start.tz_localize(times.dt.tz)
    later = (times >= start).to_numpy()
    first = times[later].min() if later.any() else start  # the holdout's own labels start there
    reaches = (times + pd.Timedelta(days=ts.label_days) > first).to_numpy()
    return ts.subset(~later & ~reaches), ts.subset(later)


def split_latest(ts: TrainingSet, share: float = DEFAULT_HOLDOUT_SHARE) -> tuple[TrainingSet, TrainingSet]:
    """(train, holdout) with the latest `share` of the time range as holdout.

    The cut is a moment, not a row count, so examples at the same moment stay together.
    """
    return split_by_time(ts, latest_cut(ts.times, share))


def latest_cut(times: pd.Series, share: float = DEFAULT_HOLDOUT_SHARE) -> pd.Timestamp:
    """The moment after which the latest `share` of the time range of `times` lies."""
    moments = pd.to_datetime(times)
    return pd.Timestamp(moments.min() + (moments.max() - moments.min()) * (1 - share))


def split_by_customers(ts: TrainingSet, fraction: float, seed: int) -> tuple[TrainingSet, TrainingSet]:
    """(train, holdout) where a seeded `fraction` of customers and all their rows are held out.

    Raises:
        ValueError: if `fraction` is not strictly between 0 and 1.
    """
    if not 0 < fraction < 1:
        raise ValueError(f"holdout customer fraction must lie in (0, 1), got {fraction}")
    customers = np.sort(ts.frame[CUSTOMER_COLUMN].astype(str).unique())
    rng = np.random.default_rng(seed)
    held = rng.choice(customers, size=max(1, round(fraction * len(customers))), replace=False)
    in_holdout = ts.frame[CUSTOMER_COLUMN].astype(str).isin(held).to_numpy()
    return ts.subset(~in_holdout), ts.subset(in_holdout)
