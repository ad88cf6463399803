from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from pipelines.cli import app


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    uri = f"sqlite:///{tmp_path}/mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # artifacts of a new experiment land beside the store
    return uri


@pytest.mark.slow
def test_demo_generates_validates_trains_registers_and_scores_every_customer(
    tmp_path: Path, tracking: str
) -> None:
    workspace = tmp_path / "company"
    demo = ["demo", str(workspace), "--customers", "600", "--seed", "3", "--no-text-encoder"]
    result = CliRunner().invoke(app, demo)
    assert result.exit_code == 0, result.output
    assert "texts scored by the tfidf head" in result.output
    assert "tfidf: AUC(negative)" in result.output and "(the plain baseline)" in result.output
    assert "text_scores_negative_count_all" in pd.read_parquet(workspace / "_out" / "features.parquet")
    for step in ("validate", "text", "features", "train, register and gate", "score", "report", "rules"):
        assert f"✓ {step}" in result.output
    checked = CliRunner().invoke(app, ["rules", "check", str(workspace)])  # the sample names real fields
    assert checked.exit_code == 0, checked.output
    summary = json.loads((workspace / "_out" / "summary.json").read_text())
    assert summary["nps"]["n_respondents"] > 0 and "corrected" in summary["nps"]
    scores = pd.read_parquet(workspace / "_out" / "scores.parquet")
    customers = pd.read_parquet(workspace / "customers.parquet")
    assert set(scores["customer_id"]) <= set(customers["customer_id"]) and len(scores) > 0.9 * len(customers)
    assert scores["churn_probability"].between(0, 1).all()
    assert scores["nps_detractor"].between(0, 1).all() and scores["nps_score"].between(0, 10).all()
    rescored = tmp_path / "rescored.parquet"
    result = CliRunner().invoke(app, ["score", str(workspace), "--out", str(rescored)])
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_parquet(rescored), scores)  # the CLI scores as the demo did
    client = MlflowClient(tracking)
    for name in ("cx-churn", "cx-satisfaction"):
        assert str(client.get_model_version_by_alias(name, "champion").version) == "1"


def test_demo_reuses_a_workspace_that_already_has_tables(tmp_path: Path, tracking: str) -> None:
    workspace = tmp_path / "broken"
    workspace.mkdir()
    (workspace / "customers.csv").write_text("customer_id\nC1\nC1\n")
    result = CliRunner().invoke(app, ["demo", str(workspace)])
    assert result.exit_code == 2
    assert "Using the company already in" in result.output and "must be unique" in result.output
    assert sorted(p.name for p in workspace.iterdir()) == ["customers.csv"]


def test_score_before_any_training_says_to_train_first(tmp_path: Path, tracking: str) -> None:
    from tests.features.workspace_factory import write_workspace

    result = CliRunner().invoke(app, ["score", str(write_workspace(tmp_path / "ws"))])
    assert result.exit_code == 2
    assert "no model has a @champion yet" in result.output


def test_the_demo_keeps_a_rules_file_the_workspace_already_has(tmp_path: Path) -> None:
    from rich.console import Console

    from pipelines.demo_rules import DEMO_RULES, write_demo_rules

    report = SimpleNamespace(workspace=tmp_path)
    write_demo_rules(Console(quiet=True), report)  # type: ignore[arg-type]
    assert (tmp_path / "rules.yml").read_text(encoding="utf-8") == DEMO_RULES
    (tmp_path / "rules.yml").write_text("rules: []\n", encoding="utf-8")
    write_demo_rules(Console(quiet=True), report)  # type: ignore[arg-type]
    assert (tmp_path / "rules.yml").read_text(encoding="utf-8") == "rules: []\n"
