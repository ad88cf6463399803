"""Benchmark: the label-free AUC estimate (CBPE) against the realised AUC, month by month.

A generated company's models are fitted on its first nine months; the next three months are the
labelled reference period on which CBPE fits its calibration (`ReferenceCalibrator`), as NannyML
does; every later month is then scored without labels: churn on the customers active at the
month's first day (labelled by churn within the next 90 days), detractors and dissatisfied CSAT on
that month's survey answers. Each window's expected AUC from the probabilities alone (the model's
own, and recalibrated on the reference) is set beside the AUC the labels give.
Target: the recalibrated estimate within 0.03 of the realised AUC in at least 80% of the windows.

Usage: nice -n 10 python -m benchmarks.bench_cbpe [--customers N] [--seed S]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from benchmarks.report import write_section
from features.config import WorkspaceConfig
from features.training_sets import build_churn_set, build_satisfaction_set
from features.validation import load_workspace
from pipelines.synthetic import generate_company
from training.fitting import FitOptions, fit_churn, fit_satisfaction
from training.monitoring.cbpe import ReferenceCalibrator, expected_auc
from training.workspace import as_training_set

REFERENCE_FROM = pd.Timestamp("2025-04-01", tz="UTC")  # the company runs from mid-2024 to mid-2026
TRAIN_UNTIL = pd.Timestamp("2025-07-01", tz="UTC")  # the end of the reference period
CHURN_TRAIN = pd.date_range("2024-10-01", "2025-01-01", freq="MS", tz="UTC")
CHURN_REFERENCE = pd.date_range("2025-02-01", "2025-04-01", freq="MS", tz="UTC")  # labels end by 2025-07
CHURN_WINDOWS = pd.date_range("2025-07-01", "2026-04-01", freq="MS", tz="UTC")  # 90 days of labels each
TOLERANCE, TARGET_SHARE = 0.03, 0.8


def churn_windows(tables: dict[str, pd.DataFrame], config: WorkspaceConfig) -> list[dict[str, object]]:
    """One row per monthly cutoff after training: rows, churn rate, estimated and realised AUC."""
    train = as_training_set(build_churn_set(tables, config, list(CHURN_TRAIN)))
    model = fit_churn(train, FitOptions()).churn
    assert model is not None
    later = build_churn_set(tables, config, list(CHURN_REFERENCE) + list(CHURN_WINDOWS)).frame
    p_all, churned = model.predict_proba(later[list(train.features)]), later["churned"].to_numpy()
    reference = (later["cutoff"] < TRAIN_UNTIL).to_numpy()
    calibrator = ReferenceCalibrator().fit(p_all[reference], churned[reference])
    rows = []
    for cutoff in sorted(set(later.loc[~reference, "cutoff"])):
        mine = (later["cutoff"] == cutoff).to_numpy()
        rows.append(_row("churn", pd.Timestamp(cutoff), churned[mine], p_all[mine], calibrator))
    return rows


def survey_windows(tables: dict[str, pd.DataFrame], config: WorkspaceConfig) -> list[dict[str, object]]:
    """One row per (metric, month) after training, for each metric's negative side."""
    built = as_training_set(build_satisfaction_set(tables, config))
    times = pd.to_datetime(built.frame["responded_at"])
    train = dataclasses.replace(built, frame=built.frame.loc[times < REFERENCE_FROM])
    predictor = fit_satisfaction(train, config.scales, FitOptions())
    rows = []
    for metric, model in predictor.metrics.items():
        answers = built.frame.loc[
            (times >= REFERENCE_FROM).to_numpy() & (built.frame["metric"].astype(str) == metric)
        ]
        labels = answers["score"].map(model.scale.is_negative).astype(int).to_numpy()
        p = model.negative_.predict_proba(answers[list(built.features)])
        at = pd.to_datetime(answers["responded_at"])
        reference = (at < TRAIN_UNTIL).to_numpy()
        calibrator = ReferenceCalibrator().fit(p[reference], labels[reference])
        month = at.dt.tz_localize(None).dt.to_period("M").to_numpy()
        for period in sorted(set(month[~reference])):
            mine = month == period
            start = period.start_time.tz_localize("UTC")
            rows.append(_row(f"{metric} negative", start, labels[mine], p[mine], calibrator))
    return rows


def _row(
    risk: str, start: pd.Timestamp, labels: np.ndarray, p: np.ndarray, calibrator: ReferenceCalibrator
) -> dict[str, object]:
    realised = roc_auc_score(labels, p) if 0 < labels.sum() < len(labels) else float("nan")
    estimated = expected_auc(calibrator.transform(p))
    return {
        "model": risk,
        "window": f"{start:%Y-%m}",
        "rows": len(labels),
        "positives": int(labels.sum()),
        "mean p": float(np.mean(p)),
        "model's own estimate": expected_auc(p),
        "estimated AUC": estimated,
        "realised AUC": realised,
        "error": abs(float(estimated or np.nan) - realised),
    }


def summary(table: pd.DataFrame) -> str:
    """Per model and overall: windows within the tolerance, mean and worst error."""
    lines = ["| model | windows | within 0.03 | mean error | worst error |", "|---|---|---|---|---|"]
    table = table.dropna(subset=["error"])  # a window with one class has no realised AUC
    groups = [*table.groupby("model", sort=False), ("all", table)]
    for risk, rows in groups:
        error = rows["error"]
        within = (error <= TOLERANCE).mean()
        lines.append(f"| {risk} | {len(rows)} | {within:.0%} | {error.mean():.3f} | {error.max():.3f} |")
    verdict = "met" if (table["error"] <= TOLERANCE).mean() >= TARGET_SHARE else "not met"
    return (
        "\n".join(lines)
        + f"\n\nTarget (within {TOLERANCE} in ≥{TARGET_SHARE:.0%} of windows): **{verdict}**."
    )


def markdown(table: pd.DataFrame) -> str:
    """The per-window table in Markdown."""
    cells = [
        [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row] for row in table.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        generate_company(Path(folder), customers=args.customers, seed=args.seed)
        loaded = load_workspace(Path(folder))
        table = pd.DataFrame(
            churn_windows(loaded.tables, loaded.config) + survey_windows(loaded.tables, loaded.config)
        )
    elapsed = time.perf_counter() - started
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(summary(table))
    body = (
        f"{args.customers:,} generated customers (seed {args.seed}); models fitted on the data before "
        f"{REFERENCE_FROM:%Y-%m-%d}, CBPE calibrated on the three months after, every month from "
        f"{TRAIN_UNTIL:%Y-%m-%d} judged without its labels. `error` = |estimated - realised|; "
        f"{elapsed:.0f} s in all.\n\n"
        f"{summary(table)}\n\n{markdown(table)}\n"
    )
    write_section("cbpe", "Label-free performance estimate (CBPE) against realised AUC", body)


if __name__ == "__main__":
    main()
