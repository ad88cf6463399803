"""The service in-process (BentoML's ASGI app, lifespan included): every endpoint's contract."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import bentoml
import pandas as pd
import pytest
from mlflow import MlflowClient
from starlette.testclient import TestClient

from models.mlflow_config import MlflowConfig
from serving.keys import TRUST_SECONDS, KeyStore, Role
from serving.settings import load_settings
from serving.state import open_database
from tests.serving.receiver import Receiver, serving
from tests.serving.registry import own_registry, second_version
from tests.serving.server_process import free_port
from tests.serving.service_env import (
    angry_call,
    bearer,
    copy_workspace,
    create_keys,
    in_process,
    late_delivery,
    service_environment,
)

Client = tuple[TestClient, dict[Role, str], Receiver]


@pytest.fixture(scope="module")
def registry(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> MlflowConfig:
    """The service's own copy of the registry: a test here moves @champion, the shared one stays as it was."""
    return own_registry(trained[1], tmp_path_factory.mktemp("registry"))


@pytest.fixture(scope="module")
def service(
    trained: tuple[Path, MlflowConfig], registry: MlflowConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Client]:
    root = tmp_path_factory.mktemp("inprocess")
    with serving(Receiver()) as receiver:
        workspace = copy_workspace(trained, root / "ws", receiver.url())
        keys = create_keys(workspace)
        variables = service_environment(workspace, registry) | {"PROMETHEUS_MULTIPROC_DIR": str(root)}
        with in_process(variables) as client:
            yield client, keys, receiver


def _customer(client: TestClient, keys: dict[Role, str], customer_id: str) -> dict[str, Any]:
    response = client.get(f"/customers/{customer_id}", headers=bearer(keys[Role.AGENT]))
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_customer_has_every_metric_churn_reasons_versions_and_freshness(service: Client) -> None:
    client, keys, _ = service
    body = _customer(client, keys, "C0000002")
    assert {"nps", "csat"} <= set(body["metrics"])
    nps = body["metrics"]["nps"]
    assert 0 <= nps["score"] <= 10 and 0 <= nps["negative"] <= 1
    assert set(nps["classes"]) == {"detractor", "passive", "promoter"}
    assert sum(nps["classes"].values()) == pytest.approx(1, abs=1e-6)
    assert 0 <= body["churn"]["probability"] <= 1 and body["churn"]["horizon_days"] == 90
    assert all(isinstance(s, str) and s for s in body["top_reasons"])
    assert body["model_versions"] == {"cx-churn": "1", "cx-satisfaction": "1"}
    assert body["freshness"]["as_of"].startswith("2026-06-")


def test_an_unknown_customer_is_404(service: Client) -> None:
    client, keys, _ = service
    response = client.get("/customers/nobody", headers=bearer(keys[Role.AGENT]))
    assert response.status_code == 404 and "nobody" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "allowed", "answer"),
    [
        ("GET", "/customers/C0000001", Role.AGENT, 200),
        (
            "GET",
            "/worklist",
            Role.AGENT,
            200,
        ),  # agents work the worklist (README: "Agents read ... /worklist")
        ("POST", "/events", Role.INGEST, 422),  # allowed, and then told the body is missing
        ("POST", "/surveys", Role.INGEST, 422),
        ("POST", "/admin/reload", Role.ADMIN, 200),
    ],
)
def test_keys_and_roles_guard_every_endpoint(
    service: Client, method: str, path: str, allowed: Role, answer: int
) -> None:
    client, keys, _ = service
    assert client.request(method, path).status_code == 401
    assert client.request(method, path, headers=bearer("cxk_not-a-key")).status_code == 401
    wrong = Role.INGEST if allowed is not Role.INGEST else Role.AGENT
    refused = client.request(method, path, headers=bearer(keys[wrong]))
    assert refused.status_code == 403 and refused.json() == {
        "detail": "this key's role may not call this endpoint"
    }
    passed = client.request(method, path, headers=bearer(keys[allowed]))
    assert passed.status_code == answer, passed.text  # the endpoint's own answer, never a 5xx
    if answer == 422:
        assert passed.json()["detail"][0]["loc"][0] == "body"
    if allowed is Role.AGENT:  # a manager may do what an agent does; an admin everything
        assert client.request(method, path, headers=bearer(keys[Role.MANAGER])).status_code == answer


def test_probes_answer_without_a_key_and_docs_need_one(service: Client) -> None:
    client, keys, _ = service
    assert client.get("/livez").status_code == 200 and client.get("/readyz").status_code == 200
    assert client.get("/docs").status_code == 401
    spec = client.get("/openapi.json", headers=bearer(keys[Role.AGENT])).json()
    assert {"/customers/{customer_id}", "/events", "/score", "/worklist", "/admin/reload"} <= set(
        spec["paths"]
    )


def test_malformed_bodies_are_422_with_the_reason_and_large_ones_413(service: Client) -> None:
    client, keys, _ = service
    ingest = bearer(keys[Role.INGEST])
    broken = client.post(
        "/events", content=b"{not json", headers=ingest | {"content-type": "application/json"}
    )
    assert broken.status_code == 422 and "Traceback" not in broken.text
    typo = client.post("/events", json={"deliveries": [{"customer_id": "C1", "order": "x"}]}, headers=ingest)
    assert typo.status_code == 422 and "order_id" in typo.text and "Field required" in typo.text
    empty = client.post("/events", json={}, headers=ingest)
    assert empty.status_code == 422 and "at least one event" in empty.text
    huge = client.post("/events", content=b"x" * 1_100_000, headers=ingest)
    assert huge.status_code == 413


def test_score_takes_ids_and_feature_rows(service: Client) -> None:
    client, keys, _ = service
    body = {"customer_ids": ["C0000003", "missing"], "rows": [{"deliveries_late_count_30d": 3}, {}]}
    response = client.post("/score", json=body, headers=bearer(keys[Role.AGENT]))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["not_found"] == ["missing"] and len(result["results"]) == 3
    assert result["results"][0]["customer_id"] == "C0000003" and result["results"][1]["freshness"] is None


def test_events_refresh_rescore_and_fire_the_rules(service: Client) -> None:
    client, keys, receiver = service
    before = _customer(client, keys, "C0000004")
    as_of = pd.Timestamp(before["freshness"]["as_of"])
    events = {
        "deliveries": [late_delivery("C0000004", as_of, "T-1")],
        "calls": [angry_call("C0000004", as_of, "T-2")],
    }
    response = client.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["stored"] == {"deliveries": 1, "calls": 1, "text_scores": 1}  # the transcript, scored
    change = result["customers"][0]
    assert change["before"]["churn"]["probability"] == pytest.approx(before["churn"]["probability"])
    assert "churn.probability" in change["changes"]
    assert {(a["rule"], a["kind"]) for a in change["actions"]} == {
        ("late-delivery-alert", "notify"),
        ("late-delivery-alert", "worklist"),
        ("late-delivery-alert", "flag"),
    }
    after = _customer(client, keys, "C0000004")
    assert after["flags"] == ["late-delivery"] and after["freshness"]["as_of"] > before["freshness"]["as_of"]
    worklist = client.get("/worklist?team=retention", headers=bearer(keys[Role.AGENT])).json()
    # other tests' events may have put their customers on it too: this one is there, with its rule
    [entry] = [e for e in worklist["entries"] if e["customer_id"] == "C0000004"]
    assert (entry["team"], entry["priority"], entry["rule"]) == ("retention", 90, "late-delivery-alert")
    assert entry["flagged"] is True
    notify = next(a for a in change["actions"] if a["kind"] == "notify")
    deadline = time.monotonic() + 10
    while notify["idempotency_key"] not in receiver.accepted_keys():
        assert time.monotonic() < deadline, "the webhook was not delivered"
        time.sleep(0.05)


def test_surveys_are_stored_and_refresh_their_customer(service: Client) -> None:
    client, keys, _ = service
    before = _customer(client, keys, "C0000005")
    answer = {
        "customer_id": "C0000005",
        "responded_at": before["freshness"]["as_of"],
        "metric": "nps",
        "score": 2,
    }
    response = client.post("/surveys", json={"answers": [answer]}, headers=bearer(keys[Role.INGEST]))
    assert response.status_code == 200 and response.json() == {"stored": 1}
    assert _customer(client, keys, "C0000005")["freshness"]["as_of"] > before["freshness"]["as_of"]
    bad = client.post(
        "/surveys", json={"answers": [answer | {"score": "high"}]}, headers=bearer(keys[Role.INGEST])
    )
    assert bad.status_code == 422


def test_text_scoring_uses_the_workspace_text_models_and_redacts(service: Client) -> None:
    client, keys, _ = service
    text = {"text": "Late again, mail me at ann.lee@mail.com"}
    response = client.post("/text/score", json=text, headers=bearer(keys[Role.AGENT]))
    assert response.status_code == 200, response.text
    assert response.json()["redacted"] == "Late again, mail me at <EMAIL>"
    happy = client.post(
        "/text/score", json={"text": "Fast delivery and great quality!"}, headers=bearer(keys[Role.AGENT])
    ).json()
    assert response.json()["sentiment"] == "negative" and happy["sentiment"] == "positive"
    assert response.json()["negative"] > 5 * happy["negative"]


def test_metrics_show_model_versions_and_outbox(service: Client) -> None:
    client, keys, _ = service
    text = client.get("/metrics", headers=bearer(keys[Role.ADMIN])).text
    assert 'cx_model_version{model="cx-churn"} 1' in text and "cx_ready 1" in text
    assert 'cx_outbox_actions{status="queued"}' in text


def test_reload_serves_a_newly_promoted_champion(service: Client, registry: MlflowConfig) -> None:
    client, keys, _ = service
    models = MlflowClient(registry.tracking_uri)
    current = models.get_model_version_by_alias("cx-churn", "champion")
    new = second_version(registry, "cx-churn")
    models.set_registered_model_alias("cx-churn", "champion", new)
    try:
        response = client.post("/admin/reload", headers=bearer(keys[Role.ADMIN]))
        assert response.status_code == 200 and response.json()["changed"] is True
        assert _customer(client, keys, "C0000002")["model_versions"]["cx-churn"] == new
    finally:
        models.set_registered_model_alias("cx-churn", "champion", current.version)
        client.post("/admin/reload", headers=bearer(keys[Role.ADMIN]))


def _without_age(answer: dict[str, Any]) -> dict[str, Any]:
    return answer | {"freshness": answer["freshness"] | {"age_seconds": None}}


def test_a_cached_answer_is_the_answer_the_route_computes(service: Client) -> None:
    client, keys, _ = service
    cached = _customer(client, keys, "C0000008")
    cached_again = _customer(client, keys, "C0000008")  # from the answer cache, ahead of the route
    bentoml.get_current_service().runtime.forget("C0000008")
    computed = _customer(client, keys, "C0000008")  # a miss: the route scores the feature row
    assert _without_age(cached) == _without_age(cached_again) == _without_age(computed)
    assert cached_again["freshness"]["age_seconds"] >= cached["freshness"]["age_seconds"]


def test_the_answer_after_an_event_is_the_rescored_one(service: Client) -> None:
    client, keys, _ = service
    before = _customer(client, keys, "C0000007")
    as_of = pd.Timestamp(before["freshness"]["as_of"])
    events = {"deliveries": [late_delivery("C0000007", as_of, f"T7-{n}") for n in range(3)]}
    response = client.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
    assert response.status_code == 200, response.text
    after = response.json()["customers"][0]["after"]
    read = _customer(client, keys, "C0000007")
    assert read["churn"] != before["churn"] and read["freshness"]["as_of"] > before["freshness"]["as_of"]
    assert _without_age(read) == _without_age(after)


def test_a_revoked_key_is_refused_within_a_second(service: Client) -> None:
    client, _, _ = service
    store = KeyStore(open_database(load_settings().workspace))
    token = store.create(Role.AGENT, "short-lived")
    assert client.get("/customers/C0000001", headers=bearer(token)).status_code == 200
    store.revoke("short-lived")
    time.sleep(TRUST_SECONDS + 0.1)
    assert client.get("/customers/C0000001", headers=bearer(token)).status_code == 401


def test_a_reload_with_the_registry_unreachable_keeps_serving_and_says_so(
    service: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, keys, _ = service
    runtime = bentoml.get_current_service().runtime
    settings = runtime.settings
    gone = settings.mlflow.model_copy(update={"tracking_uri": f"http://127.0.0.1:{free_port()}"})
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    runtime.settings = dataclasses.replace(settings, mlflow=gone)
    try:
        response = client.post("/admin/reload", headers=bearer(keys[Role.ADMIN]))
    finally:
        runtime.settings = settings
    assert response.status_code == 503, response.text
    detail = response.json()["detail"]
    assert "still serving cx-churn 1, cx-satisfaction 1" in detail and "cannot be reached" in detail
    assert _customer(client, keys, "C0000009")["model_versions"] == {"cx-churn": "1", "cx-satisfaction": "1"}


def test_the_timeline_shows_the_workspace_s_past_transcripts_redacted(
    service: Client, trained: tuple[Path, MlflowConfig]
) -> None:
    client, keys, _ = service
    calls = pd.read_parquet(trained[0] / "calls.parquet").dropna(subset=["transcript"])
    customer = str(calls["customer_id"].iloc[0])
    said = client.get(f"/timeline?customer_id={customer}", headers=bearer(keys[Role.AGENT]))
    assert said.status_code == 200, said.text
    shown = [e["text"] for e in said.json()["events"] if e["table"] == "calls"]
    assert len(shown) == (calls["customer_id"] == customer).sum() and all(shown), (
        "every past call, with its text"
    )
    assert any("<NAME>" in text or "<PHONE>" in text for text in shown), "the transcripts' names are redacted"
