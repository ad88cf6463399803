import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.synthetic.company import generate_company

runner = CliRunner()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli") / "company"
    generate_company(folder, customers=200, seed=5)
    return folder


def test_text_train_then_score_prints_a_redacted_scored_text(workspace: Path) -> None:
    trained = runner.invoke(app, ["text", "train", str(workspace), "--no-encoder", "--no-write-events"])
    assert trained.exit_code == 0, trained.output
    assert not (workspace / "text_scores.parquet").exists()
    assert "tfidf: AUC(negative)" in trained.output

    scored = runner.invoke(
        app,
        [
            "text",
            "score",
            "Late again! Mail me at ann.lee@mail.com",
            "--models",
            str(workspace / "_text_models"),
        ],
    )

    assert scored.exit_code == 0, scored.output
    result = json.loads(scored.output)
    assert result["redacted"] == "Late again! Mail me at <EMAIL>"
    assert result["sentiment"] != "positive"  # "Late again!" is a complaint
    happy = runner.invoke(
        app,
        [
            "text",
            "score",
            "Fast delivery and great quality, thank you!",
            "--models",
            str(workspace / "_text_models"),
        ],
    )
    assert json.loads(happy.output)["sentiment"] == "positive"
    assert result["negative"] > 5 * json.loads(happy.output)["negative"]


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
