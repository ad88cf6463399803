"""Secrets from mounted files (`NAME_FILE`), in the library and through the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from features.online_db import connect
from serving.env_files import read_secret_files


def _secret(tmp_path: Path, text: str, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_sets_its_variable_without_the_trailing_newline(tmp_path: Path) -> None:
    environ = {"MLFLOW_TRACKING_TOKEN_FILE": str(_secret(tmp_path, "s3cr3t token\n"))}
    assert read_secret_files(environ) == ["MLFLOW_TRACKING_TOKEN"]
    assert environ["MLFLOW_TRACKING_TOKEN"] == "s3cr3t token"


def test_the_same_value_twice_is_what_a_worker_sees_and_is_accepted(tmp_path: Path) -> None:
    environ = {"CX_WEBHOOK_SECRET_FILE": str(_secret(tmp_path, "k")), "CX_WEBHOOK_SECRET": "k"}
    assert read_secret_files(environ) == ["CX_WEBHOOK_SECRET"]


@pytest.mark.parametrize(
    ("content", "also", "message"),
    [
        (None, {}, "cannot read"),
        ("\n", {}, "is empty"),
        ("one", {"CX_DATABASE_URL": "two"}, "both set and differ"),
    ],
)
def test_a_file_that_cannot_serve_is_one_clear_sentence(
    tmp_path: Path, content: str | None, also: dict[str, str], message: str
) -> None:
    path = tmp_path / "missing" if content is None else _secret(tmp_path, content)
    with pytest.raises(ValueError, match=message) as error:
        read_secret_files({"CX_DATABASE_URL_FILE": str(path), **also})
    assert str(error.value).startswith("CX_DATABASE_URL")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("cxpredict")), *args]
    return subprocess.run(command, env=os.environ | env, capture_output=True, text=True, timeout=120)


def test_the_cli_keeps_its_state_where_the_database_url_file_says(tmp_path: Path) -> None:
    # given the state database's URL in a mounted file only
    state = tmp_path / "elsewhere" / "state.db"
    state.parent.mkdir()
    env = {"CX_DATABASE_URL_FILE": str(_secret(tmp_path, f"{state}\n"))}
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "customers.csv").write_text("customer_id\nC1\n", encoding="utf-8")
    # when a key is created
    done = _cli("keys", "create", str(workspace), "--role", "admin", "--name", "ops", env=env)
    # then it is stored in that database, not in the workspace
    assert done.returncode == 0, done.stderr
    db = connect(str(state))
    try:
        assert db.scalar("SELECT COUNT(*) FROM cx_keys WHERE name = ?", ("ops",)) == 1
    finally:
        db.close()
    assert not (workspace / "_service" / "cx.db").exists()


def test_the_cli_refuses_an_unreadable_secret_file_in_one_line(tmp_path: Path) -> None:
    done = _cli("keys", "list", str(tmp_path), env={"CX_DATABASE_URL_FILE": str(tmp_path / "no-such-file")})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "CX_DATABASE_URL_FILE" in done.stderr
    assert "Traceback" not in done.stderr
