"""Small inline SVG charts, drawn in Python so the report needs no script and no network.

Each function returns one `<svg>` element as text, sized by its `viewBox` (it scales with the page
and prints sharp). Every label passes through `html.escape`: segment names and feature names come
from the user's data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

LABEL_W, PLOT_W, ROW_H, PAD = 170, 400, 24, 30
BAR_LABEL_W = 290  # feature names are long
COLOURS = {"respondents": "#8a8f98", "model": "#2b6cb0", "corrected": "#c05621"}
GREY, BLUE, ORANGE = COLOURS.values()


@dataclass(frozen=True)
class IntervalRow:
    """One row of an interval chart: a label and its three figures (None where missing)."""

    label: str
    respondents: float | None
    model: float | None
    corrected: float | None
    interval: tuple[float, float] | None


def _svg(width: float, height: float, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="{width:.0f}" height="{height:.0f}" role="img" aria-label="{escape(label)}">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values spanning [lo, hi]."""
    raw = (hi - lo) / max(count, 1) or 1.0
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if step * m >= raw)
    return [k * step for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]


def _axis(lo: float, hi: float, x: Callable[[float], float], top: float, bottom: float) -> list[str]:
    parts = []
    for tick in _ticks(lo, hi):
        at = x(tick)
        parts.append(f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top}" y2="{bottom}" stroke="#e2e8f0"/>')
        parts.append(
            f'<text x="{at:.1f}" y="{bottom + 14}" font-size="11" text-anchor="middle">{tick:g}</text>'
        )
    return parts


def interval_chart(rows: Sequence[IntervalRow], label: str) -> str:
    """Per row: respondents (grey circle), model (blue square), corrected (orange diamond, 95% bar)."""
    values = [
        v for r in rows for v in (r.respondents, r.model, r.corrected, *(r.interval or ())) if v is not None
    ]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    margin = (hi - lo) * 0.05 or 1.0
    lo, hi = lo - margin, hi + margin

    def x(v: float) -> float:
        return LABEL_W + (v - lo) / (hi - lo) * PLOT_W

    height = PAD + len(rows) * ROW_H + PAD
    body = _axis(lo, hi, x, PAD - 6, PAD + len(rows) * ROW_H)
    for k, name in enumerate(COLOURS):
        body.append(f'<rect x="{LABEL_W + k * 120}" y="4" width="10" height="10" fill="{COLOURS[name]}"/>')
        body.append(f'<text x="{LABEL_W + k * 120 + 14}" y="13" font-size="11">{name}</text>')
    for i, row in enumerate(rows):
        y = PAD + i * ROW_H + ROW_H / 2
        body.append(
            f'<text x="{LABEL_W - 8}" y="{y + 4}" font-size="12" text-anchor="end">{escape(row.label)}</text>'
        )
        if row.interval is not None:
            a, b = (x(v) for v in row.interval)
            body.append(
                f'<line x1="{a:.1f}" x2="{b:.1f}" y1="{y}" y2="{y}" stroke="{ORANGE}" stroke-width="3"/>'
            )
        if row.respondents is not None:
            body.append(f'<circle cx="{x(row.respondents):.1f}" cy="{y}" r="5" fill="{GREY}"/>')
        if row.model is not None:
            body.append(f'<rect x="{x(row.model) - 4:.1f}" y="{y - 4}" width="8" height="8" fill="{BLUE}"/>')
        if row.corrected is not None:
            c = x(row.corrected)
            body.append(
                f'<path d="M{c:.1f} {y - 6}L{c + 6:.1f} {y}L{c:.1f} {y + 6}L{c - 6:.1f} {y}Z" '
                f'fill="{ORANGE}"/>'
            )
    return _svg(LABEL_W + PLOT_W + 20, height + 10, label, body)


def bar_chart(items: Sequence[tuple[str, float]], label: str, unit: str = "") -> str:
    """Horizontal bars from zero, one per item, the value written at the bar's end."""
    top = max((abs(v) for _, v in items), default=1.0) or 1.0
    left = BAR_LABEL_W
    body = []
    for i, (name, value) in enumerate(items):
        y = 6 + i * ROW_H
        width = abs(value) / top * (PLOT_W - 60)
        short = name if len(name) <= 44 else name[:43] + "…"
        body.append(
            f'<text x="{left - 8}" y="{y + 15}" font-size="12" text-anchor="end">{escape(short)}</text>'
        )
        body.append(f'<rect x="{left}" y="{y + 3}" width="{max(width, 1):.1f}" height="16" fill="#2b6cb0"/>')
        body.append(
            f'<text x="{left + width + 6:.1f}" y="{y + 15}" font-size="11">{value:.3g}{escape(unit)}</text>'
        )
    return _svg(left + PLOT_W + 20, 12 + len(items) * ROW_H, label, body)


def calibration_chart(points: Sequence[tuple[float, float, int]], label: str) -> str:
    """Observed against predicted share, on [0, 1] both ways; dot area follows the answers in a bin."""
    size, left, low = 220, 36, 240

    def px(v: float) -> float:
        return left + v * size

    def py(v: float) -> float:
        return low - v * size

    body = [
        f'<rect x="{left}" y="{low - size}" width="{size}" height="{size}" fill="none" stroke="#cbd5e0"/>'
    ]
    body.append(
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#a0aec0" stroke-dasharray="4 3"/>'
    )
    for tick in (0.0, 0.5, 1.0):
        body.append(
            f'<text x="{px(tick)}" y="{low + 14}" font-size="10" text-anchor="middle">{tick:g}</text>'
        )
        body.append(
            f'<text x="{left - 4}" y="{py(tick) + 4}" font-size="10" text-anchor="end">{tick:g}</text>'
        )
    path = " ".join(f"{px(p):.1f},{py(o):.1f}" for p, o, _ in points)
    body.append(f'<polyline points="{path}" fill="none" stroke="#c05621" stroke-width="2"/>')
    most = max((n for *_, n in points), default=1)
    for p, o, n in points:
        radius = 2 + 5 * math.sqrt(n / most)
        body.append(f'<circle cx="{px(p):.1f}" cy="{py(o):.1f}" r="{radius:.1f}" fill="{ORANGE}"/>')
    body.append(
        f'<text x="{left + size / 2}" y="{low + 28}" font-size="11" text-anchor="middle">predicted</text>'
    )
    return _svg(left + size + 12, low + 34, label, body)


LINE_COLOURS = ("#c05621", "#2b6cb0", "#2f855a", "#6b46c1", "#b7791f")


def line_chart(
    labels: Sequence[str], series: Mapping[str, Sequence[float | None]], label: str, unit: str = ""
) -> str:
    """One line per series over the labels (points at None left out), a legend above."""
    width, height, left, top = 560, 200, 44, 28
    values = [v for line in series.values() for v in line if v is not None]
    lo, hi = (min(values), max(values)) if values else (0.0, 1.0)
    lo, hi = (min(lo, 0.0), hi + ((hi - lo) * 0.1 or 1.0))
    step = (width - left - 20) / max(len(labels) - 1, 1)

    def px(i: int) -> float:
        return left + i * step

    def py(v: float) -> float:
        return top + (1 - (v - lo) / (hi - lo)) * (height - top - 24)

    body = []
    for tick in _ticks(lo, hi, 4):
        y = py(tick)
        body.append(f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{tick:g}</text>')
    for i, name in enumerate(labels):
        x = px(i)
        body.append(
            f'<text x="{x:.1f}" y="{height - 6}" font-size="10" text-anchor="middle">{escape(name)}</text>'
        )
    for k, (name, line) in enumerate(series.items()):
        colour = LINE_COLOURS[k % len(LINE_COLOURS)]
        body.append(f'<rect x="{left + k * 130}" y="6" width="10" height="10" fill="{colour}"/>')
        body.append(f'<text x="{left + k * 130 + 14}" y="15" font-size="11">{escape(name)}</text>')
        dots = [(px(i), py(v), v) for i, v in enumerate(line) if v is not None]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in dots)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v in dots:
            body.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(name)} '
                f"{v:.3g}{escape(unit)}</title></circle>"
            )
    return _svg(width, height, label, body)
