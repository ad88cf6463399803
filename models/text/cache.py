"""A content-hash cache of text vectors in SQLite, so that no text is encoded twice across runs.

The key is sha256(model id, text): a changed model or encoding setting never serves stale vectors.
Only keys and vectors are stored; the texts themselves (already redacted) never reach the file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from models.text.progress import ENCODING, Report, chunks, quiet

_LOOKUP_CHUNK = 900  # SQLite's default limit on bound parameters is 999
ENCODE_CHUNK = 512  # texts encoded and stored at a time: progress steps, and what an interrupt keeps


class Encoder(Protocol):
    """What the cache needs of an encoder."""

    model_id: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text."""
        ...


def text_key(model_id: str, text: str) -> bytes:
    """The cache key of a text under a model."""
    return hashlib.sha256(f"{model_id}\x00{text}".encode()).digest()


@dataclass
class CacheStats:
    """Hits and misses since the cache was opened."""

    hits: int = 0
    misses: int = 0

    @property
    def hit_rate(self) -> float:
        """Share of looked-up texts that were found."""
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class EmbeddingCache:
    """Vectors by content hash in one SQLite file (created on first use), usable from any thread.

    The service scores texts on whichever worker thread a request lands on: one connection shared
    under a lock (SQLite's own thread check off), in WAL mode so that another process reading the
    same cache never waits on a write.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")
        self._db.commit()
        self.stats = CacheStats()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The stored vectors among `keys`."""
        found: dict[bytes, np.ndarray] = {}
        for lo in range(0, len(keys), _LOOKUP_CHUNK):
            chunk = keys[lo : lo + _LOOKUP_CHUNK]
            marks = ",".join("?" * len(chunk))
            with self._lock:
                sql = f"SELECT key, vector FROM vectors WHERE key IN ({marks})"
                rows = self._db.execute(sql, chunk).fetchall()
            found.update((k, np.frombuffer(v, np.float32)) for k, v in rows)
        return found

    def put_many(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store vectors under their keys in one transaction."""
        rows = [
            (k, np.ascontiguousarray(v, np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)
        ]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)

    def close(self) -> None:
        """Close the database file."""
        with self._lock:
            self._db.close()


class CachedEncoder:
    """An encoder that looks every text up in the cache first and encodes each missing text once."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache) -> None:
        self.encoder = encoder
        self.cache = cache
        self.model_id = encoder.model_id
        self.dim = encoder.dim

    def encode(self, texts: Sequence[str], report: Report = quiet) -> np.ndarray:
        """Vectors of `texts`, from the cache where possible.

        Missing texts are encoded in chunks, each stored as soon as it is done, so an interrupted run
        keeps what it encoded; `report` hears the texts encoded so far after each chunk.
        """
        keys = [text_key(self.model_id, t) for t in texts]
        found = self.cache.get_many(list(dict.fromkeys(keys)))
        missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
        self.cache.stats.hits += len(keys) - sum(k in missing for k in keys)
        self.cache.stats.misses += sum(k in missing for k in keys)
        for chunk in chunks(list(missing.items()), ENCODE_CHUNK, ENCODING, report):
            vectors = self.encoder.encode([t for _, t in chunk])
            self.cache.put_many([k for k, _ in chunk], vectors)
            found.update(zip([k for k, _ in chunk], vectors, strict=True))
        if not keys:
            return np.empty((0, self.dim), np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
