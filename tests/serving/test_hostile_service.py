"""Hostile and careless input against the real server: never a 5xx, nothing crossed between customers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from serving.state import DATABASE_FILE, SERVICE_FOLDER
from tests.serving.hostile import Served, served, verbatim
from tests.serving.service_env import late_delivery


@pytest.fixture(scope="module")
def server(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with served(trained, tmp_path_factory.mktemp("hostile")) as running:
        yield running


def stored(served: Served, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows of the server's state database, read on a connection of our own."""
    with sqlite3.connect(served.workspace / SERVICE_FOLDER / DATABASE_FILE, timeout=30) as db:
        return list(db.execute(sql, params).fetchall())


def test_many_clients_scoring_texts_and_sending_verbatims_at_once_all_get_answers(server: Served) -> None:
    at = server.as_of("C0000030")

    def text(n: int) -> int:
        with server.client(Role.AGENT) as http:
            return http.post(
                "/text/score", json={"text": f"parcel {n} is late again, I am angry"}
            ).status_code

    def events(n: int) -> int:
        body = {
            "verbatims": [verbatim(f"C00000{30 + n % 5}", at, f"review {n}: slow and rude") for _ in (0, 1)]
        }
        with server.client(Role.INGEST) as http:
            return http.post("/events", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(text, range(40))) + list(pool.map(events, range(20)))
    assert answers == [200] * 60


def test_an_event_reusing_another_customers_key_is_refused_and_the_owner_keeps_its_rows(
    server: Served,
) -> None:
    # given C0000040's delivery
    at = server.as_of("C0000040")
    with server.client(Role.INGEST) as http:
        assert http.post(
            "/events", json={"deliveries": [late_delivery("C0000040", at, "HOSTILE-1")]}
        ).is_success
        before = stored(server, "SELECT * FROM cx_src_deliveries WHERE order_id = 'HOSTILE-1'")
        # when C0000041 sends a delivery under the same order id
        theft = late_delivery("C0000041", at, "HOSTILE-1")
        refused = http.post("/events", json={"deliveries": [theft]})
    # then it is refused, naming the rule, and C0000040's row is as it was
    assert refused.status_code == 422, refused.text
    assert "order_id belongs to another customer" in refused.text
    assert stored(server, "SELECT * FROM cx_src_deliveries WHERE order_id = 'HOSTILE-1'") == before
    assert [row[0] for row in before] == ["C0000040"]
