"""Model quality on the generated company against its oracle, with and without the text features.

    python -m benchmarks.bench_quality --customers 30000 [--encoder]

Time split: answers and churn cutoffs from 2026-03-15 on are the holdout. The text heads learn
only from answers before it and score labelled texts out of fold, so the text features of a
holdout example carry nothing of the holdout period. The bars are issue 5's: AUC − 0.5 at least
90% of the oracle's (the generator's own latent satisfaction and churn hazard), and an expected
calibration error of at most 0.02. Writes the `quality` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_text import company
from benchmarks.bench_text_ablation import train
from benchmarks.report import write_section
from features.contract import TEXT_SCORES_TABLE
from features.validation import load_workspace
from models.calibration import expected_calibration_error
from pipelines.text import TextOptions, text_events, train_text

OUT = Path("bench-out") / "quality"
HOLDOUT = pd.Timestamp("2026-03-15", tz="UTC")
ECE_BAR = 0.02


def ece_noise(n: int, positive_rate: float, draws: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated model scores on `n` examples by chance alone (median)."""
    rng = np.random.default_rng(seed)
    scores = []
    for _ in range(draws):
        p = rng.beta(1.0, (1 - positive_rate) / positive_rate, n)
        scores.append(expected_calibration_error(rng.random(n) < p, p))
    return float(np.median(scores))


def verdict_rows(without: dict[str, Any], with_text: dict[str, Any], truth: dict[str, Any]) -> list[str]:
    """One row per judged figure: both runs, the bar and whether the model with text meets it."""
    bar_detractor = 0.5 + 0.9 * (truth["oracle_auc_detractor"] - 0.5)
    bar_churn = 0.5 + 0.9 * (truth["oracle_auc_churn"] - 0.5)
    nps_before, nps = without["satisfaction"]["nps"], with_text["satisfaction"]["nps"]
    churn_before, churn = without["churn"], with_text["churn"]
    judged = [
        ("detractor AUC (nps)", nps_before["auc_negative"], nps["auc_negative"], bar_detractor, True),
        ("churn AUC", churn_before["auc"], churn["auc"], bar_churn, True),
        ("churn ECE", churn_before["ece"], churn["ece"], ECE_BAR, False),
    ]
    for metric, figures in sorted(with_text["satisfaction"].items()):
        before = without["satisfaction"][metric]["ece_negative"]
        judged.append((f"{metric} negative-side ECE", before, figures["ece_negative"], ECE_BAR, False))
    lines = ["| figure | without text | with text | bar | with text meets it |", "|---|---:|---:|---:|---|"]
    for name, before, after, bar, higher in judged:
        met = after >= bar if higher else after <= bar
        sign = "≥" if higher else "≤"
        lines.append(f"| {name} | {before:.4f} | {after:.4f} | {sign} {bar:.4f} | {'yes' if met else 'NO'} |")
    return lines


def noise_lines(with_text: dict[str, Any]) -> list[str]:
    """The ECE a perfect model would score by chance on each holdout's size."""
    lines = []
    for metric, figures in sorted(with_text["satisfaction"].items()):
        floor = ece_noise(int(figures["n_test"]), 0.25)
        lines.append(f"{metric}: {int(figures['n_test']):,} holdout answers, chance ECE ≈ {floor:.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoder", action="store_true", help="Let the transformer heads compete too.")
    args = parser.parse_args()
    folder = company(args.customers, args.seed, OUT)
    truth = json.loads((folder / "_truth" / "summary.json").read_text())
    loaded = load_workspace(folder)
    start = time.perf_counter()
    options = TextOptions(use_encoder=args.encoder, holdout_from=HOLDOUT, learn_before=HOLDOUT)
    text = train_text(loaded.tables, loaded.config.scales, OUT / f"text-models-{args.customers}", options)
    text_seconds = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as temp:
        without = train(dict(loaded.tables), loaded.config, Path(temp) / "without", HOLDOUT.date())
        tables = {**loaded.tables, TEXT_SCORES_TABLE: text_events(text.scores, text.models)}
        with_text = train(tables, loaded.config, Path(temp) / "with", HOLDOUT.date())
    heads = ", ".join(f"{k} {r.auc:.3f}" for k, r in text.comparison.items())
    body = [
        f"Company: {args.customers:,} customers, seed {args.seed}; holdout: answers and churn cutoffs "
        f"from {HOLDOUT.date()} on. Oracle AUC detractor {truth['oracle_auc_detractor']:.4f}, "
        f"churn {truth['oracle_auc_churn']:.4f}.\n",
        f"Text: {len(text.scores):,} texts scored in {text_seconds:.0f} s; head chosen: "
        f"{text.models.head_kind} (holdout AUC of negative texts: {heads}); heads fitted on answers "
        f"before {HOLDOUT.date()} only.\n",
        *verdict_rows(without, with_text, truth),
        "\nHow much of an ECE is chance (a perfectly calibrated model, simulated on each holdout's size "
        "with probabilities drawn from Beta(1, 3), a 25% negative side; median of 200 draws):",
        *[f"- {line}" for line in noise_lines(with_text)],
    ]
    write_section("quality", "Model quality against the oracle (generated company)", "\n".join(body))


if __name__ == "__main__":
    main()
