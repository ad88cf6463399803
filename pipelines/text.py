"""Train the text models of a workspace and score its texts into a `text_scores` event table.

Flow: redacted corpus → weak labels from the next survey answer → vectors (cached) → heads compared
on a time split → the chosen head and the themes fitted on all labels → bundle saved → every text
scored, out of fold where its label was used, so the scores can feed the tabular models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from features.contract import TEXT_SCORES_TABLE, MetricScale
from models.text.bundle import VECTOR_CACHE, TextModels, negative_mask
from models.text.cache import CachedEncoder, EmbeddingCache
from models.text.corpus import collect_texts
from models.text.encoder import EncoderConfig, TextEncoder
from models.text.fit import FINAL_FITS, FittedText, corpus_inputs, fit_text_models
from models.text.fitting import HeadResult, compare_on_split
from models.text.heads import BASELINE, HEAD_KINDS, HeadKind, TextInputs
from models.text.impact import theme_impact
from models.text.labels import weak_labels
from models.text.progress import FITTING, Report, quiet
from models.text.splits import SplitError, TextSplit, check_labels, choose_split

TEXT_SCORES = "text_scores.parquet"


@dataclass(frozen=True)
class TextOptions:
    """How the text models are trained.

    Attributes:
        head: `auto` picks the head with the best holdout AUC; or `tfidf`, `linear`, `mlp`, `stacked`.
        use_encoder: False trains the TF-IDF fallback only (no transformer is loaded).
        encoder: encoder settings (model folder, window, batch size, quantisation).
        holdout_from: start of the comparison's test period (default: the latest fifth of labels).
        holdout_customers: compare the heads on this seeded share of customers instead of by time
            (chosen automatically when the answers cannot be split by time).
        n_themes: number of themes of negative texts.
        seed: seed of heads, folds and themes.
        learn_before: fit the final heads only on answers before this moment, so that a tabular
            model evaluated on later answers gets text scores that knew nothing of that period.
    """

    head: HeadKind | Literal["auto"] = "auto"
    use_encoder: bool = True
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    holdout_from: pd.Timestamp | None = None
    n_themes: int = 10
    seed: int = 0
    learn_before: pd.Timestamp | None = None
    holdout_customers: float | None = None


@dataclass(frozen=True)
class TextTraining:
    """What training left: the bundle, the head comparison, the split it was made on, the scored texts."""

    models: TextModels
    comparison: dict[HeadKind, HeadResult]
    scores: pd.DataFrame
    split: str = ""


def _compare(
    labelled: pd.DataFrame,
    shared: TextInputs,
    split: TextSplit,
    options: TextOptions,
    report: Report = quiet,
) -> dict[HeadKind, HeadResult]:
    """Every head the inputs allow (or the asked one beside the baseline), fitted and judged on `split`."""
    known = labelled["negative"].notna().to_numpy()
    kinds: list[HeadKind] = [k for k in HEAD_KINDS if shared.vectors is not None or k == BASELINE]
    if options.head != "auto":
        kinds = list(dict.fromkeys([BASELINE, options.head]))
    rows = labelled[known].reset_index(drop=True)
    inputs = shared.take(known)
    y, sources = rows["negative"].to_numpy(dtype=int), rows["source"].to_numpy()
    results: dict[HeadKind, HeadResult] = {}
    total = len(kinds) + FINAL_FITS
    report(FITTING, 0, total)
    for done, kind in enumerate(kinds, start=1):
        results[kind] = compare_on_split(kind, inputs, y, split, sources, options.seed)
        report(FITTING, done, total)
    return results


def best_head(comparison: Mapping[HeadKind, HeadResult]) -> HeadKind:
    """The head with the highest holdout AUC; on a tie the earlier of `HEAD_KINDS` (the baseline first)."""
    return max(comparison, key=lambda k: -np.inf if np.isnan(comparison[k].auc) else comparison[k].auc)


def plan_split(labelled: pd.DataFrame, options: TextOptions) -> TextSplit:
    """Check the labels and choose the comparison's split, before any text is encoded.

    Raises:
        SplitError: the labels cannot support the step (one sentence says why).
    """
    known = labelled[labelled["negative"].notna()].reset_index(drop=True)
    check_labels(known)
    if options.learn_before is not None:
        before = known[known["answered_at"] < options.learn_before]
        if before.empty:
            raise SplitError(
                f"--learn-before {options.learn_before:%Y-%m-%d} leaves no labelled text to fit on: "
                "every survey answer is from that moment on"
            )
        check_labels(before)
    return choose_split(known, options.holdout_from, options.holdout_customers, options.seed)


def score_corpus(
    labelled: pd.DataFrame, vectors: np.ndarray | None, fitted: FittedText, inputs: TextInputs | None = None
) -> pd.DataFrame:
    """The `text_scores` table: each text's customer, moment, source, satisfaction, negativity, theme.

    Labelled texts are scored out of fold (by customer), the others by the fitted heads.
    """
    models, inputs = fitted.models, inputs if inputs is not None else corpus_inputs(labelled, vectors)
    negative = models.negative_head.predict(inputs)
    satisfaction = models.satisfaction_head.predict(inputs)
    negative[fitted.labelled] = fitted.negative_oof
    satisfaction[fitted.labelled] = fitted.satisfaction_oof
    theme = pd.array([pd.NA] * len(labelled), dtype="Int64")
    if models.themes is not None and vectors is not None:
        chosen = negative_mask(labelled["source"], negative)
        theme[chosen] = models.themes.predict(vectors[chosen], labelled["source"][chosen].tolist())
    return pd.DataFrame(
        {
            "customer_id": labelled["customer_id"].to_numpy(),
            "at": labelled["at"].to_numpy(),
            "source": labelled["source"].to_numpy(),
            "satisfaction": np.clip(satisfaction, 0.0, 1.0) * 10.0,
            "negative": negative,
            "theme": theme,
        }
    )


def train_text(
    tables: Mapping[str, pd.DataFrame],
    scales: Mapping[str, MetricScale],
    out: Path,
    options: TextOptions,
    say: Callable[[str], None] = lambda line: None,
    report: Report = quiet,
) -> TextTraining:
    """Train, save into `out` (bundle, vector cache, `text_scores.parquet`) and score every text.

    `say` hears one line on how the heads are compared, before the heavy work starts; `report` hears
    the progress of redaction, encoding and head fitting.

    Raises:
        SplitError: the workspace has no texts, no survey answers or labels too few to learn from
            (raised before any text is encoded).
    """
    corpus = collect_texts(tables, report)
    if corpus.empty:
        raise SplitError(
            "text train needs texts (tickets.text, calls.transcript, verbatims.text or surveys.comment) "
            "and this workspace has none"
        )
    if "surveys" not in tables:
        raise SplitError("text train learns from survey answers and this workspace has no surveys table")
    labelled = weak_labels(corpus, tables["surveys"], scales)
    split = plan_split(labelled, options)
    say(split.description)
    encoder_id, vectors = None, None
    if options.use_encoder:
        out.mkdir(parents=True, exist_ok=True)
        encoder = CachedEncoder(TextEncoder(options.encoder), EmbeddingCache(out / VECTOR_CACHE))
        encoder_id, vectors = encoder.model_id, encoder.encode(labelled["text"].tolist(), report)
    inputs = corpus_inputs(labelled, vectors, tfidf=True)
    comparison = _compare(labelled, inputs, split, options, report)
    kind: HeadKind = best_head(comparison) if options.head == "auto" else options.head
    if options.learn_before is not None:
        labelled = _forget_labels_from(labelled, options.learn_before)
    total, fits = (
        len(comparison) + FINAL_FITS,
        iter(range(len(comparison) + 1, len(comparison) + FINAL_FITS + 1)),
    )
    fitted = fit_text_models(
        kind,
        labelled,
        vectors,
        encoder_id,
        options.n_themes,
        options.seed,
        lambda: report(FITTING, next(fits), total),
        inputs,
    )
    models, scores = fitted.models, score_corpus(labelled, vectors, fitted, inputs)
    models.encoder = options.encoder.settings() if options.use_encoder else None
    models.metrics = {
        **_metrics(comparison, labelled),
        "themes": theme_impact(scores, labelled, tables["surveys"], scales).to_dict("records"),
    }
    models.save(out)
    scores.to_parquet(out / TEXT_SCORES, index=False)
    return TextTraining(models, comparison, scores, split.description)


def _forget_labels_from(labelled: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    later = (labelled["answered_at"] >= moment).to_numpy()
    return labelled.assign(
        negative=labelled["negative"].mask(later), satisfaction=labelled["satisfaction"].mask(later)
    )


def _metrics(comparison: dict[HeadKind, HeadResult], labelled: pd.DataFrame) -> dict[str, Any]:
    return {
        "texts": len(labelled),
        "labelled": int(labelled["negative"].notna().sum()),
        "heads": {
            k: {"auc": r.auc, "n_train": r.n_train, "n_test": r.n_test, "auc_by_source": r.auc_by_group}
            for k, r in comparison.items()
        },
    }


def write_text_events(workspace: Path, scores: pd.DataFrame, models: TextModels) -> Path:
    """Write the scores as the workspace's `text_scores` table, atomically.

    The feature engine aggregates it per customer, window, source and theme like any other event
    table, so training, batch and online scoring share the text features.
    """
    path = workspace / f"{TEXT_SCORES_TABLE}.parquet"
    partial = path.with_suffix(".parquet.partial")
    text_events(scores, models).to_parquet(partial, index=False)
    partial.replace(path)
    return path


def text_events(scores: pd.DataFrame, models: TextModels) -> pd.DataFrame:
    """The `text_scores` table: scores with each theme named by its id and top terms."""
    names = {i: models.theme_name(i) for i in scores["theme"].dropna().unique()}
    return scores.assign(theme=scores["theme"].map(names).astype(object))
