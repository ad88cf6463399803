"""The embedding cache used from many threads at once, as the service's worker threads use it."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from models.text.cache import CachedEncoder, EmbeddingCache, text_key


class LengthEncoder:
    """A tiny deterministic encoder: a text's vector is its length and its first letter's code."""

    model_id = "length-v1"
    dim = 2

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[len(t), ord(t[0])] for t in texts], np.float32)


def test_a_cache_opened_in_one_thread_serves_many_threads_at_once(tmp_path: Path) -> None:
    opened: list[CachedEncoder] = []
    maker = threading.Thread(
        target=lambda: opened.append(CachedEncoder(LengthEncoder(), EmbeddingCache(tmp_path / "v.sqlite")))
    )
    maker.start()
    maker.join(60)
    assert not maker.is_alive(), "opening the cache hung"
    encoder = opened[0]
    texts = [f"text number {i}" for i in range(40)]

    def encode(i: int) -> np.ndarray:
        return encoder.encode([texts[i], texts[(i + 1) % 40], texts[i]])

    with ThreadPoolExecutor(8) as pool:
        vectors = list(pool.map(encode, range(40)))
    for i, found in enumerate(vectors):
        assert found.tolist() == LengthEncoder().encode([texts[i], texts[(i + 1) % 40], texts[i]]).tolist()
    reopened = EmbeddingCache(tmp_path / "v.sqlite")
    assert len(reopened.get_many([text_key(LengthEncoder.model_id, t) for t in texts])) == 40
