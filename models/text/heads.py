"""Heads that read a text's negative side or satisfaction: linear models on TF-IDF, on vectors, or both.

The TF-IDF features are word 1-2-grams beside character 2-5-grams within word boundaries: words carry
meaning where a language is known, character n-grams carry spelling variants and any language, with no
tokenizer and no model. Each head keeps plain arrays (vocabularies, idf weights, coefficients), so a
fitted head is saved as JSON and safetensors and loaded without unpickling anything.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold

from models.text.tfidf import State, TfidfFeatures

HeadKind = Literal["tfidf", "linear", "mlp", "stacked"]
HEAD_KINDS: tuple[HeadKind, ...] = ("tfidf", "linear", "mlp", "stacked")
BASELINE: HeadKind = "tfidf"  # the plain baseline every other head is compared with
Reads = Literal["tfidf", "vectors", "both"]


@dataclass(frozen=True)
class TextInputs:
    """What heads read, row-aligned: redacted texts, their vectors (None without the encoder), writers.

    `groups` (customer ids) keeps a customer's texts in one fold wherever a head scores out of fold.
    `features` and `tfidf` (its rows for these texts) let every head and fold of one training share
    a single TF-IDF vocabulary learnt from the whole corpus: labels play no part in it, and the
    texts are read once instead of once per fit.
    """

    texts: np.ndarray
    vectors: np.ndarray | None = None
    groups: np.ndarray | None = None
    features: TfidfFeatures | None = None
    tfidf: sp.csr_matrix | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def take(self, rows: np.ndarray) -> TextInputs:
        """The inputs of these rows (a boolean mask or positions)."""
        rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        vectors = None if self.vectors is None else self.vectors[rows]
        groups = None if self.groups is None else self.groups[rows]
        tfidf = None if self.tfidf is None else self.tfidf[rows]
        return replace(self, texts=self.texts[rows], vectors=vectors, groups=groups, tfidf=tfidf)

    def with_tfidf(self) -> TextInputs:
        """These inputs with one TF-IDF vocabulary learnt from their texts, for every head to share."""
        features = TfidfFeatures()
        return replace(self, features=features, tfidf=features.fit_transform(self.texts))

    def need_vectors(self, who: str) -> np.ndarray:
        """The vectors, or a clear error for a head that cannot run without them."""
        if self.vectors is None:
            raise ValueError(f"the {who} head needs text vectors; switch the encoder on or use 'tfidf'")
        return self.vectors


def customer_folds(inputs: TextInputs, folds: int = 5) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) positions of folds that keep each customer's texts together."""
    groups = inputs.groups if inputs.groups is not None else np.arange(len(inputs))
    splits = min(folds, len(np.unique(groups)))
    return list(GroupKFold(n_splits=splits).split(np.zeros(len(inputs)), groups=groups))


class Head(Protocol):
    """A fitted or unfitted head: P(negative) for a classifier, a 0-1 satisfaction for a regressor."""

    def fit(self, inputs: TextInputs, y: np.ndarray) -> Any:
        """Fit on the inputs and their labels; returns the head."""
        ...

    def predict(self, inputs: TextInputs) -> np.ndarray:
        """One score per row."""
        ...

    def state(self) -> State:
        """Settings and arrays that `from_state` rebuilds the fitted head from."""
        ...


class LinearHead:
    """Logistic (classifier) or ridge (regressor) regression on TF-IDF, on vectors, or on both.

    Args:
        reads: `tfidf`, `vectors` or `both` (TF-IDF columns, then the vector's).
        regress: fit a ridge regression instead of a classifier.
        strength: the classifier's C, or the ridge's alpha.
        random_state: seed of the solver.
    """

    name: ClassVar[str] = "linear"

    def __init__(
        self,
        reads: Reads = "tfidf",
        regress: bool = False,
        strength: float | None = None,
        random_state: int = 0,
    ) -> None:
        self.reads, self.regress, self.random_state = reads, regress, random_state
        self.strength = strength if strength is not None else _default_strength(reads, regress)
        self.features = TfidfFeatures() if reads != "vectors" else None
        self.coef_, self.intercept_ = np.zeros(0), 0.0

    def matrix(self, inputs: TextInputs, fit: bool = False) -> Any:
        """The rows this head reads (learning the TF-IDF vocabularies when `fit`)."""
        parts: list[Any] = []
        if self.reads != "vectors":
            shared = inputs.features is not None and (fit or inputs.features is self.features)
            if shared:
                self.features = inputs.features
                parts.append(inputs.tfidf)
            elif fit or self.features is None:
                self.features = TfidfFeatures()
                parts.append(self.features.fit_transform(inputs.texts))
            else:
                parts.append(self.features.transform(inputs.texts))
        if self.reads != "tfidf":
            parts.append(inputs.need_vectors("linear"))
        return parts[0] if len(parts) == 1 else sp.hstack([parts[0], sp.csr_matrix(parts[1])], format="csr")

    def fit(self, inputs: TextInputs, y: np.ndarray) -> LinearHead:
        """Fit on the inputs and their 0/1 labels (0-1 satisfaction when regressing)."""
        return self.fit_matrix(self.matrix(inputs, fit=True), y)

    def fit_matrix(self, X: Any, y: np.ndarray) -> LinearHead:
        """Fit on rows already read by `matrix`."""
        if self.regress:
            model: Any = Ridge(alpha=self.strength).fit(X, y)
        else:
            model = LogisticRegression(C=self.strength, max_iter=2000, random_state=self.random_state).fit(
                X, y
            )
        self.coef_ = np.asarray(model.coef_, np.float64).ravel()
        self.intercept_ = float(np.ravel(model.intercept_)[0])
        return self

    def predict_matrix(self, X: Any) -> np.ndarray:
        """Scores of rows already read by `matrix`."""
        z = np.asarray(X @ self.coef_).ravel() + self.intercept_
        return z if self.regress else 1.0 / (1.0 + np.exp(-z))

    def predict(self, inputs: TextInputs) -> np.ndarray:
        """P(negative), or the predicted 0-1 satisfaction when regressing."""
        return self.predict_matrix(self.matrix(inputs))

    def state(self) -> State:
        """Settings, coefficients and (when it reads TF-IDF) the vocabularies."""
        settings: dict[str, Any] = {"reads": self.reads, "regress": self.regress, "strength": self.strength}
        arrays = {"coef": self.coef_, "intercept": np.array([self.intercept_])}
        if self.features is not None:
            tfidf_settings, idf = self.features.state()
            settings["tfidf"] = tfidf_settings
            arrays |= {f"idf.{k}": v for k, v in idf.items()}
        return settings, arrays

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> LinearHead:
        """Rebuild a fitted head from `state()`."""
        head = cls(settings["reads"], bool(settings["regress"]), float(settings["strength"]))
        head.coef_, head.intercept_ = arrays["coef"], float(arrays["intercept"][0])
        if "tfidf" in settings:
            idf = {k.removeprefix("idf."): v for k, v in arrays.items() if k.startswith("idf.")}
            head.features = TfidfFeatures.from_state(settings["tfidf"], idf)
        return head


def _default_strength(reads: Reads, regress: bool) -> float:
    if regress:
        return 3.0 if reads != "vectors" else 1.0
    return 4.0 if reads == "tfidf" else 1.0  # C = 4 is the plain TF-IDF baseline's setting
