"""The evaluation report: PNG plots per model and one self-contained HTML page that embeds them.

Each model gets ROC, precision-recall, calibration, gain and lift by decile, and feature importance.

Plots use matplotlib's object API (`Figure`), which draws with Agg and touches no global state.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray
from sklearn.metrics import precision_recall_curve, roc_curve

Plot = Callable[[Axes, NDArray[np.int_], NDArray[np.float64]], None]


@dataclass(frozen=True)
class ReportSection:
    """One model's holdout outcome (churn, or a survey metric's negative side).

    Attributes:
        labels: 0/1 bad outcomes on the holdout.
        probabilities: the calibrated probabilities for the same rows.
        importance: feature -> total gain in the trees.
    """

    name: str
    labels: ArrayLike
    probabilities: ArrayLike
    importance: pd.Series
    metrics: dict[str, Any] = field(default_factory=dict)


def _roc(ax: Axes, y: NDArray[np.int_], p: NDArray[np.float64]) -> None:
    fpr, tpr, _ = roc_curve(y, p)
    ax.plot(fpr, tpr)
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")


def _precision_recall(ax: Axes, y: NDArray[np.int_], p: NDArray[np.float64]) -> None:
    precision, recall, _ = precision_recall_curve(y, p)
    ax.plot(recall, precision)
    ax.axhline(y.mean(), linestyle=":", color="grey")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall")


def _calibration(ax: Axes, y: NDArray[np.int_], p: NDArray[np.float64]) -> None:
    bins = np.minimum((p * 10).astype(int), 9)
    frame = pd.DataFrame({"bin": bins, "y": y, "p": p}).groupby("bin").mean()
    ax.plot(frame["p"], frame["y"], marker="o")
    ax.plot([0, 1], [0, 1], linestyle=":", color="grey")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration (10 bins)")


def _gain(ax: Axes, y: NDArray[np.int_], p: NDArray[np.float64]) -> None:
    ordered = y[np.argsort(-p, kind="stable")]
    deciles = np.array_split(ordered, 10)
    captured = np.cumsum([d.sum() for d in deciles]) / max(ordered.sum(), 1)
    lift = [d.mean() / max(ordered.mean(), 1e-12) for d in deciles]
    x = np.arange(1, 11)
    ax.plot(x, captured, marker="o", label="cumulative gain")
    ax.bar(x, np.array(lift) / max(max(lift), 1e-12), alpha=0.3, label="lift (scaled to max)")
    ax.set(
        xlabel="decile by predicted risk", ylabel="share", title=f"Gain and lift (top lift {lift[0]:.1f}x)"
    )
    ax.legend()


PLOTS: dict[str, Plot] = {
    "roc": _roc,
    "precision_recall": _precision_recall,
    "calibration": _calibration,
    "gain": _gain,
}


def _importance(ax: Axes, importance: pd.Series) -> None:
    top = importance.sort_values().tail(15)
    ax.barh([str(i) for i in top.index], top.to_numpy())
    ax.set(xlabel="total gain", title="Feature importance")


def _save(draw: Callable[[Axes], None], path: Path, left: float = 0.14) -> Path:
    figure = Figure(figsize=(5, 4), dpi=90)
    # fixed margins: an automatic tight layout costs more time than drawing the plot
    figure.subplots_adjust(left=left, bottom=0.12, right=0.97, top=0.92)
    draw(figure.add_subplot())
    figure.savefig(path)
    return path


def _apply(plot: Plot, y: NDArray[np.int_], p: NDArray[np.float64], ax: Axes) -> None:
    plot(ax, y, p)


def write_section_plots(section: ReportSection, folder: Path) -> list[Path]:
    """Draw the five PNGs of one section into `folder`; returns their paths."""
    y, p = np.asarray(section.labels, dtype=int), np.asarray(section.probabilities, dtype=float)
    paths = []
    if len(np.unique(y)) == 2:  # rank and calibration curves need both outcomes
        for name, plot in PLOTS.items():
            paths.append(_save(partial(_apply, plot, y, p), folder / f"{section.name}_{name}.png"))
    paths.append(
        _save(lambda ax: _importance(ax, section.importance), folder / f"{section.name}_importance.png")
    )
    return paths


def write_report(sections: Sequence[ReportSection], folder: Path, title: str) -> Path:
    """Write every section's PNGs and `report.html` (images embedded) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.name)}</h2>")
        parts.append(f"<pre>{html.escape(json.dumps(section.metrics, indent=1))}</pre>")
        for path in write_section_plots(section, folder):
            data = base64.b64encode(path.read_bytes()).decode()
            parts.append(f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">')
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
    page += f"<body>{''.join(parts)}</body></html>"
    out = folder / "report.html"
    out.write_text(page, encoding="utf-8")
    return out
