"""`cxpredict monitor --out`'s HTML page: the verdict, drifted features and label-free AUC, offline.

Drawn from the JSON the command writes (`MonitorReport.as_dict`), as one file with its CSS and
inline SVG: no script, no font, nothing fetched, so it opens from a mail or a shared drive.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SHOWN = 15  # features per model in the drift chart, largest statistic relative to its threshold first
BAR_WIDTH = 360
COLOURS = {"ok": "#1a7f37", "retrain recommended": "#9a6700", "broken input": "#cf222e"}
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1f2328}
h1 span{padding:.1em .5em;border-radius:.3em;color:#fff}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{padding:.2em .7em;border-bottom:1px solid #d0d7de;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.drifted{color:#cf222e;font-weight:600}
svg text{font:12px system-ui,sans-serif}
"""


def page_path(out: Path) -> Path:
    """Where the page goes beside the JSON file `out`: the same name ending in `.html`."""
    page = out.with_suffix(".html")
    return page if page != out else out.with_name(out.name + ".html")


def monitor_page(report: Mapping[str, Any]) -> str:
    """The whole page for a monitoring report's JSON values."""
    verdict = str(report["verdict"])
    parts = [
        f'<h1>Monitoring: <span id="verdict" style="background:{COLOURS.get(verdict, "#57606a")}">'
        f"{_e(verdict)}</span></h1>",
        f'<p id="reason">{_e(report["reason"])}</p>',
    ]
    for model in report.get("models", []):
        parts += _model(model)
    if report.get("shadow") is not None:
        parts += _shadow(report["shadow"])
    body = "\n".join(parts)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>cxpredict monitoring: {_e(verdict)}</title><style>{STYLE}</style></head>"
        f"<body>{body}</body></html>\n"
    )


def _model(model: Mapping[str, Any]) -> list[str]:
    drift = sorted(model["drift"], key=lambda d: -_ratio(d))
    drifted = [d for d in drift if d["drifted"]]
    return [
        f"<h2>{_e(model['name'])} version {_e(model['version'])}</h2>",
        f"<p>{model['rows']:,} rows now; drifted features carry {model['drifted_share']:.1%} "
        "of its importance.</p>",
        "<h3>Estimated performance (CBPE, no labels needed)</h3>",
        _performance(model["performance"]),
        f"<h3>Drift: {len(drifted)} of {len(drift)} features drifted</h3>",
        _drift_chart(drift[:SHOWN]),
        _drift_table(drifted),
    ]


def _shadow(shadow: Mapping[str, Any]) -> list[str]:
    """Champion against challenger on live traffic: one row per model output and pair of versions."""
    parts = ["<h2>Challenger in shadow</h2>", f'<p id="shadow">{_e(shadow["summary"])}</p>']
    if not shadow["comparisons"]:
        return parts
    head = (
        "<tr><th>model</th><th>output</th><th>champion</th><th>challenger</th><th>rows</th>"
        "<th>mean |difference|</th><th>max |difference|</th><th>rank correlation</th>"
        "<th>labelled rows</th><th>champion AUC</th><th>challenger AUC</th></tr>"
    )
    shown = ("mean_abs_diff", "max_abs_diff", "rank_correlation")
    rows = [
        f"<tr><td>{_e(c['model'])}</td><td>{_e(c['output'])}</td><td>v{_e(c['champion_version'])}</td>"
        f"<td>v{_e(c['challenger_version'])}</td><td class=n>{c['rows']:,}</td>"
        + "".join(f"<td class=n>{_number(c[k])}</td>" for k in shown)
        + f"<td class=n>{c['labelled_rows']:,}</td>"
        + "".join(f"<td class=n>{_number(c[k])}</td>" for k in ("champion_auc", "challenger_auc"))
        + "</tr>"
        for c in shadow["comparisons"]
    ]
    return [*parts, f"<table class='shadow'>{head}{''.join(rows)}</table>"]


def _performance(performance: Mapping[str, Mapping[str, float | None]]) -> str:
    head = (
        "<tr><th>risk</th><th>rows</th><th>estimated AUC</th><th>realised AUC</th>"
        "<th>realised on the newest labelled bases</th><th>holdout AUC</th></tr>"
    )
    shown = ("estimated_auc", "realised_auc", "labelled_auc", "holdout_auc")
    rows = [
        f"<tr><td>{_e(risk)}</td><td class=n>{_number(f.get('rows'), '{:,.0f}')}</td>"
        + "".join(f"<td class=n>{_number(f.get(k))}</td>" for k in shown)
        + "</tr>"
        for risk, f in performance.items()
    ]
    return f"<table class='performance'>{head}{''.join(rows)}</table>"


def _drift_chart(drift: Sequence[Mapping[str, Any]]) -> str:
    """Each feature's statistic as a bar scaled to its threshold (the line at 1x): red when drifted."""
    if not drift:
        return ""
    top = max(2.0, *(_ratio(d) for d in drift))
    row, label = 20, 260
    bars = []
    for i, d in enumerate(drift):
        y, width = i * row, BAR_WIDTH * min(_ratio(d), top) / top
        colour = "#cf222e" if d["drifted"] else "#8c959f"
        bars.append(
            f'<text x="{label - 6}" y="{y + 14}" text-anchor="end">{_e(d["feature"])}</text>'
            f'<rect x="{label}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{_e(d['method'])} {d['statistic']:.3f} (threshold {d['threshold']:g})</title></rect>"
        )
    limit = label + BAR_WIDTH / top
    height = row * len(drift)
    return (
        f'<svg class="drift" width="{label + BAR_WIDTH + 10}" height="{height + 16}" role="img" '
        f'aria-label="drift statistic relative to its threshold">{"".join(bars)}'
        f'<line x1="{limit:.1f}" x2="{limit:.1f}" y1="0" y2="{height}" '
        'stroke="#1f2328" stroke-dasharray="3"/>'
        f'<text x="{limit:.1f}" y="{height + 13}" text-anchor="middle">threshold</text></svg>'
    )


def _drift_table(drifted: Sequence[Mapping[str, Any]]) -> str:
    if not drifted:
        return "<p>No feature drifted.</p>"
    head = "<tr><th>feature</th><th>method</th><th>statistic</th><th>threshold</th><th>importance</th></tr>"
    rows = [
        f"<tr class='drifted'><td>{_e(d['feature'])}</td><td>{_e(d['method'])}</td>"
        f"<td class=n>{d['statistic']:.3f}</td><td class=n>{d['threshold']:g}</td>"
        f"<td class=n>{d['importance']:.1%}</td></tr>"
        for d in drifted
    ]
    return f"<table class='drifted-features'>{head}{''.join(rows)}</table>"


def _ratio(d: Mapping[str, Any]) -> float:
    statistic, threshold = float(d["statistic"]), float(d["threshold"]) or 1.0
    return max(statistic, 0.0) / threshold if math.isfinite(statistic) else 0.0


def _number(value: float | None, form: str = "{:.3f}") -> str:
    return "–" if value is None else form.format(value)


def _e(value: object) -> str:
    return html.escape(str(value))
