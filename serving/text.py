"""`POST /text/score`: the text models of the workspace, when it has them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from fastapi import HTTPException

from serving.schemas import TextScoreResult

log = logging.getLogger(__name__)
TEXT_MODELS_FOLDER = "_text_models"  # inside the workspace, where `cxpredict text train` writes them


class TextService:
    """Scores one text with the workspace's text models; 503 with the reason when there are none."""

    def __init__(self, workspace: Path) -> None:
        self.folder = workspace / TEXT_MODELS_FOLDER
        self._scorer: Any = None
        self._lock = threading.Lock()  # the encoder and its cache are not shared between threads

    def score(self, text: str) -> TextScoreResult:
        """The redacted text, predicted satisfaction, negative probability and theme.

        Raises:
            HTTPException: 503 when the workspace has no text models.
        """
        with self._lock:
            scorer = self._load()
            result = scorer.score(text)
        return TextScoreResult(
            redacted=result.redacted,
            satisfaction=result.satisfaction,
            negative=result.negative,
            sentiment=result.sentiment,
            theme=result.theme,
        )

    def score_events(self, tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
        """`text_scores` rows for the texts among new events (tickets, calls, verbatims).

        Empty when the workspace has no text models: the events are then stored without them.
        """
        from models.text.corpus import TEXT_SOURCES

        texts = [
            {"customer_id": row["customer_id"], "at": row[s.time_column], "source": s.table, "text": text}
            for s in TEXT_SOURCES
            for row in tables.get(s.table, ())
            if isinstance(text := row.get(s.text_column), str) and text.strip()
        ]
        if not texts or not self.folder.is_dir():
            return []
        with self._lock:
            rows = self._load().score_table(pd.DataFrame(texts))
        return rows.astype(object).where(rows.notna(), None).to_dict("records")

    def _load(self) -> Any:
        if self._scorer is None:
            if not self.folder.is_dir():
                raise HTTPException(
                    503, f"no text models in the workspace ({TEXT_MODELS_FOLDER}/): train them first"
                )
            from models.text.bundle import VECTOR_CACHE
            from models.text.scorer import TextScorer

            self._scorer = TextScorer.load(self.folder, cache_path=self.folder / VECTOR_CACHE)
        return self._scorer
