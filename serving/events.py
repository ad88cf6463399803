"""New events in: stored, the customers' features refreshed, rescored, and the rules applied.

A refreshed row is computed as of just after the latest event known for the customer (and never
earlier than the row it replaces), the same moment batch scoring uses: scores then depend on what
happened, not on when the request arrived.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from serving.runtime import Runtime, customer_value
from serving.schemas import Action, CustomerChange, CustomerScores, EventsResult
from serving.scorer import Prediction
from serving.state import advisory_locks

Rows = Sequence[Mapping[str, Any]]


class UnknownTable(ValueError):
    """Events of a table the workspace's features were not built with."""


class AlreadyStored(Exception):
    """The events of this idempotency key were stored before: nothing stored, the customers refreshed."""


def store_events(
    runtime: Runtime, tables: Mapping[str, Rows], key: str | None = None
) -> dict[str, tuple[int | None, int]]:
    """Append the rows of each table and refresh every customer they name.

    Every table's rows and the message's idempotency `key` are committed in one transaction: a
    message is stored whole or not at all, and a repeated key stores nothing.

    Returns:
        customer id -> (as_of before, as_of after) of their feature row, in microseconds.

    Raises:
        UnknownTable: for a table the online store has no source for (nothing is stored then).
        KeyTaken: for an event whose key belongs to another customer (nothing is stored then).
        AlreadyStored: for a `key` stored before (its customers are refreshed all the same, in case
            the earlier request stopped between its commit and the refresh).
    """
    latest = _latest_times(tables)
    # on Postgres another process may write the same customers: one writes (and refreshes) at a time
    locks = [f"cx-customer/{cid}" for cid in latest]
    with runtime.write_lock, advisory_locks(runtime.writer.db, locks):
        known = {s.name for s in runtime.writer.catalogue.sources}
        unknown = sorted(set(tables) - known)
        if unknown:
            raise UnknownTable(f"this workspace has no {', '.join(unknown)} table: its events cannot be used")
        for table, rows in tables.items():  # every table checked before any is written
            runtime.writer.check_keys(table, rows)
        before = {cid: runtime.writer.get_row(cid) for cid in latest}
        replayed = key is not None and runtime.receipts.seen(key)
        if not replayed:
            _append_all(runtime, tables, key)
        moments = {}
        for cid, moment in latest.items():
            old = before[cid][0] if before[cid] is not None else None  # type: ignore[index]
            as_of = max(moment, (old or 0) + 1)  # time never runs backwards for a row
            runtime.writer.refresh(cid, pd.Timestamp(as_of, unit="us", tz="UTC"))
            moments[cid] = (old, as_of)
    if replayed:
        raise AlreadyStored(f"the events of idempotency key {key!r} were stored before")
    return moments


def _append_all(runtime: Runtime, tables: Mapping[str, Rows], key: str | None) -> None:
    """Every table's rows and the receipt of `key` in one transaction, rolled back if any part fails."""
    try:
        if key is not None:
            runtime.receipts.record(key, time.time())
        for table, rows in tables.items():
            runtime.writer.append_events(table, rows, commit=False)
        runtime.writer.db.commit()
    except BaseException:
        runtime.writer.db.rollback()  # no half-written message may ride on the next request's commit
        raise


def _latest_times(tables: Mapping[str, Rows]) -> dict[str, int]:
    """Customer id -> microseconds just after the latest timestamp of their new rows."""
    latest: dict[str, int] = {}
    for rows in tables.values():
        for row in rows:
            stamps = [v for v in row.values() if isinstance(v, dt.datetime)]
            micros = max(int(_utc(s).timestamp() * 1e6) for s in stamps) + 1
            latest[row["customer_id"]] = max(latest.get(row["customer_id"], 0), micros)
    return latest


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def ingest(
    runtime: Runtime, tables: Mapping[str, Rows], now: dt.datetime, key: str | None = None
) -> EventsResult:
    """Store events, rescore their customers, apply the rules; what changed and what was queued.

    A message whose idempotency `key` was stored before stores nothing and applies no rule: the
    answer says `replayed`, and the customers' next reads score their refreshed rows.
    """
    champions = runtime.models()
    ids = _customers(tables)
    before = dict(zip(ids, runtime.customers(ids), strict=True))  # cached scores: no second prediction
    try:
        store_events(runtime, tables, key)
    except AlreadyStored:
        for cid in ids:
            runtime.forget(cid)
        return EventsResult(stored={}, customers=[], replayed=True)
    rows = {cid: row for cid in ids if (row := runtime.feature_row(cid)) is not None}
    predictions = dict(zip(rows, champions.predict([row[1] for row in rows.values()]), strict=True))
    runtime.shadow.offer(champions, [(cid, as_of, features) for cid, (as_of, features) in rows.items()])
    changes = []
    for cid, (as_of, features) in rows.items():
        after = runtime.compose(cid, predictions[cid], champions, as_of)
        context = rule_context(cid, predictions[cid], after, features, runtime.flags(cid))
        taken = runtime.actions.apply(cid, context, now)
        forgotten = runtime.forget(cid)
        actions = [Action.model_validate({k: a.get(k) for k in Action.model_fields}) for a in taken]
        after = runtime.with_live_parts(after, as_of)
        runtime.remember(after, as_of, forgotten, champions)  # the next read needs no second prediction
        changes.append(
            CustomerChange(
                customer_id=cid,
                before=before[cid],
                after=after,
                changes=_deltas(before[cid], after),
                actions=actions,
            )
        )
    stored = {table: len(batch) for table, batch in tables.items()}
    return EventsResult(stored=stored, customers=changes)


def _customers(tables: Mapping[str, Rows]) -> list[str]:
    return list(dict.fromkeys(str(row["customer_id"]) for rows in tables.values() for row in rows))


def _deltas(before: CustomerScores | None, after: CustomerScores) -> dict[str, float]:
    """Score name -> after minus before (empty for a customer seen for the first time)."""
    if before is None:
        return {}
    old, new = _values(before), _values(after)
    return {name: value - old[name] for name, value in new.items() if name in old}


def _values(scores: CustomerScores) -> dict[str, float]:
    flat = {f"{m}.{k}": getattr(s, k) for m, s in scores.metrics.items() for k in ("score", "negative")}
    if scores.churn is not None:
        flat["churn.probability"] = scores.churn.probability
    return flat


def rule_context(
    cid: str,
    prediction: Prediction,
    scores: CustomerScores,
    features: Mapping[str, Any],
    flags: list[str],
) -> dict[str, Any]:
    """What the rules see of a customer (the shape `rules.yml` conditions are written against)."""
    metric_scores: dict[str, dict[str, float]] = {}
    for name, metric in prediction.metrics.items():
        metric_scores[name] = {"score": metric.score, "negative": metric.negative, **(metric.classes or {})}
    churn = prediction.churn
    return {
        "customer_id": cid,
        "churn": {"probability": churn.probability, "horizon_days": churn.horizon_days} if churn else {},
        "scores": metric_scores,
        "flags": flags,
        "features": dict(features),
        "attributes": {
            k.removeprefix("customer_"): v for k, v in features.items() if k.startswith("customer_")
        },
        "value": customer_value(features),
        "reasons": scores.top_reasons,
    }
