"""End to end over HTTP: `cxpredict serve` on a generated company, a late delivery, a rule, a webhook.

On both state stores: the workspace's SQLite file and a Postgres database (`CX_DATABASE_URL`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.serving.databases import stored_orders
from tests.serving.receiver import Receiver, serving
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import (
    angry_call,
    bearer,
    copy_workspace,
    create_keys,
    late_delivery,
    service_environment,
    state_store,
)

CUSTOMER = "C0000007"


Running = tuple[str, dict[Role, str], Receiver, Path, dict[str, str]]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def running(
    request: pytest.FixtureRequest,
    trained: tuple[Path, MlflowConfig],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Running]:
    """One server per state store, shared by this module's tests (neither needs a fresh one)."""
    tmp_path = tmp_path_factory.mktemp(f"e2e-{request.param}")
    with serving(Receiver()) as receiver, state_store(request.param) as state:
        workspace = copy_workspace(trained, tmp_path / "ws", receiver.url())
        keys, port = create_keys(workspace, state), free_port()
        server = start_server(workspace, trained[1], port, tmp_path / "server.log", state)
        try:
            wait_ready(f"http://127.0.0.1:{port}", server, tmp_path / "server.log")
            yield f"http://127.0.0.1:{port}", keys, receiver, workspace, state
        finally:
            stop_server(server)


def _wait_for(receiver: Receiver, key: str, timeout_s: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for request in receiver.accepted():
            if request.headers["Idempotency-Key"] == key:
                return dict(json.loads(request.body))
        time.sleep(0.05)
    raise AssertionError("the webhook never arrived")


@pytest.mark.slow
def test_a_late_delivery_raises_detractor_risk_names_it_fires_a_rule_and_its_webhook_arrives(
    running: Running,
) -> None:
    base, keys, receiver, workspace, state = running
    with httpx.Client(base_url=base, timeout=30) as http:
        # given a customer as the service sees them
        before = http.get(f"/customers/{CUSTOMER}", headers=bearer(keys[Role.AGENT]))
        assert before.status_code == 200, before.text
        risk_before = before.json()["metrics"]["nps"]["negative"]
        as_of = pd.Timestamp(before.json()["freshness"]["as_of"])
        # refused without a key and with the wrong role
        assert http.get(f"/customers/{CUSTOMER}").status_code == 401
        assert http.get(f"/customers/{CUSTOMER}", headers=bearer(keys[Role.INGEST])).status_code == 403
        events = {
            "deliveries": [late_delivery(CUSTOMER, as_of, "E2E-1")],
            "calls": [angry_call(CUSTOMER, as_of, "E2E-2")],
        }
        assert http.post("/events", json=events, headers=bearer(keys[Role.AGENT])).status_code == 403
        # when a late delivery and an angry call arrive
        posted = http.post("/events", json=events, headers=bearer(keys[Role.INGEST]))
        assert posted.status_code == 200, posted.text
        change = posted.json()["customers"][0]
        # then the risk rises, the reasons name the late delivery and the call, and the rule acts
        after = http.get(f"/customers/{CUSTOMER}", headers=bearer(keys[Role.AGENT])).json()
        assert after["metrics"]["nps"]["negative"] > risk_before
        assert change["changes"]["nps.negative"] > 0 and "churn.probability" in change["changes"]
        raising = [r["sentence"] for r in after["metrics"]["nps"]["reasons"] if r["log_odds"] > 0]
        assert any("late" in sentence for sentence in raising), raising
        assert posted.json()["stored"]["text_scores"] == 1  # the transcript, scored into text features
        assert any("texts" in sentence for sentence in raising), raising  # the transcript's text score
        assert after["flags"] == ["late-delivery"]
        notify = next(a for a in change["actions"] if a["kind"] == "notify")
        body = _wait_for(receiver, notify["idempotency_key"])
        assert body["customer_id"] == CUSTOMER and body["rule"] == "late-delivery-alert"
        metrics = http.get("/metrics", headers=bearer(keys[Role.ADMIN])).text
        assert 'cx_scores_served_total{endpoint="customers"}' in metrics
        assert "bentoml_service_request_duration_seconds_bucket" in metrics  # BentoML's, for the rest
        # latency per route template: the reads of every customer share one series, refusals included
        reads = [
            line
            for line in metrics.splitlines()
            if line.startswith("cx_request_duration_seconds_count")
            and 'route="/customers/{customer_id}"' in line
        ]
        assert all(any(f'status="{code}"' in line for line in reads) for code in (200, 401, 403)), reads
        assert CUSTOMER not in metrics
    # and the state went where it was told: the Postgres database, or the workspace's SQLite file
    assert "E2E-1" in stored_orders(state.get("CX_DATABASE_URL") or str(workspace / "_service" / "cx.db"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("options", "says"), [([], "another `cxpredict serve`"), (["--workers", "2"], "need a Postgres")]
)
def test_a_second_process_on_a_sqlite_state_is_refused_in_one_sentence(
    running: Running, trained: tuple[Path, MlflowConfig], options: list[str], says: str
) -> None:
    _, _, _, workspace, state = running
    if state:
        pytest.skip("Postgres is served by many processes: tests/serving/test_replicas.py")
    command = [
        str(Path(sys.executable).with_name("cxpredict")),
        "serve",
        str(workspace),
        "--port",
        str(free_port()),
        *options,
    ]
    env = os.environ | service_environment(workspace, trained[1]) | state
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 2, second.stdout + second.stderr
    assert says in second.stdout and "Traceback" not in second.stdout + second.stderr
    assert len(second.stdout.strip().splitlines()) == 1, second.stdout
