"""Benchmark: the label-free AUC estimate (CBPE) against the realised AUC, month by month.

A generated company's models are fitted on its first nine months; the next three months are the
labelled reference period on which CBPE fits its calibration (`ReferenceCalibrator`), as NannyML
does; every later month is then scored without labels: churn on the customers active at the
month's first day (labelled by churn within the next 90 days), detractors and dissatisfied CSAT on
that month's survey answers. Churn, as `monitor` does, calibrates each month on the newest
labelled bases instead, in isotonic steps: the three monthly bases up to one horizon (90 days)
earlier, whose labels are complete by the month's first day, leaving out any whose horizon
overlaps the training cutoffs' (a fixed reference lets the estimate drift with the model's
scores: it ran 0.03 above the realised AUC within a few months). Each window's expected AUC
from the probabilities alone (the model's own, and recalibrated on the reference) is set beside
the AUC the labels give and that AUC's standard error (Hanley and McNeil): a window whose
realised AUC is itself uncertain by more than the tolerance cannot be judged to it.
Target: the recalibrated estimate within 0.03 of the realised AUC in at least 80% of the windows.

Fitted models are kept in `--cache` (keyed by the training rows' digest), so a rerun on the same
company skips the fitting; remove the folder after changing how models are fitted.

Usage: nice -n 10 python -m benchmarks.bench_cbpe [--customers N] [--seed S] [--cache DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from benchmarks.report import write_section
from features.config import WorkspaceConfig
from features.training_sets import build_churn_set
from features.validation import load_workspace
from pipelines.synthetic import generate_company
from training.datasets import TrainingSet
from training.fitting import fit_churn, fit_satisfaction
from training.monitoring.cbpe import IsotonicCalibrator, ReferenceCalibrator, expected_auc
from training.monitoring.current import LABELLED_BASES
from training.workspace import churn_training_set, constrained, prepared

REFERENCE_FROM = pd.Timestamp("2025-04-01", tz="UTC")  # the company runs from mid-2024 to mid-2026
TRAIN_UNTIL = pd.Timestamp("2025-07-01", tz="UTC")  # the end of the reference period
CHURN_TRAIN = pd.date_range("2024-10-01", "2025-01-01", freq="MS", tz="UTC")
CHURN_LATER = pd.date_range("2025-04-01", "2026-04-01", freq="MS", tz="UTC")  # 90 days of labels each
CHURN_WINDOWS = CHURN_LATER[CHURN_LATER >= TRAIN_UNTIL]
TOLERANCE, TARGET_SHARE = 0.03, 0.8


def fitted(cache: Path | None, name: str, train: TrainingSet, fit: Callable[[], Any]) -> Any:
    """`fit()`, or the model a previous run fitted on the same rows, kept in `cache`."""
    if cache is None:
        return fit()
    path = cache / f"{name}-{train.digest()[:16]}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    model = fit()
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(model))
    return model


def churn_windows(
    tables: dict[str, pd.DataFrame], config: WorkspaceConfig, cache: Path | None = None
) -> list[dict[str, object]]:
    """One row per monthly cutoff after training: rows, churn rate, estimated and realised AUC.

    As `monitor` does, CBPE calibrates each window on the newest bases whose labels are complete by
    the window's moment (up to one horizon earlier), which the model never saw: none whose horizon
    overlaps the training cutoffs' horizons.
    """
    built = build_churn_set(tables, config, list(CHURN_TRAIN))
    train = churn_training_set(built, config.churn.horizon_days)
    model = fitted(cache, "churn", train, lambda: fit_churn(train, constrained(None, built)).churn)
    later = build_churn_set(tables, config, list(CHURN_LATER)).frame
    p_all, churned = model.predict_proba(later[list(train.features)]), later["churned"].to_numpy()
    horizon = pd.Timedelta(days=config.churn.horizon_days)
    unseen = [c for c in CHURN_LATER if c >= CHURN_TRAIN[-1] + horizon]
    rows = []
    for cutoff in CHURN_WINDOWS:
        pool = [c for c in unseen if c <= cutoff - horizon][-LABELLED_BASES:]
        reference = later["cutoff"].isin(pool).to_numpy()
        calibrator = IsotonicCalibrator().fit(p_all[reference], churned[reference])
        mine = (later["cutoff"] == cutoff).to_numpy()
        rows.append(_row("churn", cutoff, churned[mine], p_all[mine], calibrator))
    return rows


def survey_windows(
    tables: dict[str, pd.DataFrame], config: WorkspaceConfig, cache: Path | None = None
) -> list[dict[str, object]]:
    """One row per (metric, month) after training, for each metric's negative side."""
    built, options = prepared("satisfaction", tables, config)
    times = pd.to_datetime(built.frame["responded_at"])
    train = dataclasses.replace(built, frame=built.frame.loc[times < REFERENCE_FROM])
    predictor = fitted(cache, "satisfaction", train, lambda: fit_satisfaction(train, config.scales, options))
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
    risk: str,
    start: pd.Timestamp,
    labels: np.ndarray,
    p: np.ndarray,
    calibrator: ReferenceCalibrator | IsotonicCalibrator,
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
        "realised SE": hanley_mcneil(realised, int(labels.sum()), int(len(labels) - labels.sum())),
        "error": abs(float(estimated or np.nan) - realised),
    }


def hanley_mcneil(auc: float, positives: int, negatives: int) -> float:
    """The standard error of an AUC measured on `positives` and `negatives` rows (Hanley & McNeil, 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = auc * (1 - auc) + (positives - 1) * (q1 - auc**2) + (negatives - 1) * (q2 - auc**2)
    return float(np.sqrt(variance / (positives * negatives))) if positives and negatives else float("nan")


def summary(table: pd.DataFrame) -> str:
    """Per model and overall: windows within the tolerance, mean and worst error."""
    lines = [
        "| model | windows | within 0.03 | mean error | worst error | mean realised SE |",
        "|---|---|---|---|---|---|",
    ]
    table = table.dropna(subset=["error"])  # a window with one class has no realised AUC
    groups = [*table.groupby("model", sort=False), ("all", table)]
    for risk, rows in groups:
        error = rows["error"]
        within = (error <= TOLERANCE).mean()
        noise = rows["realised SE"].mean()
        lines.append(
            f"| {risk} | {len(rows)} | {within:.0%} | {error.mean():.3f} | {error.max():.3f} | {noise:.3f} |"
        )
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
    parser.add_argument("--cache", type=Path, default=None, help="keep fitted models here for reruns")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        generate_company(Path(folder), customers=args.customers, seed=args.seed)
        loaded = load_workspace(Path(folder))
        table = pd.DataFrame(
            churn_windows(loaded.tables, loaded.config, args.cache)
            + survey_windows(loaded.tables, loaded.config, args.cache)
        )
    elapsed = time.perf_counter() - started
    cached = f" (fitted models from `{args.cache}` where a previous run left them)" if args.cache else ""
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(summary(table))
    body = (
        f"{args.customers:,} generated customers (seed {args.seed}); models fitted on the data before "
        f"{REFERENCE_FROM:%Y-%m-%d}; CBPE calibrated on the three months after for the surveys, and for "
        f"churn, in isotonic steps, on the {LABELLED_BASES} monthly bases up to one horizon (90 days) before "
        "each month, the newest whose labels are complete then, none whose horizon overlaps the training "
        f"cutoffs' (as `monitor` does); every month from {TRAIN_UNTIL:%Y-%m-%d} judged without its labels. "
        "`error` = |estimated - realised|; `realised SE`: the realised AUC's own standard error "
        "(Hanley-McNeil), its noise from the window's size alone; "
        f"{elapsed:.0f} s in all{cached}.\n\n"
        f"{summary(table)}\n\n{markdown(table)}\n"
    )
    write_section("cbpe", "Label-free performance estimate (CBPE) against realised AUC", body)


if __name__ == "__main__":
    main()
