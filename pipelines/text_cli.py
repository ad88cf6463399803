"""`cxpredict text …`: train a workspace's text models and score one text with them.

Heavy imports (torch, transformers) happen inside the commands, so `cxpredict --help` stays fast.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast

import pandas as pd
import typer
from rich.console import Console

if TYPE_CHECKING:
    from models.text.fitting import HeadResult
    from models.text.heads import HeadKind
    from models.text.themes import Theme

EXIT_INVALID = 2
DEFAULT_MODELS = Path("demo-workspace") / "_text_models"
HeadChoice = Literal["auto", "tfidf", "linear", "mlp", "stacked"]

text_app = typer.Typer(
    help="Score texts: redacted text, predicted satisfaction, sentiment and theme.", no_args_is_help=True
)
console = Console()


def _utc(moment: pd.Timestamp) -> pd.Timestamp:
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


@text_app.command("train")
def train(
    workspace: Annotated[
        Path, typer.Argument(help="Workspace whose texts and survey answers to learn from.")
    ],
    head: Annotated[
        str, typer.Option(help="auto (best holdout AUC), tfidf (the plain baseline), linear, mlp or stacked.")
    ] = "auto",
    encoder: Annotated[bool, typer.Option(help="Use the transformer encoder (off: TF-IDF only).")] = True,
    quantize: Annotated[
        bool,
        typer.Option(
            help="Run the encoder as dynamic int8: about twice as fast on CPU, vectors that move a little "
            "with their batch (off: float32)."
        ),
    ] = False,
    model_path: Annotated[
        Path | None, typer.Option(help="Local Hugging Face model folder (default: the packaged MiniLM).")
    ] = None,
    themes: Annotated[int, typer.Option(min=2, help="Number of themes of negative texts.")] = 10,
    holdout_from: Annotated[
        dt.datetime | None,
        typer.Option(help="Start of the comparison's test period (default: latest fifth)."),
    ] = None,
    holdout_customers: Annotated[
        float | None,
        typer.Option(
            help="Compare the heads on this share of customers held out (default: by time where the "
            "answers carry two or more dates, else 0.2 of customers)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of heads, folds, themes and the customer holdout.")] = 0,
    learn_before: Annotated[
        dt.datetime | None,
        typer.Option(help="Fit the final heads only on answers before this moment (honest ablations)."),
    ] = None,
    write_events: Annotated[
        bool,
        typer.Option(help="Write WORKSPACE/text_scores.parquet, the table the text features come from."),
    ] = True,
) -> None:
    """Train the text models into WORKSPACE/_text_models and score every text.

    The scores land in WORKSPACE/text_scores.parquet, which `cxpredict train` then turns into text
    features (per window, source and theme) with no further config.
    """
    from features.config import ConfigError, load_config
    from features.problems import WorkspaceError
    from features.validation import load_workspace
    from models.text.bundle import TEXT_MODELS_FOLDER
    from models.text.encoder import EncoderConfig
    from pipelines.text import TextOptions, train_text, write_text_events
    from pipelines.text_progress import progress_bars

    if head not in ("auto", "tfidf", "linear", "mlp", "stacked"):
        raise typer.BadParameter(f"--head must be auto, tfidf, linear, mlp or stacked, got {head!r}")
    holdout = None if holdout_from is None else _utc(pd.Timestamp(holdout_from))
    before = None if learn_before is None else _utc(pd.Timestamp(learn_before))
    if not encoder and head not in ("auto", "tfidf"):
        raise typer.BadParameter(f"--head {head} reads the encoder's vectors; drop --no-encoder or use tfidf")
    if holdout is not None and holdout_customers is not None:
        raise typer.BadParameter("give --holdout-from or --holdout-customers, not both")
    options = TextOptions(
        cast(HeadChoice, head),
        encoder,
        EncoderConfig(model_path=model_path, quantize=quantize),
        holdout,
        themes,
        seed,
        before,
        holdout_customers,
    )
    try:
        loaded = load_workspace(workspace, load_config(workspace))
        with progress_bars(console) as report:
            result = train_text(
                loaded.tables,
                loaded.config.scales,
                workspace / TEXT_MODELS_FOLDER,
                options,
                say=lambda line: console.print(f"  {line}", markup=False, soft_wrap=True),
                report=report,
            )
    except (ConfigError, WorkspaceError, ValueError, FileNotFoundError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    for line in comparison_lines(result.comparison, result.models.head_kind):
        console.print(f"  {line}", markup=False)
    for row in result.models.metrics["themes"]:
        console.print(f"  {theme_line(row, result.models.theme_of(int(row['theme'])))}", markup=False)
    console.print(f"[green]✓ {len(result.scores):,} texts scored → {workspace / TEXT_MODELS_FOLDER}[/]")
    if write_events:
        path = write_text_events(workspace, result.scores, result.models)
        console.print(f"[green]✓ text features' table → {path}[/]")


def comparison_lines(comparison: Mapping[HeadKind, HeadResult], chosen: str) -> list[str]:
    """The head comparison as printed after every run: AUC per head beside the plain TF-IDF baseline."""
    from models.text.heads import BASELINE

    base = comparison[BASELINE].auc
    lines = []
    for kind, figures in comparison.items():
        versus = "the plain baseline" if kind == BASELINE else f"{figures.auc - base:+.4f} vs {BASELINE}"
        mark = " ← chosen" if kind == chosen else ""
        lines.append(
            f"{kind}: AUC(negative) {figures.auc:.4f} ({versus}) on {figures.n_test:,} holdout texts{mark}"
        )
    return lines


def theme_line(row: Mapping[str, Any], theme: Theme | None) -> str:
    """One theme's summary, its next answers on the metric's own scale (CSAT 1-5 reads x/5)."""
    label = theme.label if theme else ""
    answered = f"no {row['metric'] or 'survey'} answer after its texts"
    if pd.notna(row["next_answer"]):
        answered = (
            f"next {row['metric']} answer {row['next_answer']:.1f}/{row['high']:g} "
            f"({row['moves']:+.1f} vs all texts)"
        )
    return f"theme {row['theme']}: {label} — {row['customers']:,} customers, {answered}"


@text_app.command("score")
def score(
    text: Annotated[str, typer.Argument(help="The text to score (it is redacted before anything else).")],
    models: Annotated[Path, typer.Option(help="Folder of trained text models.")] = DEFAULT_MODELS,
    source: Annotated[
        str | None, typer.Option(help="Where the text comes from: tickets, calls, verbatims or surveys.")
    ] = None,
) -> None:
    """Score one text: redacted text, satisfaction (0-10), negative probability, sentiment, theme."""
    from models.text.bundle import VECTOR_CACHE
    from models.text.scorer import TextScorer

    try:
        scorer = TextScorer.load(models, cache_path=models / VECTOR_CACHE)
    except (FileNotFoundError, ValueError) as exc:
        console.print(str(exc), style="red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from exc
    print(json.dumps(dataclasses.asdict(scorer.score(text, source)), ensure_ascii=False))
