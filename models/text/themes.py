"""Themes of negative texts: seeded k-means on their vectors, labelled by c-TF-IDF terms and examples.

c-TF-IDF treats each cluster's texts as one document and weighs a term by how much more often it
appears in that cluster than in all of them, which names a theme by what sets it apart rather than
by words every complaint shares. The same vectors, seed and settings always give the same themes.

Texts from different sources (a call transcript, a one-line review) differ in form more than in
topic, so each source's mean vector is taken out before clustering: what remains is the topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# Speaker labels of transcripts say who talks, not what about.
_STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {"agent", "customer"})
# Words of two letters or more, never the <PLACEHOLDER>s that redaction leaves.
_TOKEN_PATTERN = r"(?u)(?<![<\w])[^\W\d_][^\W\d_]+(?![\w>])"
# @handles, #tags and URLs address or file a text, they do not say what it is about; nor does a term
# that most of the texts carry (a brand, the product everyone writes about).
_NOT_TOPICS = re.compile(r"(?i)\b(?:https?://|www\.)\S+|[@#]\w+")
MAX_SHARE = 0.5


def topic_words(text: str) -> str:
    """The text without its @handles, #tags and URLs."""
    return _NOT_TOPICS.sub(" ", text)


@dataclass(frozen=True)
class Theme:
    """One theme: its id, most distinctive terms, a few redacted examples and how many texts it holds."""

    theme_id: int
    terms: tuple[str, ...]
    examples: tuple[str, ...]
    size: int

    @property
    def label(self) -> str:
        """A short name: its three most distinctive terms."""
        return " / ".join(self.terms[:3])


def _topic_text(text: str) -> str:
    return topic_words(text).lower()


def _common_words(texts: Sequence[str]) -> set[str]:
    """Words in more than `MAX_SHARE` of the texts."""
    words = CountVectorizer(token_pattern=_TOKEN_PATTERN, preprocessor=_topic_text, binary=True)
    share = np.asarray(words.fit_transform(texts).mean(axis=0)).ravel()
    return set(words.get_feature_names_out()[share > MAX_SHARE])


def class_tfidf_terms(texts: Sequence[str], labels: np.ndarray, top: int = 6) -> dict[int, tuple[str, ...]]:
    """The `top` most distinctive terms of each label's texts (c-TF-IDF over words and word pairs).

    Terms in more than `MAX_SHARE` of the texts, and @handles, #tags and URLs, never name a theme.
    """
    try:
        common = _common_words(texts)
        vectoriser = CountVectorizer(
            token_pattern=_TOKEN_PATTERN,
            ngram_range=(1, 2),
            stop_words=sorted(set(_STOP_WORDS) | common),  # gone before pairs form: no "flight bags"
            min_df=2,
            preprocessor=_topic_text,
        )
        counts = vectoriser.fit_transform(texts)
    except ValueError:  # every term was too rare or too common: the themes go unnamed, not unfitted
        return {}
    classes = np.unique(labels)
    per_class = np.vstack([np.asarray(counts[labels == c].sum(axis=0)).ravel() for c in classes])
    tf = per_class / np.maximum(per_class.sum(axis=1, keepdims=True), 1)
    average_words = per_class.sum() / len(classes)
    idf = np.log1p(average_words / np.maximum(per_class.sum(axis=0), 1))
    terms = vectoriser.get_feature_names_out()
    scores = tf * idf
    return {int(c): tuple(terms[np.argsort(-scores[i], kind="stable")[:top]]) for i, c in enumerate(classes)}


class ThemeModel:
    """K-means themes of (unit-length) text vectors.

    Args:
        n_themes: number of themes.
        n_examples: redacted examples kept per theme (the texts nearest its centre).
        random_state: seed of k-means; with it the themes are the same on every run.
    """

    def __init__(self, n_themes: int = 10, n_examples: int = 3, random_state: int = 0) -> None:
        self.n_themes = n_themes
        self.n_examples = n_examples
        self.random_state = random_state

    def fit(
        self, vectors: np.ndarray, texts: Sequence[str], sources: Sequence[str] | None = None
    ) -> ThemeModel:
        """Cluster the vectors of negative `texts` (already redacted) and label each cluster.

        Args:
            vectors: one unit-length vector per text.
            texts: the redacted texts, for the theme labels and examples.
            sources: where each text comes from (tickets, calls...); None treats them as one source.
        """
        if len(texts) < self.n_themes:
            raise ValueError(f"{len(texts)} negative texts cannot make {self.n_themes} themes")
        groups = np.asarray(sources if sources is not None else [""] * len(texts), dtype=object)
        self.overall_mean_ = vectors.mean(axis=0)
        self.source_means_ = {str(g): vectors[groups == g].mean(axis=0) for g in np.unique(groups)}
        vectors = self._centred(vectors, groups)
        kmeans = KMeans(self.n_themes, n_init=10, random_state=self.random_state).fit(vectors)
        self.centres_ = kmeans.cluster_centers_.astype(np.float32)
        labels = kmeans.labels_
        terms = class_tfidf_terms(texts, labels)
        distances = np.linalg.norm(vectors - self.centres_[labels], axis=1)
        self.themes_ = tuple(
            Theme(
                i, terms.get(i, ()), self._examples(texts, labels == i, distances), int((labels == i).sum())
            )
            for i in range(self.n_themes)
        )
        self.labels_ = labels
        return self

    def _examples(self, texts: Sequence[str], members: np.ndarray, distances: np.ndarray) -> tuple[str, ...]:
        index = np.flatnonzero(members)
        nearest = index[np.argsort(distances[index], kind="stable")[: self.n_examples]]
        return tuple(texts[i][:240] for i in nearest)

    def _centred(self, vectors: np.ndarray, groups: np.ndarray) -> np.ndarray:
        means = np.stack([self.source_means_.get(str(g), self.overall_mean_) for g in groups])
        centred = vectors - means
        return centred / np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-12)

    def predict(self, vectors: np.ndarray, sources: Sequence[str | None] | None = None) -> np.ndarray:
        """The theme id of each vector: its nearest centre (an unknown source counts as all of them)."""
        groups = np.asarray(sources if sources is not None else [None] * len(vectors), dtype=object)
        vectors = self._centred(vectors, groups)
        squared = ((vectors[:, None, :] - self.centres_[None, :, :]) ** 2).sum(axis=2)
        return np.argmin(squared, axis=1)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Settings, themes and centres that `from_state` rebuilds the fitted model from."""
        sources = sorted(self.source_means_)
        settings = {
            "n_themes": self.n_themes,
            "n_examples": self.n_examples,
            "sources": sources,
            "themes": [asdict(t) for t in self.themes_],
        }
        arrays = {"centres": self.centres_, "overall_mean": self.overall_mean_}
        arrays |= {"source_means": np.stack([self.source_means_[s] for s in sources])}
        return settings, arrays

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> ThemeModel:
        """Rebuild a fitted model from `state()`."""
        model = cls(int(settings["n_themes"]), int(settings["n_examples"]))
        model.centres_, model.overall_mean_ = arrays["centres"], arrays["overall_mean"]
        model.source_means_ = dict(zip(settings["sources"], arrays["source_means"], strict=True))
        model.themes_ = tuple(
            Theme(int(t["theme_id"]), tuple(t["terms"]), tuple(t["examples"]), int(t["size"]))
            for t in settings["themes"]
        )
        return model
