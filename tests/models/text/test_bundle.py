"""The text bundle is JSON and safetensors: it round-trips exactly and a pickle is refused unread."""

import json
import os
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from models.text.bundle import ARRAYS, MANIFEST, PICKLED, SETTINGS, TextModels
from models.text.fit import corpus_inputs, fit_text_models
from pipelines.text import score_corpus

GOOD = ["great fit love it", "lovely soft fabric", "perfect dress", "beautiful colour, thanks"]
BAD = ["too small and cheap", "fabric ripped, returned it", "awful fit", "poor quality, sad"]


def _corpus(n: int = 120, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    negative = (np.arange(n) % 3 == 0).astype(float)
    texts = [f"{rng.choice(BAD if y else GOOD)} {rng.integers(20)}" for y in negative]
    corpus = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "source": np.where(np.arange(n) % 4 == 0, "tickets", "verbatims"),
            "text": texts,
            "negative": negative,
            "satisfaction": 1.0 - negative * 0.8,
        }
    )
    vectors = rng.normal(size=(n, 8)).astype(np.float32)
    vectors[:, 0] += 2 * negative
    return corpus, vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class _Planted:
    """Unpickling this runs `touch MARKER`: what a hostile bundle would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("kind", ["tfidf", "stacked"])
def test_a_saved_bundle_loads_to_the_same_scores_and_themes(tmp_path: Path, kind: str) -> None:
    corpus, vectors = _corpus()
    fitted = fit_text_models(kind, corpus, vectors, "enc:1", n_themes=3)  # type: ignore[arg-type]
    fitted.models.save(tmp_path)
    inputs = corpus_inputs(corpus, vectors)

    loaded = TextModels.load(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MANIFEST, SETTINGS, ARRAYS])
    for head in ("negative_head", "satisfaction_head"):
        before = getattr(fitted.models, head).predict(inputs)
        np.testing.assert_allclose(getattr(loaded, head).predict(inputs), before, rtol=0, atol=1e-12)
    assert loaded.themes is not None and fitted.models.themes is not None
    np.testing.assert_array_equal(loaded.themes.predict(vectors), fitted.models.themes.predict(vectors))
    assert loaded.themes.themes_ == fitted.models.themes.themes_
    assert json.loads((tmp_path / MANIFEST).read_text())["head"] == kind


def test_a_pickled_bundle_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder = tmp_path / "_text_models"
    folder.mkdir()
    (folder / PICKLED).write_bytes(pickle.dumps(_Planted(marker)))
    (folder / MANIFEST).write_text(json.dumps({"head": "tfidf", "encoder_id": None, "metrics": {}}))

    with pytest.raises(ValueError, match=r"pickled text bundle .* not read"):
        TextModels.load(folder)
    (folder / MANIFEST).unlink()
    with pytest.raises(ValueError, match="pickled text bundle"):
        TextModels.load(folder)

    assert not marker.exists()


def test_a_pickle_in_place_of_the_arrays_is_refused_and_never_executed(tmp_path: Path) -> None:
    corpus, _ = _corpus()
    fit_text_models("tfidf", corpus, None, None).models.save(tmp_path)
    marker = tmp_path / "ran"
    (tmp_path / ARRAYS).write_bytes(pickle.dumps(_Planted(marker)))

    with pytest.raises(ValueError, match="not a safetensors file"):
        TextModels.load(tmp_path)
    assert not marker.exists()


def test_settings_naming_a_foreign_class_are_refused(tmp_path: Path) -> None:
    corpus, _ = _corpus()
    fit_text_models("tfidf", corpus, None, None).models.save(tmp_path)
    settings = json.loads((tmp_path / SETTINGS).read_text())
    settings["negative"]["class"] = "os.system"
    (tmp_path / SETTINGS).write_text(json.dumps(settings))

    with pytest.raises(
        ValueError, match=r"negative part cannot be rebuilt .*unknown head class 'os\.system'"
    ):
        TextModels.load(tmp_path)


@pytest.mark.parametrize("kind", ["tfidf", "stacked"])
def test_training_texts_are_scored_out_of_fold_in_the_written_scores(tmp_path: Path, kind: str) -> None:
    # Labels are random per customer and only the customer's own id word carries them: out of fold
    # a head cannot know them, in sample it could.
    rng = np.random.default_rng(1)
    customer = np.repeat(np.arange(150), 2)  # two texts each, so the id word passes min_df
    y = rng.integers(0, 2, 150)[customer].astype(float)
    corpus = pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in customer],
            "at": pd.Timestamp("2025-01-01", tz="UTC"),
            "source": "verbatims",
            "text": [f"id{i}x filler" for i in customer],
            "negative": y,
            "satisfaction": 1 - y,
        }
    )
    vectors = rng.normal(size=(len(y), 4)).astype(np.float32)

    fitted = fit_text_models(kind, corpus, vectors, "enc:1", n_themes=2)  # type: ignore[arg-type]
    written = score_corpus(corpus, vectors, fitted)

    head = fitted.models.negative_head
    memoriser = head if kind == "tfidf" else head.bases["tfidf"]  # type: ignore[attr-defined]
    assert roc_auc_score(y, memoriser.predict(corpus_inputs(corpus, vectors))) > 0.95  # it memorises
    assert abs(roc_auc_score(y, fitted.negative_oof) - 0.5) < 0.12
    assert abs(roc_auc_score(y, written["negative"]) - 0.5) < 0.12  # what `text_scores` holds
    assert np.isfinite(fitted.satisfaction_oof).all()
    if kind == "stacked":
        assert head.weights_.min() >= 0  # type: ignore[attr-defined]
