"""Training sets and the scoring set: which (customer, moment) pairs to compute, and their labels.

A satisfaction example is one survey answer, with features known strictly before `responded_at`.
A churn example is a customer active at a cutoff, labelled by churn within the horizon after it.
The scoring set is every customer as of one moment. All three run the same catalogue and engine.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features.catalogue import CHURN_V1, SATISFACTION_V1, Catalogue, FeatureService
from features.config import ChurnConfig, WorkspaceConfig
from features.discover import build_catalogue
from features.engine import Engine, compute_features
from features.sink import write_features

CHURN_LABEL = "churned"
CUTOFF = "cutoff"


@dataclass(frozen=True)
class TrainingFrame:
    """Examples with their features, and how to read them (the fields of `training.TrainingSet`).

    Attributes:
        frame: keys, time, label and feature columns (float32 numbers, `category` texts).
        catalogue: the catalogue the features came from; scoring must reuse it.
    """

    frame: pd.DataFrame
    features: tuple[str, ...]
    label: str
    time_column: str
    descriptions: Mapping[str, str]
    feature_set: str
    catalogue: Catalogue


def build_satisfaction_set(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    engine: str | Engine = "duckdb",
    catalogue: Catalogue | None = None,
) -> TrainingFrame:
    """One example per survey answer: `customer_id`, `metric`, `responded_at`, label `score`.

    Raises:
        ValueError: when the workspace has no surveys table.
    """
    keys = satisfaction_keys(tables)
    return _training_frame(tables, config, keys, SATISFACTION_V1, "score", "responded_at", engine, catalogue)


def build_churn_set(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    cutoffs: Sequence[dt.date | pd.Timestamp] | None = None,
    engine: str | Engine = "duckdb",
    catalogue: Catalogue | None = None,
) -> TrainingFrame:
    """One example per customer active at each cutoff; label 1 when churned within the horizon after.

    Args:
        tables: typed tables as `load_workspace` returns them.
        config: the workspace config (windows, churn horizon and cutoffs).
        cutoffs: the moments to cut at; default `config.churn.cutoffs`, else `default_cutoffs`.
        engine: `duckdb`, `spark`, or an engine object.
        catalogue: the features to compute; default the catalogue built from `tables`.

    Raises:
        ValueError: when the workspace has no churn table.
    """
    keys = churn_keys(tables, config, cutoffs)
    return _training_frame(tables, config, keys, CHURN_V1, CHURN_LABEL, CUTOFF, engine, catalogue)


def satisfaction_keys(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The satisfaction examples before their features: one row per survey answer.

    Raises:
        ValueError: when the workspace has no surveys table.
    """
    if "surveys" not in tables:
        raise ValueError("no surveys table: a satisfaction model needs survey answers")
    surveys = tables["surveys"]
    return surveys[["customer_id", "metric", "responded_at", "score"]].assign(as_of=surveys["responded_at"])


def churn_keys(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    cutoffs: Sequence[dt.date | pd.Timestamp] | None = None,
) -> pd.DataFrame:
    """The churn examples before their features: customers active at each cutoff, and their label.

    Raises:
        ValueError: when the workspace has no churn table.
    """
    if "churn" not in tables:
        raise ValueError("no churn table: a churn model needs the churn that did happen")
    chosen = cutoffs or config.churn.cutoffs or default_cutoffs(tables, config.churn)
    return pd.concat([churn_examples(tables, _utc(c), config.churn.horizon_days) for c in chosen])


def write_training_set(
    kind: str,
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    path: Path,
    engine: str | Engine = "duckdb",
) -> int:
    """Build the `satisfaction` or `churn` training set straight into a Parquet file; returns its rows.

    The same examples and features as `build_*_set`, streamed chunk by chunk: a set larger than
    memory can be built, and the file appears only once complete.
    """
    if kind == "satisfaction":
        keys, service = satisfaction_keys(tables), SATISFACTION_V1
    elif kind == "churn":
        keys, service = churn_keys(tables, config), CHURN_V1
    else:
        raise ValueError(f"unknown training set {kind!r}: use 'satisfaction' or 'churn'")
    return write_features(tables, keys, _feature_set(tables, config, service, None), path, engine)


def build_scoring_set(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    as_of: dt.datetime | pd.Timestamp | None = None,
    engine: str | Engine = "duckdb",
    catalogue: Catalogue | None = None,
) -> pd.DataFrame:
    """One row per customer who exists at `as_of`: `customer_id`, `as_of`, then every feature.

    Args:
        tables: typed tables as `load_workspace` returns them.
        config: the workspace config.
        as_of: the moment to score at; default just after the latest event, so every event counts.
        engine: `duckdb`, `spark`, or an engine object.
        catalogue: the features to compute; a model's catalogue, to score as it was trained.
    """
    moment = default_as_of(tables) if as_of is None else _utc(as_of)
    customers = tables["customers"]
    exists = ~(customers["created_at"] >= moment) if "created_at" in customers else slice(None)
    keys = customers.loc[exists, ["customer_id"]].assign(as_of=moment)
    catalogue = catalogue if catalogue is not None else build_catalogue(dict(tables), config)
    return compute_features(tables, keys, catalogue, engine)


def build_scoring_sets(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    ids: Sequence[str],
    moments: Sequence[pd.Timestamp],
    catalogue: Catalogue | None = None,
    points: pd.DataFrame | None = None,
) -> list[pd.DataFrame]:
    """`build_scoring_set` of the customers `ids` (in that order) at each moment, in one engine pass.

    Each table is prepared for the engine once for every moment, not once per moment.

    Args:
        tables: typed tables as `load_workspace` returns them.
        config: the workspace config.
        ids: the customers, each existing at every moment.
        moments: the moments to score at.
        catalogue: the features to compute (default: the tables' own).
        points: further `customer_id`, `as_of` rows (each customer at a moment of its own), built in
            the same pass and returned last, in their order.
    """
    column = pd.Series(list(ids), dtype=tables["customers"]["customer_id"].dtype)
    keys = [pd.DataFrame({"customer_id": column, "as_of": _utc(m)}) for m in moments]
    if points is not None:
        at = pd.to_datetime(points["as_of"], utc=True)
        keys.append(points[["customer_id"]].astype(column.dtype).assign(as_of=at).reset_index(drop=True))
    catalogue = catalogue if catalogue is not None else build_catalogue(dict(tables), config)
    built = compute_features(tables, pd.concat(keys, ignore_index=True), catalogue)
    bounds = np.cumsum([0, *(len(k) for k in keys)])
    return [built.iloc[a:b].reset_index(drop=True) for a, b in itertools.pairwise(bounds)]


def churn_examples(
    tables: Mapping[str, pd.DataFrame], cutoff: pd.Timestamp, horizon_days: int
) -> pd.DataFrame:
    """Customers active at `cutoff` (joined before it, not churned at or before it) and their label."""
    customers, churn = tables["customers"], tables["churn"]
    churned_at = customers["customer_id"].map(churn.groupby("customer_id")["churned_at"].min())
    joined = ~(customers["created_at"] >= cutoff) if "created_at" in customers else True
    active = joined & ~(churned_at <= cutoff)
    horizon_end = cutoff + pd.Timedelta(days=horizon_days)
    label = ((churned_at > cutoff) & (churned_at <= horizon_end)).astype("int8")
    frame = pd.DataFrame({"customer_id": customers["customer_id"], CUTOFF: cutoff, CHURN_LABEL: label})
    return frame.loc[active].assign(as_of=cutoff)


def default_cutoffs(tables: Mapping[str, pd.DataFrame], churn: ChurnConfig) -> tuple[pd.Timestamp, ...]:
    """`n_cutoffs` cutoffs `cutoff_every_days` apart, the last `horizon_days` before the data ends.

    The last cutoff leaves a whole horizon of observed data after it, so no label is cut short.
    """
    return cutoffs_before(latest_event_time(tables), churn)


def cutoffs_before(latest: pd.Timestamp, churn: ChurnConfig) -> tuple[pd.Timestamp, ...]:
    """`default_cutoffs` for data whose latest event is at `latest`."""
    last = (latest - pd.Timedelta(days=churn.horizon_days)).floor("D")
    step = pd.Timedelta(days=churn.cutoff_every_days)
    return tuple(last - step * k for k in reversed(range(churn.n_cutoffs)))


def latest_event_time(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp:
    """The latest timestamp in any column of any table.

    Raises:
        ValueError: when no table holds a timestamp.
    """
    latest = [
        frame[c].max()
        for frame in tables.values()
        for c in frame.columns
        if isinstance(frame[c].dtype, pd.DatetimeTZDtype) and frame[c].notna().any()
    ]
    if not latest:
        raise ValueError("the workspace holds no timestamps to take the data's end from")
    return max(latest)


def default_as_of(tables: Mapping[str, pd.DataFrame]) -> pd.Timestamp:
    """Just after the latest event: features at this moment see every event of the data."""
    return latest_event_time(tables) + pd.Timedelta(microseconds=1)


def _training_frame(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    keys: pd.DataFrame,
    service: FeatureService,
    label: str,
    time_column: str,
    engine: str | Engine,
    catalogue: Catalogue | None,
) -> TrainingFrame:
    chosen = _feature_set(tables, config, service, catalogue)
    frame = compute_features(tables, keys, chosen, engine).drop(columns="as_of")
    names = tuple(f.name for f in chosen.features)
    return TrainingFrame(frame, names, label, time_column, chosen.descriptions(), service.name, chosen)


def _feature_set(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    service: FeatureService,
    catalogue: Catalogue | None,
) -> Catalogue:
    """The features of `service`, from `catalogue` or else from the catalogue the tables give."""
    full = catalogue if catalogue is not None else build_catalogue(dict(tables), config)
    return full.subset(service.select(full))


def _utc(moment: dt.date | dt.datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
