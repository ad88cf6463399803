"""The demo flow: generate a company when the workspace has none, then run every built step."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from features.io import find_tables
from features.summary import summarise
from features.validation import ValidationReport, validate_workspace
from pipelines.demo_rules import write_demo_rules
from pipelines.render import headline_lines, insight_lines, print_problems, print_summary, score_lines
from pipelines.synthetic import generate_company

Step = Callable[[Console, ValidationReport], None]
MLFLOW_FILE = Path("mlflow.yml")  # beside the working directory; MLFLOW_TRACKING_URI wins over it
# The demo's encoder: int8 linear layers and 64 tokens of a long text (its first and last 32: a
# call's opening states the problem, its close how the customer left). Call transcripts are most of
# the encoding; this keeps the demo within a few minutes on 2 cores, and the heads are still judged
# against the TF-IDF baseline on the same split (docs/benchmarks.md has both figures).
DEMO_TEXT_TOKENS = 64


def score_texts(console: Console, report: ValidationReport, *, encoder: bool = True) -> None:
    """Train the text models and score every text into the workspace's `text_scores` table.

    The heads learn only from answers before the evaluation's holdout (the latest 20% of time), so
    the text features of a holdout answer know nothing of that period and the metrics stay honest.
    """
    from features.contract import TABLES, TEXT_SCORES_TABLE
    from features.validation import to_typed
    from models.text.bundle import TEXT_MODELS_FOLDER
    from models.text.encoder import EncoderConfig
    from pipelines.text import TextOptions, text_events, train_text, write_text_events
    from pipelines.text_cli import comparison_lines
    from pipelines.text_progress import progress_bars
    from training.datasets import latest_cut

    if "surveys" not in report.tables:
        console.print("  no survey answers to learn from: no text features")
        return
    cut = latest_cut(report.tables["surveys"]["responded_at"])
    settings = EncoderConfig(quantize=True, text_tokens=DEMO_TEXT_TOKENS)
    options = TextOptions(use_encoder=encoder, learn_before=cut, encoder=settings)
    with progress_bars(console) as progress:
        result = train_text(
            report.tables,
            report.config.scales,
            report.workspace / TEXT_MODELS_FOLDER,
            options,
            say=lambda line: console.print(f"  {line}", markup=False, soft_wrap=True),
            report=progress,
        )
    for line in comparison_lines(result.comparison, result.models.head_kind):
        console.print(f"    {line}", markup=False)
    path = write_text_events(report.workspace, result.scores, result.models)
    table = text_events(result.scores, result.models)
    report.tables[TEXT_SCORES_TABLE] = to_typed(TABLES[TEXT_SCORES_TABLE], table)
    chosen = result.comparison[result.models.head_kind]
    console.print(
        f"  {len(result.scores):,} texts scored by the {result.models.head_kind} head "
        f"(holdout AUC(negative) {chosen.auc:.3f}) → {path}"
    )


def build_features(console: Console, report: ValidationReport) -> None:
    """Every customer's features as of the data's end, into WORKSPACE/_out/ (never read as a table)."""
    from features.training_sets import build_scoring_set

    frame = build_scoring_set(report.tables, report.config)
    target = report.workspace / "_out" / "features.parquet"
    target.parent.mkdir(exist_ok=True)
    frame.to_parquet(target, index=False)
    console.print(f"  {len(frame):,} customers × {frame.shape[1] - 2} features → {target}")


def train_models(console: Console, report: ValidationReport) -> None:
    """Train, evaluate on the latest 20% of time, register and gate both models.

    The demo registers the models its holdout judged rather than refitting them on every example
    (as `cxpredict train` does): the figures printed are those of the model served, and training
    takes half the time.
    """
    from training.pipeline import HoldoutSpec
    from training.tracking import load_mlflow_config
    from training.workspace import train_from_tables

    settings = load_mlflow_config(MLFLOW_FILE)
    metrics = train_from_tables(report.tables, report.config, settings, HoldoutSpec(refit_all=False))
    for line in headline_lines(metrics):
        console.print(f"  {line}")
    console.print(f"  runs and models: mlflow ui --backend-store-uri {settings.tracking_uri}")


def score_all(console: Console, report: ValidationReport) -> None:
    """Score every customer with the @champion models into WORKSPACE/_out/scores.parquet."""
    from pipelines.scoring import score_customers
    from training.tracking import load_mlflow_config

    scores = score_customers(report.tables, report.config, load_mlflow_config(MLFLOW_FILE))
    target = report.workspace / "_out" / "scores.parquet"
    scores.to_parquet(target, index=False)
    console.print(f"  {len(scores):,} customers scored → {target}")
    for line in score_lines(scores):
        console.print(f"  {line}")


def report_base(console: Console, report: ValidationReport) -> None:
    """The whole base's satisfaction three ways into WORKSPACE/_out/summary.json and index.html."""
    import json

    from pipelines.insight import whole_base
    from pipelines.report_html import PAGE, render_report
    from training.tracking import load_mlflow_config

    summary = whole_base(report.tables, report.config, load_mlflow_config(MLFLOW_FILE))
    target = report.workspace / "_out" / "summary.json"
    target.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    page = target.with_name(PAGE)
    page.write_text(render_report(summary), encoding="utf-8")
    console.print(f"  the whole base three ways → {target}; the page → {page}")
    for line in insight_lines({k: v for k, v in summary.items() if k in ("nps", "csat_mean")}):
        console.print(f"  {line}", markup=False)


def demo_steps(text_encoder: bool) -> tuple[tuple[str, Step | None], ...]:
    """The steps run in this order after validation; None marks a step that is not built yet."""
    return (
        ("text", partial(score_texts, encoder=text_encoder)),
        ("features", build_features),
        ("train, register and gate", train_models),
        ("score", score_all),
        ("report", report_base),
        ("rules", write_demo_rules),
    )


def run_demo(
    console: Console, workspace: Path, *, customers: int, seed: int, serve: bool, text_encoder: bool = True
) -> int:
    """Generate (if needed), validate and run the built steps; returns the process exit code."""
    tables, _ = find_tables(workspace) if workspace.is_dir() else ({}, [])
    if tables:
        console.print(f"Using the company already in {workspace} ({len(tables)} tables).")
    else:
        _generate(console, workspace, customers, seed)
    report = validate_workspace(workspace)
    print_summary(console, summarise(report))
    if not report.ok:
        print_problems(console, report.problems)
        return 2
    console.print("[green]✓ validate[/]")
    for name, step in demo_steps(text_encoder):
        if step is None:
            console.print(f"[yellow]· {name}: not built yet[/]")
        else:
            step(console, report)
            console.print(f"[green]✓ {name}[/]")
    if serve:
        from serving.server import serve as serve_workspace

        console.print(
            f"Serving {workspace} on http://127.0.0.1:3000 (docs at /docs); "
            f"make a key first: cxpredict keys create {workspace} --role admin --name me"
        )
        serve_workspace(workspace, MLFLOW_FILE)
    return 0


def _generate(console: Console, workspace: Path, customers: int, seed: int) -> None:
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task(f"Generating {customers:,} customers", total=None)

        def show(step: str) -> None:
            progress.update(task, description=f"Generating {customers:,} customers: {step}")

        truth = generate_company(workspace, customers=customers, seed=seed, progress=show)
    console.print(
        f"Generated {customers:,} customers into {workspace} (seed {seed}); "
        f"true NPS {truth['nps_true']:.1f} (latent classes), {truth['population']['nps']:.1f} as every "
        f"customer would answer, vs surveyed {truth['nps_surveyed']:.1f}; "
        f"ground truth in {workspace / '_truth'}."
    )
