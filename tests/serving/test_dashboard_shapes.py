"""The dashboard on workspaces without the optional tables and columns: every page answers, none misleads.

Each shape is the service tests' company cut down as a real company might bring it (no churn table,
no comments, no delivery dates, undated...), trained on what it supports, reported where the data
allows, then served in-process; every page's endpoint is read as the dashboard reads it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from features.config import load_config
from features.validation import load_workspace
from models.mlflow_config import MlflowConfig
from pipelines.cli import app
from serving.keys import Role
from tests.pipelines.shapes import Tables, keep, one_timestamp, read_company, write_shape
from tests.serving.service_env import (
    bearer,
    create_keys,
    in_process,
    service_environment,
)
from tests.serving.workspace import FAST
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec
from training.workspace import train_supported

runner = CliRunner()
CUSTOMER = "C0000002"


@dataclass
class Served:
    """One shape served in-process: its client and keys, the models it trained, whether it reported."""

    client: TestClient
    keys: dict[Role, str]
    kinds: set[str]
    reported: bool


def _satisfaction_only(tables: Tables) -> Tables:
    """Surveys without comments, deliveries without their delivery dates: no churn table, no texts."""
    return keep(tables, ["surveys", "deliveries"], {"surveys": ["comment"], "deliveries": ["delivered_at"]})


def _churn_only(tables: Tables) -> Tables:
    """Customers without a value column, their churn and tickets without text: no surveys."""
    return keep(tables, ["churn", "tickets"], {"tickets": ["text"], "customers": ["annual_value"]})


def _undated_csat(tables: Tables) -> Tables:
    """An undated export of CSAT answers and verbatims, customers without `created_at`: the shape of the
    women's clothing case."""
    csat = tables["surveys"][tables["surveys"]["metric"] == "csat"].drop(columns=["comment", "touchpoint"])
    shaped = keep(tables, ["verbatims"], {"customers": ["created_at"]})
    return one_timestamp({**shaped, "surveys": csat.reset_index(drop=True)})


SHAPES = {"satisfaction only": _satisfaction_only, "churn only": _churn_only, "undated csat": _undated_csat}
REPORTED = {"satisfaction only", "undated csat"}  # churn alone has no satisfaction to report


def _train(workspace: Path, config: MlflowConfig) -> set[str]:
    """Train what the shape supports on a customer holdout (no refit: half the time); the kinds trained."""
    loaded = load_workspace(workspace, load_config(workspace))
    holdout = HoldoutSpec(customers=0.3, refit_all=False)
    metrics, _ = train_supported(loaded.tables, loaded.config, config, holdout, FitOptions(params=FAST))
    return set(metrics)


def _report(workspace: Path, config: MlflowConfig) -> int:
    """`cxpredict report` into the workspace's report folder, where the dashboard reads it."""
    env = {"MLFLOW_TRACKING_URI": config.tracking_uri, "COLUMNS": "300"}
    out = workspace / "report"
    result = runner.invoke(app, ["report", str(workspace), "--out", str(out)], env=env)
    assert "Traceback" not in result.output and result.exit_code in (0, 2), result.output
    return result.exit_code


@pytest.fixture(scope="module", params=sorted(SHAPES))
def served(
    request: pytest.FixtureRequest,
    trained: tuple[Path, MlflowConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("shape")
    workspace = write_shape(SHAPES[request.param](read_company(trained[0])), root / "ws")
    config = MlflowConfig(tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=str(root / "a"))
    kinds = _train(workspace, config)
    assert kinds, f"{request.param}: nothing trained"
    reported = "satisfaction" in kinds and _report(workspace, config) == 0
    assert reported == (request.param in REPORTED)
    keys = create_keys(workspace)
    variables = service_environment(workspace, config) | {"PROMETHEUS_MULTIPROC_DIR": str(root)}
    with in_process(variables) as client:
        yield Served(client, keys, kinds, reported)


def _get(served: Served, path: str, role: Role = Role.MANAGER, body: Any = None) -> Any:
    method = "GET" if body is None else "POST"
    answer = served.client.request(method, path, json=body, headers=bearer(served.keys[role]))
    assert answer.status_code == 200, f"{method} {path} → {answer.status_code}: {answer.text}"
    return answer.json()


def test_every_page_answers_on_what_the_workspace_has(served: Served) -> None:
    assert served.client.get("/ui").status_code == 200
    assert _get(served, "/me")["may"][-1] == "rules"
    assert _get(served, "/rules")["error"] is None
    assert _get(served, "/worklist", Role.AGENT)["entries"] == []
    scores = _get(served, f"/customers/{CUSTOMER}", Role.AGENT)
    assert _get(served, f"/timeline?customer_id={CUSTOMER}", Role.AGENT)["customer_id"] == CUSTOMER
    history = _get(served, f"/history?customer_id={CUSTOMER}", Role.AGENT)
    assert len(history["points"]) == 7 and "<svg" in history["chart_svg"]
    assert set(history["points"][-1]["metrics"]) == set(scores["metrics"])
    trends = _get(served, "/worklist/trends", Role.AGENT, {"customer_ids": [CUSTOMER, "nobody"]})
    assert list(trends["week_ago"]) == [CUSTOMER]
    models = _get(served, "/models")
    assert {m["kind"] for m in models["models"]} == served.kinds


def test_the_overview_gives_churn_figures_only_with_a_churn_model(served: Served) -> None:
    overview = _get(served, "/overview")
    history = _get(served, f"/history?customer_id={CUSTOMER}", Role.AGENT)
    assert (overview["base"] is not None) == served.reported
    months = overview["surveyed"]["predicted"]["months"]
    assert len(months) == 7 and months == sorted(set(months)), months  # one point per calendar month
    if "churn" in served.kinds:
        assert overview["horizon_days"] == 90 and 0 < overview["expected_churners"] < overview["customers"]
        assert all(0 <= p["churn"] <= 1 for p in history["points"])
    else:  # no model, no risk: never "0 expected churners, revenue at risk 0"
        assert (overview["expected_churners"], overview["revenue_at_risk"], overview["horizon_days"]) == (
            None,
            None,
            None,
        )
        assert all(p["churn"] is None for p in history["points"])
