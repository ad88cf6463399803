"""`cxpredict serve` refuses clearly when there is nothing to serve."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from serving.server import with_workers
from tests.serving.server_process import free_port


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


def test_serve_with_the_registry_unreachable_says_so_in_one_sentence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    (tmp_path / "ws").mkdir()
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "ws"), "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "cannot be reached" in result.output and "no model has" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_serve_refuses_an_outbox_lease_shorter_than_twice_the_webhook_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CX_OUTBOX_LEASE_S", "3")
    (tmp_path / "ws").mkdir()
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "ws"), "--port", "0"])
    assert result.exit_code == 2 and "CX_OUTBOX_LEASE_S" in result.output


def test_serve_refuses_several_workers_on_a_sqlite_state_before_asking_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CX_DATABASE_URL", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{free_port()}")  # never asked
    (tmp_path / "ws").mkdir()
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "ws"), "--port", "0", "--workers", "2"])
    assert result.exit_code == 2, result.output
    assert "2 workers need a Postgres state database (CX_DATABASE_URL)" in result.output


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_serve_names_a_worker_count_that_is_not_a_whole_number(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CX_WORKERS", value)
    (tmp_path / "ws").mkdir()
    result = CliRunner().invoke(app, ["serve", str(tmp_path / "ws"), "--port", "0"])
    assert (
        result.exit_code == 2
        and f"CX_WORKERS must be a whole number of 1 or more, got {value!r}" in result.output
    )


def test_the_worker_count_reaches_bentoml_beside_other_overrides() -> None:
    config = with_workers('{"services": {"cxpredict": {"traffic": {"timeout": 5}}}}', 3)
    assert config == {"services": {"cxpredict": {"traffic": {"timeout": 5}, "workers": 3}}}
    assert with_workers(None, 2) == {"services": {"cxpredict": {"workers": 2}}}
