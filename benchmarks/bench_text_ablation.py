"""Does text help? The satisfaction and churn models with and without the text features, same split.

    python -m benchmarks.bench_text_ablation --customers 2000

The text heads learn only from answers before the holdout date and score labelled texts out of
fold, so the text features of a holdout answer carry nothing of the holdout period. Reuses the
company and the vector cache of `benchmarks.bench_text`. Writes the `text-ablation` section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from benchmarks.bench_text import OUT, company
from benchmarks.report import write_section
from features.config import WorkspaceConfig
from features.contract import TEXT_SCORES_TABLE
from features.validation import load_workspace
from pipelines.text import TextOptions, text_events, train_text
from training.pipeline import HoldoutSpec
from training.tracking import MlflowConfig
from training.workspace import train_from_tables

HOLDOUT = dt.date(2026, 1, 1)


def train(
    tables: dict[str, pd.DataFrame], config: WorkspaceConfig, folder: Path, holdout: dt.date = HOLDOUT
) -> dict[str, Any]:
    """Both models trained and evaluated on the time split at `holdout`, tracked in `folder`."""
    mlflow = MlflowConfig.model_validate(
        {"tracking_uri": f"sqlite:///{folder}/mlflow.db", "artifact_location": str(folder / "artifacts")}
    )
    return train_from_tables(tables, config, mlflow, HoldoutSpec(holdout_from=holdout))


def _figure(value: float | None) -> str:
    """A metric to three decimals; `–` where it is undefined (a holdout with one class)."""
    return "–" if value is None else f"{value:.3f}"


def rows(without: dict[str, Any], with_text: dict[str, Any]) -> list[str]:
    lines = ["| model | metric | without text | with text |", "|---|---|---:|---:|"]
    for metric, figures in sorted(without.get("satisfaction", {}).items()):
        for key in ("mae", "spearman", "auc_negative", "ece_negative"):
            after = with_text["satisfaction"][metric][key]
            lines.append(
                f"| satisfaction: {metric} (n test {figures['n_test']:,}) | {key} "
                f"| {_figure(figures[key])} | {_figure(after)} |"
            )
    for key in ("auc", "pr_auc", "brier"):
        lines.append(
            f"| churn | {key} | {_figure(without['churn'][key])} | {_figure(with_text['churn'][key])} |"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(2)
    loaded = load_workspace(company(args.customers, args.seed))
    holdout = pd.Timestamp(HOLDOUT, tz="UTC")
    options = TextOptions(holdout_from=holdout, learn_before=holdout)
    with tempfile.TemporaryDirectory() as temp:
        text = train_text(loaded.tables, loaded.config.scales, OUT / "ablation-models", options)
        without = train(dict(loaded.tables), loaded.config, Path(temp) / "without")
        tables = {**loaded.tables, TEXT_SCORES_TABLE: text_events(text.scores, text.models)}
        with_text = train(tables, loaded.config, Path(temp) / "with")
    body = [
        f"Company: {args.customers:,} customers, seed {args.seed}; "
        f"holdout: answers and cutoffs from {HOLDOUT}. "
        f"Text head: {text.models.head_kind} (best holdout AUC of the three), fitted on answers before "
        f"{HOLDOUT} only; text features: texts and negative texts per window (7/30/90/365 days, all time), "
        "mean/min/last predicted satisfaction, and per source (tickets, calls, verbatims, comments) "
        "negative texts per window and mean satisfaction; negative texts per theme.\n",
        *rows(without, with_text),
    ]
    write_section("text-ablation", "Text features: ablation", "\n".join(body))


if __name__ == "__main__":
    main()
