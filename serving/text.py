"""`POST /text/score`: the text models of the workspace, when it has them."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

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
