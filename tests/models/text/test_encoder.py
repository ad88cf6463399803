from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from models.text.cache import CachedEncoder, EmbeddingCache
from models.text.encoder import EncoderConfig, TextEncoder

pytestmark = pytest.mark.slow

TEXTS = [
    "My parcel arrived three weeks late.",
    "The delivery was very late again.",
    "I love the new blender, it works great.",
    "Refund still not received after a month.",
]


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    return TextEncoder(EncoderConfig(max_tokens=24, overlap=4, batch_size=3, quantize=False))


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self, inner: TextEncoder, model_id: str | None = None) -> None:
        self.inner, self.dim, self.encoded = inner, inner.dim, 0
        self.model_id = model_id or inner.model_id

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.encoded += len(texts)
        return self.inner.encode(texts)


def test_vectors_are_unit_length_and_close_for_similar_texts(encoder: TextEncoder) -> None:
    vectors = encoder.encode(TEXTS)

    assert vectors.shape == (4, encoder.dim)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    similarity = vectors @ vectors.T
    assert similarity[0, 1] > similarity[0, 2] + 0.2


def test_a_text_gets_the_same_vector_alone_or_in_a_batch(encoder: TextEncoder) -> None:
    long_text = " ".join(TEXTS * 3)  # several windows of 24 tokens
    together = encoder.encode([*TEXTS, long_text])
    alone = np.stack([encoder.encode([t])[0] for t in [*TEXTS, long_text]])

    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_int8_vectors_stay_near_float32_and_near_themselves_in_other_batches(encoder: TextEncoder) -> None:
    # Dynamic int8 scales activations per batch, so a text's vector moves a little with its batch-mates.
    int8 = TextEncoder(EncoderConfig(max_tokens=24, overlap=4, batch_size=3, quantize=True))
    texts = [*TEXTS, " ".join(TEXTS * 3)]

    together = int8.encode(texts)
    alone = np.stack([int8.encode([t])[0] for t in texts])

    assert (together * alone).sum(axis=1).min() > 0.9
    assert (together * encoder.encode(texts)).sum(axis=1).min() > 0.9
    assert int8.model_id != encoder.model_id  # their vectors never share a cache entry


def test_long_texts_are_split_into_windows_not_truncated(encoder: TextEncoder) -> None:
    head = " ".join(TEXTS[:2] * 2)
    windows, owners = encoder._windows([head, head + " " + TEXTS[2] * 3])

    assert (owners == 1).sum() > (owners == 0).sum() > 1
    assert max(len(w) for w in windows) <= 24
    assert not np.allclose(encoder.encode([head])[0], encoder.encode([head + " " + TEXTS[2] * 3])[0])


def test_a_bounded_text_keeps_its_first_and_last_tokens_in_one_window() -> None:
    bounded = TextEncoder(EncoderConfig(max_tokens=24, overlap=4, text_tokens=10))
    long_text = " ".join([TEXTS[0], *TEXTS[2:] * 3, TEXTS[1]])
    tokens = bounded.tokenizer(long_text, add_special_tokens=False)["input_ids"]

    windows, owners = bounded._windows([long_text, TEXTS[0]])

    assert owners.tolist() == [0, 1]
    assert windows[0][1:-1] == tokens[:5] + tokens[-5:]
    assert EncoderConfig.from_settings(bounded.config.settings()) == bounded.config
    assert bounded.model_id != TextEncoder(EncoderConfig(max_tokens=24, overlap=4)).model_id


def test_a_folder_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        TextEncoder(EncoderConfig(model_path=tmp_path))


def test_the_cache_encodes_each_text_once_across_runs(encoder: TextEncoder, tmp_path: Path) -> None:
    counting = CountingEncoder(encoder)
    first = CachedEncoder(counting, EmbeddingCache(tmp_path / "vectors.sqlite")).encode([*TEXTS, TEXTS[0]])
    again = CachedEncoder(counting, EmbeddingCache(tmp_path / "vectors.sqlite"))

    second = again.encode(TEXTS[::-1])

    assert counting.encoded == len(TEXTS)
    assert again.cache.stats.hit_rate == 1.0
    np.testing.assert_allclose(second, first[: len(TEXTS)][::-1], atol=1e-6)


def test_another_model_id_never_reads_the_vectors_of_the_first(encoder: TextEncoder, tmp_path: Path) -> None:
    CachedEncoder(encoder, EmbeddingCache(tmp_path / "v.sqlite")).encode(TEXTS)
    other = CountingEncoder(encoder, model_id="another-model")

    CachedEncoder(other, EmbeddingCache(tmp_path / "v.sqlite")).encode(TEXTS)

    assert other.encoded == len(TEXTS)


def test_the_cache_file_holds_no_text(encoder: TextEncoder, tmp_path: Path) -> None:
    path = tmp_path / "v.sqlite"
    CachedEncoder(encoder, EmbeddingCache(path)).encode(TEXTS)

    assert b"parcel" not in path.read_bytes()
