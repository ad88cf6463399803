"""`POST /text/score` behind the service: the workspace's own text models, loaded on first use."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import HTTPException

from features.config import load_config
from features.validation import load_workspace
from pipelines.synthetic.company import generate_company
from pipelines.text import TextOptions, train_text
from serving.text import TEXT_MODELS_FOLDER, TextService


@pytest.fixture(scope="module")
def texts_company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """800 customers: comments enough for a TF-IDF head to tell a late, cancelling customer as negative."""
    folder = tmp_path_factory.mktemp("texts") / "company"
    generate_company(folder, customers=800, seed=1)
    return folder


def test_text_scores_come_redacted_with_sentiment_and_theme(texts_company: Path, tmp_path: Path) -> None:
    loaded = load_workspace(texts_company, load_config(texts_company))
    options = TextOptions(head="tfidf", use_encoder=False, n_themes=3)
    train_text(loaded.tables, loaded.config.scales, tmp_path / TEXT_MODELS_FOLDER, options)
    result = TextService(tmp_path).score(
        "My parcel is late again, call me on 555-201-3344. I want to cancel."
    )
    assert "555-201-3344" not in result.redacted and "<PHONE>" in result.redacted
    assert result.sentiment == "negative"  # late again, wants to cancel
    happy = TextService(tmp_path).score("Fast delivery and great quality, thank you!")
    assert happy.sentiment == "positive" and result.negative > 5 * happy.negative
    assert happy.satisfaction > result.satisfaction
    # the TF-IDF models have no themes (they come from the encoder's vectors): none is made up
    assert result.theme is None


def test_a_workspace_without_text_models_answers_503(tmp_path: Path) -> None:
    with pytest.raises(HTTPException) as refused:
        TextService(tmp_path).score("hello")
    assert refused.value.status_code == 503 and TEXT_MODELS_FOLDER in str(refused.value.detail)
