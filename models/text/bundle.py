"""The fitted text models of a workspace and how they are trained, saved and loaded.

A bundle holds the negative-side head, a satisfaction regressor on the same inputs, the themes and
the encoder id they were fitted with; loading refuses an encoder with another id, whose vectors
would mean nothing to the heads. The estimators travel as one joblib file (scikit-learn's own
persistence); a JSON manifest beside it says what is inside for people and tools.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import Ridge
from sklearn.pipeline import make_pipeline

from models.text.fitting import head_inputs
from models.text.heads import HeadKind, char_ngrams, make_head
from models.text.themes import Theme, ThemeModel

TEXT_MODELS_FOLDER = "_text_models"  # inside the workspace; `_` keeps it out of the contract's tables
MANIFEST, ESTIMATORS = "text-models.json", "text-models.joblib"
VECTOR_CACHE = "cache.db"  # the encoder's vector cache, beside the models it serves
CONTACT_SOURCES = ("tickets", "calls")  # a contact is about a problem whatever its tone


@dataclass
class TextModels:
    """Fitted text models; `encoder_id` is None when they read TF-IDF and need no encoder."""

    head_kind: HeadKind
    encoder_id: str | None
    negative_head: Any
    satisfaction_head: Any
    themes: ThemeModel | None
    metrics: dict[str, Any]

    def save(self, folder: Path) -> None:
        """Write the estimators and a readable manifest into `folder` (created if missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        joblib.dump((self.negative_head, self.satisfaction_head, self.themes), folder / ESTIMATORS)
        themes = [] if self.themes is None else [asdict(t) for t in self.themes.themes_]
        manifest = {
            "head": self.head_kind,
            "encoder_id": self.encoder_id,
            "themes": themes,
            "metrics": self.metrics,
        }
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, default=float) + "\n")

    @classmethod
    def load(cls, folder: Path) -> TextModels:
        """Read a bundle written by `save`.

        Raises:
            FileNotFoundError: the folder holds no text models.
        """
        if not (folder / MANIFEST).is_file():
            raise FileNotFoundError(
                f"{folder}: no {MANIFEST}; train the text models first (cxpredict text train)"
            )
        manifest = json.loads((folder / MANIFEST).read_text())
        negative, satisfaction, themes = joblib.load(folder / ESTIMATORS)
        return cls(
            manifest["head"], manifest["encoder_id"], negative, satisfaction, themes, manifest["metrics"]
        )

    def theme_of(self, theme_id: int) -> Theme | None:
        """The theme with this id."""
        return None if self.themes is None else self.themes.themes_[theme_id]

    def theme_name(self, theme_id: int) -> str | None:
        """`#3 late / courier / parcel`: the id keeps names unique, the terms make them readable.

        The name is the value of `text_scores.theme`, which the feature catalogue counts per theme.
        """
        theme = self.theme_of(int(theme_id))
        return None if theme is None else f"#{theme.theme_id} {theme.label}"


def negative_mask(sources: pd.Series, p_negative: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Which texts are complaints: every ticket and call, and other texts the head finds negative."""
    return sources.isin(CONTACT_SOURCES).to_numpy() | (p_negative >= threshold)


def fit_text_models(
    kind: HeadKind,
    corpus: pd.DataFrame,
    vectors: np.ndarray | None,
    encoder_id: str | None,
    n_themes: int = 10,
    random_state: int = 0,
) -> TextModels:
    """Fit the heads on the labelled texts of `corpus` and the themes on its negative texts.

    Args:
        kind: which head reads the texts (`linear`, `mlp` on vectors; `tfidf` on the texts).
        corpus: redacted texts with `source`, `text` and weak labels `negative`, `satisfaction`.
        vectors: one row per corpus row, or None with the TF-IDF head (no themes then).
        encoder_id: the model id of the encoder that made `vectors`.
        n_themes: number of themes of negative texts.
        random_state: seed of the heads and the themes.
    """
    X = head_inputs(kind, vectors, corpus["text"].tolist())
    labelled = corpus["negative"].notna().to_numpy()
    negative = make_head(kind, random_state).fit(
        X[labelled], corpus["negative"].to_numpy()[labelled].astype(int)
    )
    satisfaction = _satisfaction_head(kind).fit(X[labelled], corpus["satisfaction"].to_numpy()[labelled])
    _drop_stop_words(negative, satisfaction)
    themes = None
    if vectors is not None:
        chosen = negative_mask(corpus["source"], negative.predict_proba(X)[:, 1])
        n_themes = min(n_themes, int(chosen.sum()))  # a few complaints make fewer themes, one makes none
        if n_themes >= 2:
            themes = ThemeModel(n_themes, random_state=random_state).fit(
                vectors[chosen], corpus["text"][chosen].tolist(), corpus["source"][chosen].tolist()
            )
    return TextModels(kind, encoder_id, negative, satisfaction, themes, {})


def _satisfaction_head(kind: HeadKind) -> Any:
    """A ridge regression on the same inputs as the negative head."""
    return make_pipeline(char_ngrams(), Ridge(alpha=3.0)) if kind == "tfidf" else Ridge(alpha=1.0)


def _drop_stop_words(*heads: Any) -> None:
    """Drop TF-IDF's `stop_words_`: every n-gram it cut, kept only for introspection, mostly bytes."""
    for head in heads:
        for step in getattr(head, "named_steps", {}).values():
            if hasattr(step, "stop_words_"):
                del step.stop_words_
