"""Benchmark: fit the satisfaction models on a 1M-row training set, against LightGBM's defaults.

The training set is synthetic but shaped like a real satisfaction set (258 features, 18 of them
categorical, NPS / CSAT / CES answers in the shares a company's surveys give), with scores read
from a hidden satisfaction driven by a few of the features. Both runs fit every model of every
metric (score, negative side, NPS classes) through `training.fitting.fit_satisfaction`; only
the booster settings differ, and both are judged on the same later holdout.

Usage: python -m benchmarks.bench_training [--rows N]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
import pandas as pd

from benchmarks.report import peak_rss_gib, write_section
from features.contract import DEFAULT_METRICS
from models.boosting import LARGE_SET, BoosterParams
from training.datasets import TrainingSet, split_latest
from training.evaluate import evaluate_satisfaction
from training.fitting import FitOptions, answers_per_metric, fit_satisfaction

NUMERIC, CATEGORICAL = 240, 18
METRIC_SHARE = {"nps": 0.48, "csat": 0.45, "ces": 0.07}
TARGET_S = 300.0
# LightGBM's own defaults at every size: 100 rounds (early stopping never ends them sooner), no refit
LIGHTGBM_DEFAULTS = BoosterParams(
    num_boost_round=100,
    learning_rate=0.1,
    num_leaves=31,
    min_data_in_leaf=20,
    feature_fraction=1.0,
    lambda_l2=0.0,
    max_bin=255,
    early_stopping_rounds=100,
    bagging_fraction=1.0,
    balance_classes=False,
    refit=False,
    large_rows=None,
)


def satisfaction_set(rows: int, seed: int = 0) -> TrainingSet:
    """A seeded satisfaction training set of `rows` answers shaped like the feature engine's."""
    rng = np.random.default_rng(seed)
    numeric = rng.gamma(1.0, 1.0, (rows, NUMERIC)).astype(np.float32)
    numeric[rng.random((rows, NUMERIC)) < 0.3] = np.nan  # windows with no events
    frame = pd.DataFrame(numeric, columns=[f"f{i:03d}" for i in range(NUMERIC)])
    for j in range(CATEGORICAL):
        levels = [f"level{k}" for k in range(3 + j % 6)]
        frame[f"c{j:02d}"] = pd.Categorical(rng.choice(levels, rows), categories=levels)
    hidden = 7.5 - 0.8 * np.nan_to_num(numeric[:, :6]).sum(axis=1) / 3 + rng.normal(0, 1.2, rows)
    hidden += np.where(frame["c00"].cat.codes.to_numpy() == 0, -0.6, 0.0)
    metric = rng.choice(list(METRIC_SHARE), rows, p=list(METRIC_SHARE.values()))
    frame["metric"] = pd.Categorical(metric)
    frame["responded_at"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(
        np.sort(rng.integers(0, 365 * 86400, rows)), "s"
    )
    frame["score"] = _scores(rng, hidden, metric)
    frame["customer_id"] = rng.integers(0, rows // 3, rows).astype(str)
    features = tuple(c for c in frame.columns if c[0] in "fc" and c != "customer_id")
    return TrainingSet(frame, features, "score", "responded_at", {f: f for f in features}, "satisfaction_v1")


def _scores(rng: np.random.Generator, hidden: np.ndarray, metric: np.ndarray) -> np.ndarray:
    noise = rng.normal(0, 1.0, len(hidden))
    nps = np.clip(np.rint(hidden + noise), 0, 10)
    csat = np.clip(np.rint(3.3 + 0.75 * (hidden - 7) + noise * 0.6), 1, 5)
    ces = np.clip(np.rint(3.0 - 0.65 * (hidden - 7) + noise * 0.7), 1, 7)
    return np.where(metric == "nps", nps, np.where(metric == "csat", csat, ces))


def timed_fit(train: TrainingSet, test: TrainingSet, params: BoosterParams) -> tuple[float, dict[str, float]]:
    """Seconds to fit every satisfaction model, and each metric's holdout AUC of the negative side."""
    start = time.perf_counter()
    predictor = fit_satisfaction(train, DEFAULT_METRICS, FitOptions(params=params))
    seconds = time.perf_counter() - start
    metrics = evaluate_satisfaction(
        predictor.predict(test.X), test, answers_per_metric(train, predictor), DEFAULT_METRICS
    )
    return seconds, {m: float(v["auc_negative"]) for m, v in metrics.items()}


def main() -> None:
    """Fit with the project's settings and with LightGBM's defaults; write the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="training-set rows (answers)")
    rows = parser.parse_args().rows
    data = satisfaction_set(rows)
    train, test = split_latest(data, share=0.05)  # a small holdout: the fit is what is timed
    ours, ours_auc = timed_fit(train, test, BoosterParams())
    default, default_auc = timed_fit(train, test, LIGHTGBM_DEFAULTS)
    verdict = "met" if ours < TARGET_S else "NOT met"
    changed = {
        k: v for k, v in dataclasses.asdict(LIGHTGBM_DEFAULTS).items() if v != getattr(BoosterParams(), k)
    }
    body = f"""Training set: {len(train):,} synthetic satisfaction answers ({len(data.features)} features, \
{CATEGORICAL} categorical; NPS / CSAT / CES {" / ".join(f"{s:.0%}" for s in METRIC_SHARE.values())}), \
holdout the latest {len(test):,}. Every model of every metric is fitted (score, negative side, NPS classes), \
and NPS's model without past answers with its six halves (`Predictor.experience`, `experience_halves`).

| booster settings | fit time | AUC negative side (nps / csat / ces) |
|---|---|---|
| project defaults (`BoosterParams()`, chosen per metric by size) | {ours:.0f} s | {_aucs(ours_auc)} |
| LightGBM defaults ({_params(changed)}) | {default:.0f} s | {_aucs(default_auc)} |

Ratio LightGBM defaults / project defaults: {default / ours:.2f}x. Peak memory {peak_rss_gib():.1f} GiB.
Target: fit under {TARGET_S:.0f} s on 2 cores: {verdict} ({ours:.0f} s).

The project's defaults switch to the large-set settings ({_params(LARGE_SET)}) for a metric with \
{BoosterParams().large_rows:,} answers or more (here NPS and CSAT; CES keeps the small-set settings), \
and a metric's score, negative-side and class models share one binning of their rows.
"""
    write_section("training", "Model training (satisfaction, 1M rows)", body)
    print(body)


def _aucs(aucs: dict[str, float]) -> str:
    return " / ".join(f"{aucs.get(m, float('nan')):.3f}" for m in METRIC_SHARE)


def _params(changed: dict[str, object]) -> str:
    return ", ".join(f"{k}={v}" for k, v in changed.items())


if __name__ == "__main__":
    main()
