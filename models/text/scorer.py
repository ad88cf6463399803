"""One text in, what it says about the customer out: redacted text, satisfaction, sentiment, theme.

This is the function the service and `cxpredict text score` call; the text is redacted before
anything else sees it, so neither the encoder, its cache nor the result ever holds the raw text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from models.text.bundle import TextModels, negative_mask
from models.text.cache import CachedEncoder, EmbeddingCache, Encoder
from models.text.encoder import EncoderConfig, TextEncoder
from models.text.heads import TextInputs
from models.text.redact import redact_all

NEGATIVE_FROM, POSITIVE_UP_TO = 0.5, 0.2  # P(negative) cut-offs of the sentiment words


@dataclass(frozen=True)
class TextScore:
    """What one text says.

    Attributes:
        redacted: the text with its personal data replaced by typed placeholders.
        satisfaction: predicted satisfaction of the writer's next survey answer, 0 (worst) to 10.
        negative: probability that the writer's next answer falls on the negative side.
        sentiment: `negative`, `neutral` or `positive`, read from `negative`.
        theme: the label of the nearest theme, for texts that are not positive (None otherwise).
        theme_id: that theme's id.
    """

    redacted: str
    satisfaction: float
    negative: float
    sentiment: str
    theme: str | None
    theme_id: int | None


def sentiment_of(p_negative: float) -> str:
    """The sentiment word of a negative-side probability."""
    if p_negative >= NEGATIVE_FROM:
        return "negative"
    return "positive" if p_negative <= POSITIVE_UP_TO else "neutral"


class TextScorer:
    """Scores texts with fitted text models and, unless they read TF-IDF, their encoder."""

    def __init__(self, models: TextModels, encoder: Encoder | None = None) -> None:
        if models.encoder_id is not None and (encoder is None or encoder.model_id != models.encoder_id):
            found = None if encoder is None else encoder.model_id
            raise ValueError(f"these text models need the encoder {models.encoder_id!r}, got {found!r}")
        self.models = models
        self.encoder = encoder

    @classmethod
    def load(
        cls, folder: Path, encoder_config: EncoderConfig | None = None, cache_path: Path | None = None
    ) -> TextScorer:
        """Load the text models in `folder` and, when they need it, their encoder (with a cache).

        Without `encoder_config`, the encoder is set up as it was when the models were trained.
        """
        models = TextModels.load(folder)
        if models.encoder_id is None:
            return cls(models)
        if encoder_config is None and models.encoder is not None:
            encoder_config = EncoderConfig.from_settings(models.encoder)
        encoder: Encoder = TextEncoder(encoder_config)
        if cache_path is not None:
            encoder = CachedEncoder(encoder, EmbeddingCache(cache_path))
        return cls(models, encoder)

    def score(self, text: str, source: str | None = None) -> TextScore:
        """Score one text; `source` (tickets, calls, verbatims, surveys) sharpens its theme when known."""
        return self.score_many([text], None if source is None else [source])[0]

    def score_many(
        self, texts: Sequence[str], sources: Sequence[str | None] | None = None
    ) -> list[TextScore]:
        """Score texts in one batch (faster than one at a time)."""
        redacted, vectors, p_negative, satisfaction = self._read(texts)
        themes = None
        if self.models.themes is not None and vectors is not None:
            themes = self.models.themes.predict(vectors, sources)
        return [
            self._score(redacted[i], float(p_negative[i]), float(satisfaction[i]), themes, i)
            for i in range(len(texts))
        ]

    def score_table(self, texts: pd.DataFrame) -> pd.DataFrame:
        """New rows of the `text_scores` table, scored as `cxpredict text train` scores the corpus.

        Args:
            texts: `customer_id`, `at`, `source` (the table) and `text` (raw: redacted here first).

        Returns:
            `customer_id`, `at`, `source`, `satisfaction` (0-10), `negative` and `theme` (the
            theme's name for complaints, as in training: every ticket and call, and negative texts).
        """
        _, vectors, p_negative, satisfaction = self._read(texts["text"].tolist())
        theme = pd.Series([None] * len(texts), dtype=object)
        if self.models.themes is not None and vectors is not None:
            chosen = negative_mask(texts["source"], p_negative)
            ids = self.models.themes.predict(vectors[chosen], texts["source"][chosen].tolist())
            theme[chosen] = [self.models.theme_name(int(i)) for i in ids]
        columns = texts[["customer_id", "at", "source"]].reset_index(drop=True)
        return columns.assign(satisfaction=satisfaction, negative=p_negative, theme=theme)

    def _read(self, texts: Sequence[str]) -> tuple[list[str], np.ndarray | None, np.ndarray, np.ndarray]:
        """Redacted texts, their vectors (None for TF-IDF heads), P(negative) and satisfaction 0-10."""
        redacted = redact_all(texts)
        vectors = self.encoder.encode(redacted) if self.encoder is not None else None
        inputs = TextInputs(np.asarray(redacted, dtype=object), vectors)
        p_negative = self.models.negative_head.predict(inputs)
        satisfaction = np.clip(self.models.satisfaction_head.predict(inputs), 0.0, 1.0) * 10.0
        return redacted, vectors, p_negative, satisfaction

    def _score(
        self, text: str, p: float, satisfaction: float, themes: np.ndarray | None, i: int
    ) -> TextScore:
        sentiment = sentiment_of(p)
        theme = None if themes is None or sentiment == "positive" else self.models.theme_of(int(themes[i]))
        return TextScore(
            text,
            round(satisfaction, 2),
            round(p, 4),
            sentiment,
            None if theme is None else theme.label,
            None if theme is None else theme.theme_id,
        )
