"""Heads that predict a text's negative side: on embeddings (linear or a small torch MLP) or TF-IDF.

The TF-IDF head reads character n-grams within word boundaries, so it needs no tokenizer, no
vocabulary and no model: it is the language-agnostic fallback when the encoder is switched off.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

HeadKind = Literal["linear", "mlp", "tfidf"]
HEAD_KINDS: tuple[HeadKind, ...] = ("linear", "mlp", "tfidf")


class MLPHead(ClassifierMixin, BaseEstimator):
    """A one-hidden-layer torch classifier on embeddings, trained full-batch with Adam.

    Args:
        hidden: hidden units.
        epochs: passes over the training set.
        lr: Adam's learning rate.
        weight_decay: L2 penalty, the main guard against over-fitting a few thousand labels.
        dropout: dropout on the hidden layer while training.
        random_state: seed of the weights and dropout.
    """

    def __init__(
        self,
        hidden: int = 64,
        epochs: int = 150,
        lr: float = 3e-3,
        weight_decay: float = 1e-3,
        dropout: float = 0.2,
        random_state: int = 0,
    ) -> None:
        self.hidden = hidden
        self.epochs = epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray) -> MLPHead:
        """Train on embeddings `X` and 0/1 labels `y`."""
        generator = torch.Generator().manual_seed(self.random_state)
        torch.manual_seed(self.random_state)  # dropout draws from the global generator
        self.network_ = torch.nn.Sequential(
            torch.nn.Linear(X.shape[1], self.hidden),
            torch.nn.GELU(),
            torch.nn.Dropout(self.dropout),
            torch.nn.Linear(self.hidden, 1),
        )
        for layer in self.network_:
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.normal_(layer.weight, std=0.05, generator=generator)
                torch.nn.init.zeros_(layer.bias)
        inputs = torch.as_tensor(np.asarray(X, np.float32))
        targets = torch.as_tensor(np.asarray(y, np.float32))
        optimiser = torch.optim.Adam(self.network_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        self.network_.train()
        for _ in range(self.epochs):
            optimiser.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy_with_logits(self.network_(inputs)[:, 0], targets)
            loss.backward()
            optimiser.step()
        self.network_.eval()
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities of classes 0 and 1, one row per embedding."""
        with torch.inference_mode():
            logits = self.network_(torch.as_tensor(np.asarray(X, np.float32)))[:, 0]
        positive = torch.sigmoid(logits).numpy().astype(np.float64)
        return np.column_stack([1.0 - positive, positive])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 predictions at probability 0.5."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def char_ngrams() -> TfidfVectorizer:
    """Sublinear TF-IDF of character 2-5-grams within word boundaries: works in any language."""
    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, max_features=200_000, sublinear_tf=True
    )


def tfidf_head(random_state: int = 0) -> Pipeline:
    """Character n-grams and a logistic regression."""
    return make_pipeline(char_ngrams(), LogisticRegression(C=4.0, max_iter=2000, random_state=random_state))


def make_head(kind: HeadKind, random_state: int = 0) -> Any:
    """An unfitted head: `linear` and `mlp` take embeddings, `tfidf` takes the texts themselves."""
    if kind == "linear":
        return LogisticRegression(C=1.0, max_iter=2000, random_state=random_state)
    if kind == "mlp":
        return MLPHead(random_state=random_state)
    if kind == "tfidf":
        return tfidf_head(random_state)
    raise ValueError(f"unknown head {kind!r}; choose one of {', '.join(HEAD_KINDS)}")
