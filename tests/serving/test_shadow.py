"""A @challenger in shadow: scored beside the champion on live traffic, stored, compared, never served."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient
from prometheus_client import REGISTRY
from starlette.testclient import TestClient

from features.config import load_config
from features.online_db import Database
from features.validation import ValidationReport, load_workspace
from models.mlflow_config import MlflowConfig, activate
from pipelines.monitoring import shadow_check, validated_workspace
from serving.keys import Role
from serving.shadow import COLUMNS, stored_shadow
from serving.state import open_database
from tests.serving.receiver import Receiver, serving
from tests.serving.registry import own_registry
from tests.serving.service_env import (
    bearer,
    copy_workspace,
    create_keys,
    in_process,
    late_delivery,
    service_environment,
)
from tests.serving.workspace import FAST
from training.fitting import FitOptions, fit_churn
from training.tracking import log_predictor
from training.workspace import prepared

CHAMPIONS = {"cx-churn": "1", "cx-satisfaction": "1"}
Served = tuple[TestClient, dict[Role, str], Path, MlflowConfig]


def register_challenger(workspace: Path, config: MlflowConfig) -> str:
    """A churn model fitted with another seed and fewer trees, registered without any alias."""
    loaded = load_workspace(workspace, load_config(workspace))
    params = dataclasses.replace(FAST, num_boost_round=30)
    options = FitOptions(seed=7, params=params)
    churn_set, fit_options = prepared("churn", loaded.tables, loaded.config, options)
    predictor = fit_churn(churn_set, fit_options)
    activate(config)
    with mlflow.start_run():
        info = log_predictor(predictor, churn_set.X.head(5), config.model_name("churn"))
    return str(info.registered_model_version)


@pytest.fixture(scope="module")
def served(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The service in-process on its own registry, where churn has a second version to shadow."""
    root = tmp_path_factory.mktemp("shadow")
    config = own_registry(trained[1], root / "registry")
    with serving(Receiver()) as receiver:
        workspace = copy_workspace(trained, root / "ws", receiver.url())
        keys = create_keys(workspace)
        challenger = register_challenger(workspace, config)
        assert challenger == "2", "the shared registry, copied here, holds one version of each model"
        MlflowClient(config.tracking_uri).set_registered_model_alias("cx-churn", "challenger", challenger)
        variables = service_environment(workspace, config) | {"PROMETHEUS_MULTIPROC_DIR": str(root)}
        with in_process(variables) as client:
            yield client, keys, workspace, config


def point_challenger(served: Served, version: str | None) -> dict[str, Any]:
    """Move (or remove) cx-churn's @challenger and reload: the reload's answer."""
    client, keys, _, config = served
    registry = MlflowClient(config.tracking_uri)
    if version is None:
        registry.delete_registered_model_alias("cx-churn", "challenger")
    else:
        registry.set_registered_model_alias("cx-churn", "challenger", version)
    response = client.post("/admin/reload", headers=bearer(keys[Role.ADMIN]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def shadow_rows(workspace: Path) -> list[dict[str, Any]]:
    db: Database = open_database(workspace)
    try:
        return [dict(zip(COLUMNS, row, strict=True)) for row in stored_shadow(db)]
    finally:
        db.close()


def wait_for_rows(workspace: Path, customers: set[str], since: float = 0) -> list[dict[str, Any]]:
    """The shadow's rows stored after `since` once they include every customer of `customers`."""
    deadline = time.monotonic() + 30
    while True:
        rows = [r for r in shadow_rows(workspace) if r["scored_at"] >= since]
        if customers <= {r["customer_id"] for r in rows}:
            return rows
        assert time.monotonic() < deadline, "the shadow never stored the customers answered"
        time.sleep(0.1)


def read(served: Served, customer_id: str) -> dict[str, Any]:
    client, keys, _, _ = served
    response = client.get(f"/customers/{customer_id}", headers=bearer(keys[Role.AGENT]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_answers_are_the_champions_and_the_challenger_scores_the_same_customers_in_shadow(
    served: Served,
) -> None:
    client, keys, workspace, _ = served
    # given a @challenger set on cx-churn (version 2, fitted otherwise) while the service runs
    point_challenger(served, None)
    assert point_challenger(served, "2")["challenger_versions"] == {"cx-churn": "2"}
    since = time.time()
    # when customers are read one by one and in a batch
    answers = {cid: read(served, cid) for cid in ("C0000003", "C0000004", "C0000005")}
    batch = client.post(
        "/score", json={"customer_ids": ["C0000006", "C0000007"]}, headers=bearer(keys[Role.AGENT])
    )
    assert batch.status_code == 200, batch.text
    answers |= {r["customer_id"]: r for r in batch.json()["results"]}
    # then every answer is the champions' alone
    assert all(a["model_versions"] == CHAMPIONS for a in answers.values())
    # and the shadow holds both models' churn probabilities of the same customers, nothing else
    rows = [r for r in wait_for_rows(workspace, set(answers), since) if r["customer_id"] in answers]
    assert {(r["model"], r["output"], r["champion_version"], r["challenger_version"]) for r in rows} == {
        ("cx-churn", "churn_probability", "1", "2")
    }
    for row in rows:
        assert row["champion"] == pytest.approx(answers[row["customer_id"]]["churn"]["probability"], abs=1e-9)
    assert any(abs(r["champion"] - r["challenger"]) > 1e-6 for r in rows), "the challenger is another model"
    assert set(rows[0]) == set(COLUMNS), "no feature value, no text"


def test_metrics_count_the_shadow_predictions_and_name_the_challenger(served: Served) -> None:
    client, keys, workspace, _ = served
    point_challenger(served, None)
    point_challenger(served, "2")
    made, since = (
        REGISTRY.get_sample_value("cx_shadow_predictions_total", {"outcome": "made"}) or 0.0,
        time.time(),
    )
    read(served, "C0000008")
    wait_for_rows(workspace, {"C0000008"}, since)
    # the counter /metrics exports (a scrape shows it from the process's multiprocess files, which a
    # counter made earlier in this test process, outside the service, would not write)
    assert (REGISTRY.get_sample_value("cx_shadow_predictions_total", {"outcome": "made"}) or 0.0) > made
    scraped = client.get("/metrics", headers=bearer(keys[Role.ADMIN])).text
    assert 'cx_challenger_version{model="cx-churn"} 2' in scraped


def test_monitor_compares_champion_and_challenger_from_the_shadow_table(served: Served) -> None:
    _, _, workspace, _ = served
    point_challenger(served, None)
    point_challenger(served, "2")
    customers = {f"C00000{n}" for n in range(20, 40)}
    for cid in customers:
        read(served, cid)
    wait_for_rows(workspace, customers)
    checked = validated_workspace(workspace)
    assert isinstance(checked, ValidationReport)
    found = shadow_check(checked)
    (comparison,) = found.comparisons
    assert (comparison.model, comparison.output) == ("cx-churn", "churn_probability")
    assert comparison.rows >= len(customers)
    assert 0 < comparison.mean_abs_diff <= comparison.max_abs_diff < 1
    assert comparison.rank_correlation is not None and -1 <= comparison.rank_correlation <= 1
    assert comparison.labelled_rows == 0, "the base's churn is not known yet"
    assert found.summary.startswith("challenger in shadow: cx-churn churn_probability v1 vs v2")
    assert found.metrics("cx-churn")["shadow.churn_probability.rows"] == comparison.rows


def test_without_a_challenger_nothing_is_scored_in_shadow(served: Served) -> None:
    _, _, workspace, _ = served
    point_challenger(served, "2")
    # when the alias is removed: the next answers are scored again, by the champions alone
    assert point_challenger(served, None)["challenger_versions"] == {}
    since = time.time()
    assert read(served, "C0000050")["model_versions"] == CHAMPIONS
    time.sleep(1)  # what the shadow would have stored by now
    assert [r for r in shadow_rows(workspace) if r["scored_at"] >= since] == []


def test_a_challenger_that_cannot_load_is_logged_in_one_line_and_the_champions_serve(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    _, _, workspace, config = served
    registry = MlflowClient(config.tracking_uri)
    run_id = registry.get_model_version("cx-churn", "1").run_id
    broken = registry.create_model_version("cx-churn", str(workspace / "no-such-model"), run_id).version
    with caplog.at_level(logging.WARNING, logger="serving.shadow"):
        reloaded = point_challenger(served, str(broken))
    assert reloaded["challenger_versions"] == {} and reloaded["model_versions"] == CHAMPIONS
    lines = [r.getMessage() for r in caplog.records if "@challenger" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0] and "serving the champions alone" in lines[0]
    assert read(served, "C0000060")["model_versions"] == CHAMPIONS


def test_an_event_rescoring_a_customer_is_shadowed_on_the_refreshed_features(served: Served) -> None:
    client, keys, workspace, _ = served
    point_challenger(served, "2")
    before = read(served, "C0000070")
    as_of = pd.Timestamp(before["freshness"]["as_of"])
    events = {"deliveries": [late_delivery("C0000070", as_of, f"S70-{n}") for n in range(3)]}
    posted = time.time()
    response = client.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
    assert response.status_code == 200, response.text
    after = response.json()["customers"][0]["after"]
    assert after["model_versions"] == CHAMPIONS
    refreshed = pd.Timestamp(after["freshness"]["as_of"]).timestamp()
    deadline = time.monotonic() + 30
    while not (
        rows := [
            r
            for r in shadow_rows(workspace)
            # scored after the event: the read before it may have been shadowed at the same moment
            if r["customer_id"] == "C0000070"
            and r["scored_at"] >= posted
            and r["features_at"] == pytest.approx(refreshed, abs=1e-3)
        ]
    ):
        assert time.monotonic() < deadline, "the rescored customer was never shadowed"
        time.sleep(0.1)
    assert rows[-1]["champion"] == pytest.approx(after["churn"]["probability"], abs=1e-9)
