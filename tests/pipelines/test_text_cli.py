import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.text.bundle import TextModels
from pipelines.cli import app
from pipelines.synthetic.company import generate_company

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "company"
    generate_company(folder, customers=200, seed=5)
    return folder


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The smallest company the generator makes: the encoder reads its ~600 texts in seconds."""
    folder = tmp_path_factory.mktemp("small") / "company"
    generate_company(folder, customers=100, seed=5)
    return folder


def _score(text: str, models: Path) -> dict[str, object]:
    scored = runner.invoke(app, ["text", "score", text, "--models", str(models)])
    assert scored.exit_code == 0, scored.output
    return dict(json.loads(scored.output))


ANGRY = "Delivery was a week late and arrived broken. This is unacceptable, I want a refund."


@pytest.mark.slow
def test_text_train_then_score_prints_a_redacted_scored_text_with_its_theme(small: Path) -> None:
    command = ["text", "train", str(small), "--quantize", "--themes", "3", "--no-write-events"]
    trained = runner.invoke(app, command)
    assert trained.exit_code == 0, trained.output
    assert not (small / "text_scores.parquet").exists()
    assert "tfidf: AUC(negative)" in trained.output  # the plain baseline is always beside the others
    models = small / "_text_models"
    fitted = TextModels.load(models).themes
    assert fitted is not None, "the encoder's run fits themes"
    themes = {theme.label for theme in fitted.themes_}

    angry = _score(f"{ANGRY} Mail me at ann.lee@mail.com", models)
    happy = _score("Fast delivery and great quality, thank you!", models)

    assert angry["redacted"] == f"{ANGRY} Mail me at <EMAIL>"
    assert angry["sentiment"] == "negative"  # neutral is a wrong answer for a complaint, too
    assert angry["theme"] in themes and "delivery" in str(angry["theme"])  # filed under its subject
    assert happy["sentiment"] == "positive" and happy["theme"] is None
    assert float(angry["negative"]) > 5 * float(happy["negative"])


def test_text_score_without_models_says_how_to_get_them(tmp_path: Path) -> None:
    result = runner.invoke(app, ["text", "score", "hello", "--models", str(tmp_path)])

    assert result.exit_code == 2
    assert "cxpredict text train" in result.output


def test_text_train_rejects_an_unknown_head(workspace: Path) -> None:
    result = runner.invoke(app, ["text", "train", str(workspace), "--head", "forest"])

    assert result.exit_code == 2


def test_text_scores_become_features_per_window_source_and_theme_with_no_config(workspace: Path) -> None:
    from features.discover import build_catalogue
    from features.validation import load_workspace

    trained = runner.invoke(app, ["text", "train", str(workspace), "--no-encoder"])
    assert trained.exit_code == 0, trained.output
    try:
        loaded = load_workspace(workspace)
        catalogue = build_catalogue(loaded.tables, loaded.config)
    finally:  # the other tests share this workspace
        (workspace / "text_scores.parquet").unlink()

    names = {f.name for f in catalogue.features if f.source == "text_scores"}
    assert {"text_scores_satisfaction_mean_30d", "text_scores_negative_count_7d"} <= names
    assert "text_scores_calls_negative_count_90d" in names
    assert "text_scores_surveys_satisfaction_mean_365d" in names
