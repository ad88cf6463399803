"""A customer's scores over the last months and the trend since last week, from their stored events.

The features are recomputed at earlier moments from the events the online store holds (events after
a moment are not seen at it, as in training) and scored by the models in service: the history says
what these models would have said then, so it exists from the first day the service runs, needs no
table of its own, and a new model version rewrites it consistently.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

from serving.runtime import Runtime
from serving.scorer import Prediction
from serving.ui.svg_charts import line_chart

DAY_MICROS = 86_400 * 1_000_000
MONTHS, MONTH_DAYS, WEEK_DAYS = 6, 30, 7
MOVES = 3  # reasons named for each move
CHUNK = 70  # (customer, moment) pairs per engine query: about a tenth of a second on 2 cores


def moments(as_of: int, months: int = MONTHS) -> list[int]:
    """The customer's row moment and one every 30 days before it, oldest first."""
    return [as_of - k * MONTH_DAYS * DAY_MICROS for k in range(months, -1, -1)]


def _risk(prediction: Prediction) -> float | None:
    return None if prediction.churn is None else prediction.churn.probability


def _pushes(prediction: Prediction) -> dict[str, tuple[float, str]]:
    """Feature -> (strongest push towards churn or a negative answer, its sentence)."""
    reasons = [r for m in prediction.metrics.values() for r in m.reasons]
    reasons += prediction.churn.reasons if prediction.churn is not None else []
    found: dict[str, tuple[float, str]] = {}
    for r in sorted(reasons, key=lambda r: -abs(r.log_odds)):
        found.setdefault(r.feature, (r.log_odds, r.sentence))
    return found


def why_moved(before: Prediction, after: Prediction, top: int = MOVES) -> list[str]:
    """The reasons whose push changed most between two predictions, in plain words, strongest first."""
    old, new = _pushes(before), _pushes(after)
    changes = []
    for feature in old.keys() | new.keys():
        push_then, _ = old.get(feature, (0.0, ""))
        push_now, sentence = new.get(feature, (0.0, old.get(feature, (0.0, ""))[1]))
        if abs(push_now - push_then) > 0.05 and sentence:
            word = "moved the risk up" if push_now > push_then else "moved the risk down"
            changes.append((abs(push_now - push_then), f"{sentence} ({word})"))
    return [text for _, text in sorted(changes, reverse=True)[:top]]


def point(at: int, prediction: Prediction) -> dict[str, Any]:
    """One moment of the history: churn risk and each metric's expected answer and negative side."""
    return {
        "at": at,
        "churn": _risk(prediction),
        "metrics": {m: {"score": s.score, "negative": s.negative} for m, s in prediction.metrics.items()},
    }


def customer_history(runtime: Runtime, customer_id: str) -> dict[str, Any] | None:
    """The customer's scores every 30 days over the last six months, why the latest move happened, charts.

    Returns:
        None for a customer the store does not know.
    """
    champions = runtime.models()
    with runtime.read_lock:
        found = runtime.store.get_row(customer_id)
        if found is None:
            return None
        at = moments(found[0])
        rows = runtime.store.features_at(customer_id, at)
    predictions = champions.predict(rows)
    points = [point(m, p) for m, p in zip(at, predictions, strict=True)]
    return {
        "customer_id": customer_id,
        "points": points,
        "why": why_moved(predictions[-2], predictions[-1]) if len(predictions) > 1 else [],
        "chart_svg": history_chart(points),
    }


def history_chart(points: Sequence[dict[str, Any]]) -> str:
    """Churn risk and each metric's negative side (in %) over the moments, one line each."""
    series: dict[str, list[float | None]] = {}
    if any(p["churn"] is not None for p in points):
        series["churn risk"] = [None if p["churn"] is None else 100 * p["churn"] for p in points]
    for metric in points[-1]["metrics"] if points else []:
        series[f"{metric} negative"] = [
            100 * p["metrics"][metric]["negative"] if metric in p["metrics"] else None for p in points
        ]
    labels = [_month(p["at"]) for p in points]
    return line_chart(labels, series, "Risk over the last months (%)", unit="%")


def _month(micros: int) -> str:
    return dt.datetime.fromtimestamp(micros / 1e6, dt.UTC).strftime("%d %b")


def features_in_chunks(runtime: Runtime, pairs: Sequence[tuple[str, int]]) -> list[dict[str, Any]]:
    """The features of each (customer, moment), a few customers per hold of the read lock.

    Each hold is short, so a customer's score asked meanwhile waits a fraction of a second at most.
    """
    rows: list[dict[str, Any]] = []
    for lo in range(0, len(pairs), CHUNK):
        with runtime.read_lock:
            rows += runtime.store.features_of(pairs[lo : lo + CHUNK])
    return rows


class Trends:
    """Each customer's churn risk a week before their latest row, kept while that row stays the same."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._kept: dict[str, tuple[int, int, float | None]] = {}  # id -> (row as_of, generation, risk)
        self._lock = threading.Lock()

    def week_ago(self, customer_ids: Sequence[str]) -> dict[str, float | None]:
        """Customer -> churn risk 7 days before their row's moment (None without a churn model)."""
        generation, found, missing = self.runtime.generation, {}, []
        with self.runtime.read_lock:
            stamps = {cid: row[0] for cid in customer_ids if (row := self.runtime.store.get_row(cid))}
        with self._lock:
            for cid, as_of in stamps.items():
                kept = self._kept.get(cid)
                if kept is not None and kept[:2] == (as_of, generation):
                    found[cid] = kept[2]
                else:
                    missing.append(cid)
        found |= self._compute(missing, stamps, generation)
        return found

    def _compute(self, ids: list[str], stamps: dict[str, int], generation: int) -> dict[str, float | None]:
        if not ids:
            return {}
        rows = features_in_chunks(self.runtime, [(cid, stamps[cid] - WEEK_DAYS * DAY_MICROS) for cid in ids])
        risks = [_risk(p) for p in self.runtime.models().predict(rows)]
        with self._lock:
            for cid, risk in zip(ids, risks, strict=True):
                self._kept[cid] = (stamps[cid], generation, risk)
        return dict(zip(ids, risks, strict=True))
