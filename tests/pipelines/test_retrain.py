"""`cxpredict retrain` on a small generated company: skipped, promoted, not promoted, refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.retrain import RetrainRequest, retrain_workspace
from tests.pipelines.retrain_company import FAST_OPTIONS, company_with_weak_champions
from tests.serving.registry import own_registry
from tests.serving.server_process import free_port
from tests.serving.workspace import train_champions
from training.tracking import MlflowConfig

pytestmark = pytest.mark.slow
runner = CliRunner()
Company = tuple[Path, MlflowConfig]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Company:
    return company_with_weak_champions(tmp_path_factory.mktemp("retrain"))


def _versions(config: MlflowConfig, name: str) -> list[str]:
    return [str(v.version) for v in MlflowClient(config.tracking_uri).search_model_versions(f"name='{name}'")]


def test_an_ok_verdict_skips_training_and_says_so_in_the_json(company: Company, tmp_path: Path) -> None:
    workspace, config = company
    out = tmp_path / "retrain.json"
    env = {"MLFLOW_TRACKING_URI": config.tracking_uri}
    result = runner.invoke(app, ["retrain", str(workspace), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "monitor: ok" in result.output and result.output.strip().splitlines()[-1].startswith("skipped:")
    summary = json.loads(out.read_text())
    assert summary["status"] == "skipped" and summary["monitor"]["verdict"] == "ok"
    assert summary["models"] == {} and _versions(config, "cx-churn") == ["1"]


def test_a_broken_table_fails_with_exit_2_naming_the_problem(company: Company, tmp_path: Path) -> None:
    workspace, config = company
    broken = Path(shutil.copytree(workspace, tmp_path / "broken"))
    (broken / "deliveries.parquet").unlink()
    (broken / "deliveries.csv").write_text(
        "customer_id,order_id,ordered_at,promised_at\nC0000001,O1,yesterday,2026-01-01\n", encoding="utf-8"
    )
    out = tmp_path / "retrain.json"
    env = {"MLFLOW_TRACKING_URI": config.tracking_uri, "COLUMNS": "250"}
    result = runner.invoke(app, ["retrain", str(broken), "--force", "--out", str(out)], env=env)
    assert result.exit_code == 2, result.output
    assert (
        "failed: 1 problem(s)" in result.output
        and "deliveries.csv, row 2, column ordered_at" in result.output
    )
    assert json.loads(out.read_text())["status"] == "failed"


@pytest.mark.parametrize(
    ("arguments", "env", "said"),
    [
        (["--notify", "http://127.0.0.1:3000"], {"CX_ADMIN_KEY": ""}, "--notify needs an admin key"),
        (["--notify", "ftp://host"], {"CX_ADMIN_KEY": "k"}, "give the service's http(s) address"),
        (["--notify", "http://h:1", "--admin-key-file", "/nowhere/key"], {}, "cannot be read"),
    ],
)
def test_a_reload_it_could_not_make_is_refused_before_any_work(
    company: Company, arguments: list[str], env: dict[str, str], said: str
) -> None:
    workspace, config = company
    result = runner.invoke(
        app, ["retrain", str(workspace), *arguments], env={"MLFLOW_TRACKING_URI": config.tracking_uri, **env}
    )
    assert result.exit_code == 2 and said in result.output, result.output
    assert "monitor:" not in result.output


def test_challengers_the_gate_passes_are_promoted_and_an_unreachable_service_exits_1(
    company: Company, tmp_path: Path
) -> None:
    # a gate that asks no AUC gain: churn's holdout (about 40 churners) is too small to tell a gain reliably
    workspace, shared = company
    config = own_registry(shared, tmp_path, max_ece_increase=1.0, min_auc_gain=-1.0)
    dead = f"http://127.0.0.1:{free_port()}/admin/reload"  # nothing listens there
    request = RetrainRequest(force=True, options=FAST_OPTIONS, notify=(dead,), admin_key="key")
    outcome = retrain_workspace(workspace, config, request, print)
    assert outcome.status == "promoted" and outcome.exit_code == 1, outcome.reason
    for kind, name in (("churn", "cx-churn"), ("satisfaction", "cx-satisfaction")):
        model = outcome.models[kind]
        assert (model["decision"], model["champion_before"], model["champion_after"]) == (
            "promoted",
            "1",
            "2",
        )
        assert (
            str(MlflowClient(config.tracking_uri).get_model_version_by_alias(name, "champion").version) == "2"
        )
    assert not outcome.notified[0].ok and "did not reload" in outcome.reason
    assert "beats the champion" in outcome.models["satisfaction"]["reason"], "true labels beat shuffled ones"
    assert outcome.as_dict()["gate"]["max_ece_increase"] == 1.0
    assert "does not clear 0.5 by 1.645 standard errors" in outcome.as_dict()["gate"]["chance"]


def test_a_challenger_short_of_the_margin_is_registered_but_not_promoted(
    company: Company, tmp_path: Path
) -> None:
    workspace, shared = company
    config = own_registry(shared, tmp_path, min_auc_gain=0.9)
    outcome = retrain_workspace(workspace, config, RetrainRequest(force=True, options=FAST_OPTIONS), print)
    assert (outcome.status, outcome.exit_code) == ("not promoted", 0), outcome.reason
    churn = outcome.models["churn"]
    assert churn["decision"] == "refused" and "AUC gain below 0.9" in churn["reason"]
    assert churn["version"] == "2" and churn["champion_after"] == "1"
    assert json.loads(json.dumps(outcome.as_dict()))["status"] == "not promoted"


def test_champions_without_a_reference_profile_need_force_and_are_then_challenged(
    company: Company, tmp_path: Path
) -> None:
    workspace, shared = company
    config = shared.model_copy(update={"tracking_uri": f"sqlite:///{tmp_path}/mlflow.db"})
    train_champions(workspace, config)  # registered without the profile drift is measured against
    refused = retrain_workspace(workspace, config, RetrainRequest(options=FAST_OPTIONS), print)
    assert (refused.status, refused.exit_code) == ("failed", 2) and "--force" in refused.reason
    forced = retrain_workspace(workspace, config, RetrainRequest(force=True, options=FAST_OPTIONS), print)
    assert forced.status in ("promoted", "not promoted") and forced.exit_code == 0, forced.reason
    assert forced.monitor is not None and forced.monitor["verdict"] is None
    assert {m["version"] for m in forced.models.values()} == {"2"}
