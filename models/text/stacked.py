"""A stacked head: TF-IDF and vector heads' out-of-fold scores, combined by a logistic regression.

The two readings fail differently: n-grams catch the words of a complaint, the encoder its meaning
when the words differ. Each base head scores every training text from folds that never saw its
customer, the combiner learns how far to trust each from those scores, and the same out-of-fold
scores are the stacked head's own scores of its training texts, so scoring them again needs no
further folds. The TF-IDF matrix is built once per fit and shared by the folds.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.linear_model import LogisticRegression

from models.text.heads import LinearHead, State, TextInputs, customer_folds

_BASES = ("tfidf", "vectors")


def _logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(clipped / (1 - clipped))


def _non_negative_combiner(logits: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights (none negative) and intercept of a logistic regression on the base heads' logits.

    A base head whose out-of-fold scores run against the labels (as a head that only memorises
    customers does) gets weight 0: a negative weight would turn its in-sample certainty upside down.
    """
    kept = list(range(logits.shape[1]))
    while True:
        combiner = LogisticRegression(C=1.0).fit(logits[:, kept], y)
        weights = combiner.coef_.ravel()
        if weights.min() >= 0 or len(kept) == 1:
            break
        kept.pop(int(np.argmin(weights)))
    full = np.zeros(logits.shape[1])
    full[kept] = np.maximum(weights, 0.0)
    return full, float(combiner.intercept_[0])


class StackedHead:
    """TF-IDF and vector logistic regressions, combined on their out-of-fold logits.

    Args:
        random_state: seed of the solvers.

    After `fit`, `oof_` holds the out-of-fold P(negative) of every training row.
    """

    name: ClassVar[str] = "stacked"

    def __init__(self, random_state: int = 0) -> None:
        self.random_state = random_state
        self.bases = {b: LinearHead(b, random_state=random_state) for b in _BASES}  # type: ignore[arg-type]
        self.weights_, self.intercept_ = np.zeros(len(_BASES)), 0.0
        self.oof_: np.ndarray | None = None

    def fit(self, inputs: TextInputs, y: np.ndarray) -> StackedHead:
        """Fit the base heads, their out-of-fold scores, and the combiner on those scores."""
        matrices = {b: head.matrix(inputs, fit=True) for b, head in self.bases.items()}
        scores = np.zeros((len(inputs), len(_BASES)))
        for train, test in customer_folds(inputs):
            for column, base in enumerate(_BASES):
                fold = LinearHead(base, random_state=self.random_state)  # type: ignore[arg-type]
                fold.fit_matrix(matrices[base][train], y[train])
                scores[test, column] = fold.predict_matrix(matrices[base][test])
        for base, head in self.bases.items():
            head.fit_matrix(matrices[base], y)
        self.weights_, self.intercept_ = _non_negative_combiner(_logit(scores), y)
        self.oof_ = self._combine(scores)
        return self

    def _combine(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(_logit(scores) @ self.weights_ + self.intercept_)))

    def predict(self, inputs: TextInputs) -> np.ndarray:
        """P(negative) of each row."""
        return self._combine(np.column_stack([self.bases[b].predict(inputs) for b in _BASES]))

    def state(self) -> State:
        """The combiner's weights and each base head's state."""
        settings: dict[str, Any] = {"bases": {}}
        arrays = {"weights": self.weights_, "intercept": np.array([self.intercept_])}
        for base, head in self.bases.items():
            base_settings, base_arrays = head.state()
            settings["bases"][base] = base_settings
            arrays |= {f"{base}.{k}": v for k, v in base_arrays.items()}
        return settings, arrays

    @classmethod
    def from_state(cls, settings: dict[str, Any], arrays: dict[str, np.ndarray]) -> StackedHead:
        """Rebuild a fitted head from `state()`."""
        head = cls()
        head.weights_, head.intercept_ = arrays["weights"], float(arrays["intercept"][0])
        for base in _BASES:
            own = {k.removeprefix(f"{base}."): v for k, v in arrays.items() if k.startswith(f"{base}.")}
            head.bases[base] = LinearHead.from_state(settings["bases"][base], own)
        return head
