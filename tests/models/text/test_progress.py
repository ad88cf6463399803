"""Text work reports its progress per stage: redacting, encoding, fitting heads."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console

from features.contract import DEFAULT_METRICS
from models.text.cache import ENCODE_CHUNK, CachedEncoder, EmbeddingCache
from pipelines.text import TextOptions, train_text
from pipelines.text_progress import progress_bars


class HashEncoder:
    """A stand-in for the transformer: a fixed random vector per text (the cache is what is tested)."""

    model_id, dim = "hash:1", 4

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        return np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=4) for t in texts])


def test_encoding_reports_each_stored_chunk_and_keeps_what_it_encoded(tmp_path: Path) -> None:
    texts = [f"text {i}" for i in range(ENCODE_CHUNK * 2 + 10)]
    calls: list[tuple[str, int, int]] = []
    inner = HashEncoder()
    cached = CachedEncoder(inner, EmbeddingCache(tmp_path / "cache.db"))

    cached.encode(texts, lambda *call: calls.append(call))

    total = len(texts)
    assert calls == [("encoding", d, total) for d in (0, ENCODE_CHUNK, 2 * ENCODE_CHUNK, total)]
    assert inner.calls == [ENCODE_CHUNK, ENCODE_CHUNK, 10]
    again = CachedEncoder(inner, EmbeddingCache(tmp_path / "cache.db"))
    again.encode(texts)
    assert inner.calls == [ENCODE_CHUNK, ENCODE_CHUNK, 10]  # all stored: nothing encoded twice


def _answered_reviews(n: int = 120) -> dict[str, pd.DataFrame]:
    ids = [f"c{i}" for i in range(n)]
    at = pd.Timestamp("2024-02-04", tz="UTC")
    bad = np.arange(n) % 3 == 0
    texts = np.where(bad, "awful fit, returned it", "lovely dress, perfect fit")
    return {
        "customers": pd.DataFrame({"customer_id": ids}),
        "surveys": pd.DataFrame(
            {"customer_id": ids, "responded_at": at, "metric": "csat", "score": np.where(bad, 1, 5)}
        ),
        "verbatims": pd.DataFrame(
            {"customer_id": ids, "posted_at": at - pd.Timedelta(minutes=1), "text": texts}
        ),
    }


def test_training_reports_redaction_and_every_head_fit_to_the_end(tmp_path: Path) -> None:
    calls: list[tuple[str, int, int]] = []

    train_text(
        _answered_reviews(),
        DEFAULT_METRICS,
        tmp_path / "text",
        TextOptions(use_encoder=False),
        report=lambda *call: calls.append(call),
    )

    stages = {stage: (done, total) for stage, done, total in calls}
    assert stages["redacting"] == (120, 120)
    assert stages["fitting heads"] == (4, 4)  # the TF-IDF baseline compared, then three final fits
    fits = [done for stage, done, _ in calls if stage == "fitting heads"]
    assert fits == sorted(fits) and fits[0] == 0


def test_the_bars_show_count_rate_and_time_left() -> None:
    console = Console(record=True, width=120, force_terminal=True)

    with progress_bars(console) as report:
        report("encoding", 0, 2000)
        report("encoding", 1000, 2000)

    shown = console.export_text()
    assert "encoding" in shown and "1000/2000" in shown and "left" in shown


def test_no_bars_are_drawn_into_a_pipe_or_a_log() -> None:
    console = Console(record=True, width=120, force_terminal=False)

    with progress_bars(console) as report:
        report("encoding", 1000, 2000)

    assert console.export_text() == ""
