"""The whole base as the report measured it: the figures `cxpredict report` (or the demo) wrote.

The corrected estimates, drivers, themes and what-ifs need the whole base scored twice and the
answers weighed by each customer's chance of answering: `training.insight` computes them once into
`summary.json`. The dashboard reads that file (kept in memory until it changes) and draws it; it
never recomputes them. Answers per month come from the surveys the online store holds.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from features.sql import source_table
from models.reasons import LEVEL_MARK, describe
from serving.runtime import Runtime
from serving.ui.places import REPORT_FOLDERS, SUMMARY_NAME
from serving.ui.svg_charts import IntervalRow, bar_chart, calibration_chart, interval_chart

FIGURES = {"nps": "NPS", "csat_mean": "CSAT (mean)", "csat_negative_share": "CSAT dissatisfied %"}
MONTHS = 12
NPS_SIDES = (6, 9)  # a detractor answers at most 6, a promoter at least 9
TOP = 8
_WINDOWED = re.compile(r".+_(?:\d+d|all)")
_WINDOW_WORDS = re.compile(r" (?:ever|in the last \d+ days)$")


def summary_path(workspace: Path) -> Path | None:
    """The report summary the workspace has, if any."""
    places = [workspace / folder / SUMMARY_NAME for folder in REPORT_FOLDERS]
    return next((path for path in places if path.is_file()), None)


def _row(label: str, figure: Mapping[str, Any]) -> IntervalRow:
    interval = figure.get("interval")
    return IntervalRow(
        label,
        figure.get("respondents"),
        figure.get("model"),
        figure.get("corrected"),
        tuple(interval) if interval else None,
    )


def figures(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The whole base's figures three ways, with the response rate of their metric."""
    response = summary.get("response", {})
    return [
        {"name": name, "label": label, **summary[name], "response": response.get(name.split("_")[0], {})}
        for name, label in FIGURES.items()
        if isinstance(summary.get(name), Mapping)
    ]


def segment_charts(summary: Mapping[str, Any]) -> dict[str, str]:
    """Per segment column and figure: an interval chart of its levels."""
    charts = {}
    for column, levels in (summary.get("by") or {}).items():
        for name, label in FIGURES.items():
            rows = [_row(str(level["level"]), level[name]) for level in levels if name in level]
            if rows and name != "csat_negative_share":
                charts[f"{label} by {column}"] = interval_chart(rows, f"{label} by {column}")
    return charts


def _bars(rows: Sequence[Mapping[str, Any]], words: Mapping[str, str], label: str) -> str:
    items = [
        (f"{driver_words(str(r['feature']), words)} ({r['model']})", float(r["push_per_customer"]))
        for r in rows[:TOP]
    ]
    return bar_chart(items, label) if items else ""


def driver_words(feature: str, words: Mapping[str, str]) -> str:
    """A driver in plain words: its feature's description, or its family's without the window.

    Drivers are feature families (`deliveries_days_late_sum` for its 7/30/90-day and all-time
    windows); the catalogue describes each windowed member ("total days late ever"), so the family
    reads as its all-time member's words with the window left out; a category's level reads as the
    category's words and the level.
    """
    if feature in words:
        return words[feature]
    family, mark, level = feature.partition(LEVEL_MARK)
    if mark:  # a category's level (`deliveries_status_last=damaged`): "status of the last delivery: damaged"
        return describe(driver_words(family, words), level)
    members = [d for f, d in words.items() if _WINDOWED.fullmatch(f) and f.rsplit("_", 1)[0] == feature]
    if not members:
        return feature
    return _WINDOW_WORDS.sub("", words.get(f"{feature}_all") or members[0])


def base_view(summary: Mapping[str, Any], words: Mapping[str, str]) -> dict[str, Any]:
    """What the overview draws from the summary: figures, charts, drivers, themes, what-ifs, calibration."""
    found = figures(summary)
    # one chart per figure: NPS (-100..100) and a CSAT mean (1..5) share no axis
    whole = [
        interval_chart([_row(f["label"], f)], f["label"]) for f in found if f["name"] != "csat_negative_share"
    ]
    return {
        "as_of": summary.get("as_of"),
        "window": summary.get("window"),
        "figures": found,
        "figures_svg": "".join(whole),
        "segments_svg": segment_charts(summary),
        "drivers_svg": _bars(summary.get("drivers", []), words, "Drivers: push on risk per customer"),
        "themes_svg": _bars(summary.get("themes", []), words, "Text themes: push on risk per customer"),
        "driver_worth": summary.get("driver_worth", []),
        "what_if": summary.get("what_if", []),
        "what_if_basis": summary.get("what_if_basis", {}),
        "calibration_svg": {
            metric: calibration_chart(
                [(p["predicted"], p["observed"], p["answers"]) for p in points], f"{metric} calibration"
            )
            for metric, points in (summary.get("calibration") or {}).items()
        },
    }


class SummaryFile:
    """The summary's drawing, read again only when the file changed."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._kept: tuple[tuple[str, int], dict[str, Any]] | None = None

    def view(self, words: Mapping[str, str]) -> dict[str, Any] | None:
        """The drawn summary; None when no report ran on this workspace."""
        path = summary_path(self.workspace)
        if path is None:
            return None
        stamp = (str(path), path.stat().st_mtime_ns)
        if self._kept is None or self._kept[0] != stamp:
            summary = json.loads(path.read_text(encoding="utf-8"))
            self._kept = (stamp, base_view(summary, words) | {"source": str(path)})
        return self._kept[1]


def surveyed_by_month(runtime: Runtime, months: int = MONTHS) -> dict[str, Any]:
    """Surveyed NPS and mean CSAT (x 20) per calendar month, from the answers in the online store."""
    with runtime.read_lock:
        if "surveys" not in {s.name for s in runtime.store.catalogue.sources}:
            return {"months": [], "series": {}}
        table = f"{runtime.store.prefix}{source_table('surveys')}"
        rows = runtime.store.db.query(f"SELECT metric, responded_at, score FROM {table}")
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for metric, at, score in rows:
        if metric in ("nps", "csat") and at is not None and score is not None:
            month = dt.datetime.fromtimestamp(int(at) / 1e6, dt.UTC).strftime("%Y-%m")
            groups[(str(metric), month)].append(float(score))
    labels = sorted({m for _, m in groups})[-months:]
    series = {
        "NPS surveyed": [_nps(groups.get(("nps", m), [])) for m in labels],
        "CSAT × 20 surveyed": [_mean(groups.get(("csat", m), []), 20) for m in labels],
    }
    series = {k: v for k, v in series.items() if any(x is not None for x in v)}
    return {"months": labels, "series": series}


def _nps(scores: list[float]) -> float | None:
    if not scores:
        return None
    low, high = NPS_SIDES
    return 100 * (sum(s >= high for s in scores) - sum(s <= low for s in scores)) / len(scores)


def _mean(scores: list[float], scale: float) -> float | None:
    return scale * sum(scores) / len(scores) if scores else None
