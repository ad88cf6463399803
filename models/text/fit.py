"""Fit a workspace's text models on its labelled texts, with every labelled text's out-of-fold scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from models.text.bundle import TextModels, negative_mask
from models.text.fitting import fit_with_scores, make_head, make_satisfaction_head
from models.text.heads import HeadKind, TextInputs
from models.text.themes import ThemeModel

FINAL_FITS = 3  # the negative head, the satisfaction head, the themes


@dataclass(frozen=True)
class FittedText:
    """Fitted models and, for the labelled texts (in corpus order), scores from folds blind to them."""

    models: TextModels
    labelled: np.ndarray
    negative_oof: np.ndarray
    satisfaction_oof: np.ndarray


def corpus_inputs(corpus: pd.DataFrame, vectors: np.ndarray | None, tfidf: bool = False) -> TextInputs:
    """The heads' inputs for every text of `corpus`: its redacted text, vector and customer.

    With `tfidf`, one TF-IDF vocabulary is learnt from all of the corpus's texts for the heads to share.
    """
    texts = corpus["text"].to_numpy(dtype=object)
    inputs = TextInputs(texts, vectors, corpus["customer_id"].astype(str).to_numpy())
    return inputs.with_tfidf() if tfidf else inputs


def fit_text_models(
    kind: HeadKind,
    corpus: pd.DataFrame,
    vectors: np.ndarray | None,
    encoder_id: str | None,
    n_themes: int = 10,
    random_state: int = 0,
    tick: Callable[[], None] = lambda: None,
    inputs: TextInputs | None = None,
) -> FittedText:
    """Fit the heads on the labelled texts of `corpus` and the themes on its negative texts.

    Args:
        kind: which head reads the texts (`tfidf`; `linear`, `mlp` on vectors; `stacked` on both).
        corpus: redacted texts with `source`, `text`, `customer_id` and weak labels `negative`,
            `satisfaction`.
        vectors: one row per corpus row, or None with the TF-IDF head (no themes then).
        encoder_id: the model id of the encoder that made `vectors`.
        n_themes: number of themes of negative texts (fewer when there are few complaints).
        random_state: seed of the heads and the themes.
        tick: called after each of the `FINAL_FITS` fits (for a progress bar).
        inputs: the corpus's inputs when already built (`corpus_inputs`), e.g. with a shared TF-IDF.
    """
    inputs = inputs if inputs is not None else corpus_inputs(corpus, vectors, tfidf=True)
    labelled = corpus["negative"].notna().to_numpy()
    known = inputs.take(labelled)
    y = corpus["negative"].to_numpy()[labelled].astype(int)
    negative, negative_oof = fit_with_scores(partial(make_head, kind, random_state), known, y)
    tick()
    satisfaction, satisfaction_oof = fit_with_scores(
        partial(make_satisfaction_head, kind), known, corpus["satisfaction"].to_numpy()[labelled]
    )
    tick()
    themes = None
    if vectors is not None:
        chosen = negative_mask(corpus["source"], negative.predict(inputs))
        n_themes = min(n_themes, int(chosen.sum()))  # a few complaints make fewer themes, one makes none
        if n_themes >= 2:
            themes = ThemeModel(n_themes, random_state=random_state).fit(
                vectors[chosen], corpus["text"][chosen].tolist(), corpus["source"][chosen].tolist()
            )
    tick()
    models = TextModels(kind, encoder_id, negative, satisfaction, themes, {})
    return FittedText(models, labelled, negative_oof, satisfaction_oof)
