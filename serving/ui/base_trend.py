"""Predicted NPS and CSAT of the base per month, beside what the surveys said in those months.

Predicting the whole base at each past month would score it six times over; an even sample of
customers (every k-th id) scored at the end of each of the last six calendar months, and at the
latest row, from their stored events gives the trend at a fraction of the cost, and the page says
how many customers it rests on. Calendar months, not 30-day steps: the surveyed line is per
calendar month, and 30-day steps put two moments in one month and none in another.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from serving.runtime import Runtime
from serving.ui.history import MONTHS, features_in_chunks
from serving.ui.svg_charts import line_chart

SAMPLE = 200


def month_ends(as_of: int, months: int = MONTHS) -> list[int]:
    """The last microsecond of each of the `months` calendar months before `as_of`'s, then `as_of`."""
    latest = dt.datetime.fromtimestamp(as_of / 1e6, dt.UTC)
    first = latest.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    ends = []
    for back in range(months - 1, -1, -1):  # a month's end is the next month's start, less 1 µs
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        ends.append(int(first.replace(year=year, month=month + 1).timestamp()) * 1_000_000 - 1)
    return [*ends, as_of]


def predicted_by_month(runtime: Runtime, sample: int = SAMPLE) -> dict[str, Any]:
    """Mean predicted NPS and CSAT (x 20) of an even sample, at each month's end and the latest row."""
    champions = runtime.models()
    with runtime.read_lock:
        ids = runtime.store.customer_ids()
        chosen = ids[:: max(len(ids) // sample, 1)][:sample]
        stamps = [row[0] for cid in chosen if (row := runtime.store.get_row(cid)) is not None]
        at = month_ends(max(stamps)) if stamps else []
    rows = features_in_chunks(runtime, [(cid, m) for cid in chosen for m in at])
    predictions = champions.predict(rows) if rows else []
    nps: dict[int, list[float]] = {m: [] for m in at}
    csat: dict[int, list[float]] = {m: [] for m in at}
    for i, prediction in enumerate(predictions):
        moment = at[i % len(at)]
        score = prediction.metrics.get("nps")
        if score is not None and score.classes:
            nps[moment].append(100 * (score.classes["promoter"] - score.classes["detractor"]))
        if "csat" in prediction.metrics:
            csat[moment].append(20 * prediction.metrics["csat"].score)
    return {
        "customers": len(chosen),
        "months": [_month(m) for m in at],
        "series": {"NPS predicted": _means(nps), "CSAT × 20 predicted": _means(csat)},
    }


def _means(values: Mapping[int, list[float]]) -> list[float | None]:
    return [sum(v) / len(v) if v else None for v in values.values()]


def _month(micros: int) -> str:
    return dt.datetime.fromtimestamp(micros / 1e6, dt.UTC).strftime("%Y-%m")


def over_time(surveyed: Mapping[str, Any], predicted: Mapping[str, Any]) -> str:
    """One chart: surveyed per calendar month and predicted at the sample's moments, by month."""
    months = sorted(set(surveyed.get("months", [])) | set(predicted.get("months", [])))[-12:]
    series: dict[str, list[float | None]] = {}
    for source in (surveyed, predicted):
        for name, values in source.get("series", {}).items():
            by_month = dict(zip(source["months"], values, strict=True))
            line = [by_month.get(m) for m in months]
            if any(v is not None for v in line):
                series[name] = line
    labels = [dt.datetime.strptime(m, "%Y-%m").strftime("%b %y") for m in months]
    return line_chart(labels, series, "Surveyed and predicted per month") if series else ""
