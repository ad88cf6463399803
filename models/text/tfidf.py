"""TF-IDF features of texts: word 1-2-grams beside character 2-5-grams, kept as plain vocabularies.

Words carry meaning where a language is known, character n-grams within word boundaries carry
spelling variants and any language, with no tokenizer and no model. The fitted state is the terms
in column order and their idf weights, so it is saved as JSON and arrays, never pickled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

State = tuple[dict[str, Any], dict[str, np.ndarray]]  # (JSON-able settings, named arrays)

_VECTORISERS = {
    "word": {"ngram_range": (1, 2), "min_df": 2, "max_features": 200_000},
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "max_features": 200_000},
}


class TfidfFeatures:
    """Sublinear TF-IDF of word 1-2-grams and character 2-5-grams, side by side, rows L2-normalised each."""

    def __init__(
        self, vocabularies: dict[str, list[str]] | None = None, idf: dict[str, np.ndarray] | None = None
    ):
        self.vectorisers: dict[str, TfidfVectorizer] = {}
        if vocabularies is not None and idf is not None:
            for name, settings in _VECTORISERS.items():
                vectoriser = TfidfVectorizer(sublinear_tf=True, vocabulary=vocabularies[name], **settings)
                vectoriser.idf_ = idf[name]
                self.vectorisers[name] = vectoriser

    def fit_transform(self, texts: np.ndarray) -> sp.csr_matrix:
        """Learn the vocabularies and idf weights of `texts`; their features."""
        self.vectorisers = {n: TfidfVectorizer(sublinear_tf=True, **s) for n, s in _VECTORISERS.items()}
        return sp.hstack([v.fit_transform(texts) for v in self.vectorisers.values()], format="csr")

    def transform(self, texts: np.ndarray) -> sp.csr_matrix:
        """Features of texts under the learnt vocabularies (unknown n-grams are ignored)."""
        return sp.hstack([v.transform(texts) for v in self.vectorisers.values()], format="csr")

    def state(self) -> State:
        """Vocabularies (terms in column order) and idf weights."""
        vocabularies = {n: v.get_feature_names_out().tolist() for n, v in self.vectorisers.items()}
        return {"vocabularies": vocabularies}, {
            n: v.idf_.astype(np.float64) for n, v in self.vectorisers.items()
        }

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> TfidfFeatures:
        """Rebuild fitted features from `state()`."""
        return cls(settings["vocabularies"], arrays)
