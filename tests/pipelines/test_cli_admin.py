"""`cxpredict rules check`, `actions list` and `keys create|list|revoke` on a workspace."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from features.config import WorkspaceConfig
from features.online import OnlineStore
from features.online_db import connect
from pipelines.cli import app
from serving.actions import ActionCenter
from serving.keys import KeyStore, Principal, Role
from serving.state import database_url
from tests.features.conftest import typed
from tests.features.workspace_factory import VALID_TABLES, write_workspace

runner = CliRunner()
RULES = """\
rules:
  - name: churn-alert
    when: churn.probability > 0.4 and features.late >= 1
    actions:
      - notify: {team: retention, url: "http://127.0.0.1:9/hook"}
      - flag: churn-risk
"""


@pytest.fixture(autouse=True)
def _sqlite_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CX_DATABASE_URL", raising=False)


def test_rules_check_shows_valid_rules_in_plain_words(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "1 rules, valid" in result.output and "churn-risk" in result.output


def test_rules_check_names_line_and_column_and_exits_2(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(RULES.replace("features.late", "features.late.__class__"))
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2
    assert "rules.yml:3:" in result.output and "__class__" in result.output


def test_rules_check_knows_the_workspace_feature_names(tmp_path: Path) -> None:
    workspace = write_workspace(tmp_path / "ws")
    (workspace / "rules.yml").write_text(RULES.replace("features.late", "features.deliveries_late_count_30d"))
    valid = runner.invoke(app, ["rules", "check", str(workspace)])
    assert valid.exit_code == 0 and "names checked" in valid.output, valid.output
    (workspace / "rules.yml").write_text(RULES.replace("features.late", "features.deliveries_late_30d"))
    invalid = runner.invoke(app, ["rules", "check", str(workspace)])
    assert invalid.exit_code == 2 and "did you mean 'deliveries_late_count_30d'" in invalid.output
    assert not (workspace / "_service").exists()  # checking writes nothing


def test_rules_check_reads_the_names_of_the_service_online_store(tmp_path: Path) -> None:
    workspace = write_workspace(tmp_path / "ws")
    store = OnlineStore.open(database_url(workspace))
    store.materialise(typed(WorkspaceConfig(), **VALID_TABLES), WorkspaceConfig())
    store.close()
    for table in workspace.glob("*.csv"):
        table.unlink()  # only the store can tell the names now
    (workspace / "rules.yml").write_text(RULES.replace("features.late", "attributes.plann"))
    result = runner.invoke(app, ["rules", "check", str(workspace)])
    assert result.exit_code == 2 and "did you mean 'plan'" in result.output, result.output


def test_rules_check_without_a_file_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["rules", "check", str(tmp_path)])
    assert result.exit_code == 2 and "no such file" in result.output


def test_a_created_key_is_printed_once_and_stored_as_a_hash(tmp_path: Path) -> None:
    write_workspace(tmp_path)
    result = runner.invoke(app, ["keys", "create", str(tmp_path), "--role", "ingest", "--name", "loader"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    keys = KeyStore(connect(database_url(tmp_path)))
    assert keys.authenticate(token) == Principal("loader", Role.INGEST)
    assert token not in (tmp_path / "_service" / "cx.db").read_bytes().decode("latin-1")
    listed = runner.invoke(app, ["keys", "list", str(tmp_path)])
    assert "loader" in listed.output and "ingest" in listed.output and token not in listed.output
    assert runner.invoke(app, ["keys", "revoke", str(tmp_path), "--name", "loader"]).exit_code == 0
    assert keys.authenticate(token) is None
    assert runner.invoke(app, ["keys", "revoke", str(tmp_path), "--name", "loader"]).exit_code == 2


def test_a_key_with_an_unknown_role_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["keys", "create", str(tmp_path), "--role", "boss", "--name", "x"])
    assert result.exit_code == 2


def test_actions_list_shows_queued_deliveries_by_status(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(RULES)
    center = ActionCenter.open(connect(database_url(tmp_path)), tmp_path / "rules.yml")
    context = {"churn": {"probability": 0.9}, "features": {"late": 2}}
    center.apply("C42", context, dt.datetime(2024, 3, 1, tzinfo=dt.UTC))
    queued = runner.invoke(app, ["actions", "list", str(tmp_path), "--status", "queued"])
    assert queued.exit_code == 0, queued.output
    assert "C42" in queued.output and "queued 1" in queued.output
    assert "C42" not in runner.invoke(app, ["actions", "list", str(tmp_path), "--status", "dead"]).output
    assert runner.invoke(app, ["actions", "list", str(tmp_path), "--status", "lost"]).exit_code == 2
    assert "0 delivered deliveries" in runner.invoke(app, ["actions", "purge", str(tmp_path)]).output
