"""`cxpredict serve` refuses clearly when there is nothing to serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app


def test_serve_before_any_training_says_to_train_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/mlflow.db")
    (tmp_path / "ws").mkdir()
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "ws"), "--port", "0"])
    assert result.exit_code == 2
    assert "no model has a @champion" in result.output and "cxpredict train" in result.output


def test_serve_names_a_missing_workspace(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "is not a workspace folder" in result.output
