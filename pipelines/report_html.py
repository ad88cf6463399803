"""`index.html`: the summary as one offline page that prints well.

Everything is inline (styles, SVG charts): no script, font or image is fetched, so the page opens
from a USB stick or an e-mail attachment as it does on the server. Every value from the data is
escaped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from serving.ui.svg_charts import IntervalRow, bar_chart, calibration_chart, interval_chart

# the page's name beside summary.json, as ARCHITECTURE.md's contract for `report --out` says
PAGE = "index.html"
CHART_TOP = 5  # drivers per model in the chart; the table below it lists them all

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a202c}
body{margin:2rem auto;max-width:980px;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.2rem;border-bottom:1px solid #e2e8f0;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:13px}
th,td{padding:.25rem .6rem;border-bottom:1px solid #edf2f7;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.note{color:#4a5568;font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:.5rem 0}
figcaption{font-size:12px;color:#4a5568}svg.chart{max-width:100%;height:auto;font-family:inherit}
@media print{
body{margin:0;max-width:none;font-size:11px}section{break-inside:avoid}h2{break-after:avoid}
svg.chart{max-width:17cm}figure{break-inside:avoid}@page{margin:1.5cm}
}
"""


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f'<td class="n">{value:,.2f}</td>'
    if isinstance(value, int):
        return f'<td class="n">{value:,}</td>'
    return f"<td>{escape('' if value is None else str(value))}</td>"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """An HTML table; numbers right-aligned."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _interval_row(label: str, figure: Mapping[str, Any]) -> IntervalRow:
    interval = figure.get("interval")
    bounds = None if interval is None else (float(interval[0]), float(interval[1]))
    return IntervalRow(label, figure.get("respondents"), figure.get("model"), figure.get("corrected"), bounds)


def nps_section(summary: Mapping[str, Any]) -> str:
    """The whole base and each segment level three ways, as a chart and a table."""
    if "nps" not in summary:
        return ""
    rows = [_interval_row("whole base", summary["nps"])]
    for column, levels in summary.get("by", {}).items():
        rows += [_interval_row(f"{column}: {r['level']}", r["nps"]) for r in levels if "nps" in r]
    facts = [(r.label, r.respondents, r.model, r.corrected, *(r.interval or (None, None))) for r in rows]
    return (
        "<section><h2>NPS three ways</h2>"
        + _figure(
            interval_chart(rows, "NPS by segment"), "respondents only · model-based · corrected, 95% interval"
        )
        + table(["", "respondents", "model", "corrected", "95% low", "95% high"], facts)
        + "".join(
            f'<p class="note"><b>{escape(k)}</b>: {escape(v)}</p>' for k, v in summary["assumptions"].items()
        )
        + "</section>"
    )


def response_section(summary: Mapping[str, Any]) -> str:
    """Share of the base that answered each metric in the window."""
    response = summary.get("response", {})
    items = [(metric, 100 * float(r["rate"])) for metric, r in response.items()]
    rows = [
        (
            m,
            100 * float(r["rate"]),
            100 * float(r["clipped_share"]),
            r.get("answer_event_days"),
            r.get("base_event_days"),
            None if r.get("beyond_answers_share") is None else 100 * float(r["beyond_answers_share"]),
            r.get("beyond_reach_read_from"),
        )
        for m, r in response.items()
    ]
    return (
        "<section><h2>Response rates</h2>"
        + _figure(
            bar_chart(items, "Response rate by metric", "%"), "share of the base that answered in the window"
        )
        + table(
            [
                "metric",
                "answered %",
                "propensity clipped %",
                "days from latest event to answer (median)",
                "base: days since latest event now (median)",
                "base further past an event than 95% of answers %",
                "there, the corrected figure read off",
            ],
            rows,
        )
        + "</section>"
    )


def _top_per_model(rows: Sequence[Mapping[str, Any]], top: int) -> list[Mapping[str, Any]]:
    seen: Counter[str] = Counter()
    kept = []
    for row in rows:
        seen[str(row["model"])] += 1
        if seen[str(row["model"])] <= top:
            kept.append(row)
    return kept


def drivers_section(title: str, rows: Sequence[Mapping[str, Any]], caption: str) -> str:
    """Drivers (or themes): a bar per feature and model, by push per customer of the base."""
    if not rows:
        none = '<p class="note">None among the models\' top reasons.</p>'
        return f"<section><h2>{escape(title)}</h2>{none}</section>"
    shown = _top_per_model(rows, CHART_TOP)
    items = [(f"{r['model']}: {r['feature']}", float(r["push_per_customer"])) for r in shown]
    facts = [
        (r["model"], r["feature"], r["customers"], 100 * float(r["share"]), float(r["mean_push"]))
        for r in rows
    ]
    return (
        f"<section><h2>{escape(title)}</h2>"
        + _figure(bar_chart(items, title), caption)
        + table(["model", "feature", "customers", "share %", "mean push (log-odds)"], facts)
        + "</section>"
    )


def worth_section(summary: Mapping[str, Any]) -> str:
    """Each driver undone whole, ranked by the NPS it wins: a bar per driver, then the table."""
    rows = summary.get("driver_worth", [])
    if not rows:
        return ""
    title = "What fixing each driver is worth"
    items = [(str(r["description"]), float(r["nps_change"])) for r in rows if r.get("nps_change") is not None]
    caption = "predicted NPS points won with the driver undone"
    chart = _figure(bar_chart(items, title), caption) if items else ""
    head = ["rank", "driver undone", "NPS change", "95% interval", "ahead of the next"]
    facts = [_worth_cells(r) for r in rows]
    table_html = table([*head, "churners change", "revenue kept"], facts)
    return f"<section><h2>{title}</h2>{chart}{table_html}</section>"


def _worth_cells(row: Mapping[str, Any]) -> list[object]:
    """One `driver_worth` row's cells, its interval and whether it is ahead of the next in words."""
    named = [row.get(k) for k in ("rank", "description", "nps_change")]
    spread = [_span(row.get("nps_change_interval")), AHEAD_WORDS.get(row.get("ahead_of_next"))]
    return [*named, *spread, row.get("churners_change"), row.get("revenue_kept")]


# whether the data tells a driver's worth from the next one's (`training.insight.spread.told_apart`)
AHEAD_WORDS = {True: "yes", False: "not told apart", None: ""}


def _span(interval: object) -> str:
    """`[lo, hi]` as text; empty without one."""
    if not isinstance(interval, list | tuple) or len(interval) != 2:
        return ""
    return f"{interval[0]:+.2f} to {interval[1]:+.2f}"


def what_if_section(summary: Mapping[str, Any]) -> str:
    """One row per scenario: change in predicted NPS, churners and revenue kept."""
    keys = ("description", "nps_change", "churners_change", "revenue_kept")
    rows = [[r.get(k) for k in keys] for r in summary.get("what_if", [])]
    basis = summary.get("what_if_basis", {})
    notes = "".join(f'<p class="note"><b>{escape(k)}</b>: {escape(str(v))}</p>' for k, v in basis.items())
    head = ["what if", "NPS change", "churners change", "revenue kept"]
    return f"<section><h2>What if</h2>{table(head, rows)}{notes}</section>"


def worklist_section(summary: Mapping[str, Any]) -> str:
    """The head of the worklist."""
    rows = summary.get("worklist", [])
    if not rows:
        return ""
    headers = list(rows[0])
    facts = [[r.get(h) for h in headers] for r in rows]
    return f"<section><h2>Worklist (head)</h2>{table(headers, facts)}</section>"


def calibration_section(summary: Mapping[str, Any]) -> str:
    """One calibration plot per metric, predictions made before the answers."""
    curves = summary.get("calibration", {})
    if not curves:
        return ""
    figures = [
        _figure(
            calibration_chart(
                [(p["predicted"], p["observed"], p["answers"]) for p in points], f"{m} calibration"
            ),
            f"{m}: predicted vs observed share of negative answers",
        )
        for m, points in curves.items()
    ]
    return f'<section><h2>Calibration</h2><div class="charts">{"".join(figures)}</div></section>'


def render_report(summary: Mapping[str, Any]) -> str:
    """The whole page."""
    window = summary["window"]
    sections = [
        nps_section(summary),
        response_section(summary),
        worth_section(summary),
        drivers_section(
            "Drivers", summary.get("drivers", []), "push on risk per customer of the base (top 5 per model)"
        ),
        drivers_section(
            "Text themes", summary.get("themes", []), "push of each theme per customer of the base"
        ),
        what_if_section(summary),
        worklist_section(summary),
        calibration_section(summary),
    ]
    title = f"Customer experience report, {window['end'][:10]}"
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<style>{STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="note">{summary["customers"]:,} customers; answers from '
        f"{escape(window['start'][:10])} to {escape(window['end'][:10])} ({window['days']} days).</p>"
        + "".join(sections)
        + "</body></html>\n"
    )
