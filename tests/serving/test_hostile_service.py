"""Hostile and careless input against the real server: never a 5xx, nothing crossed between customers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pandas as pd
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


PII = (
    "Write to zelda.quarrington@example.org or call +44 20 7946 0958; card 4539 1488 0343 6467, "
    "IBAN GB82 WEST 1234 5698 7654 32. My name is Zelda Quarrington."
)
RAW = ("zelda.quarrington", "7946 0958", "4539 1488 0343 6467", "GB82 WEST", "Quarrington")


def every_text_bearing_request(customer_id: str, at: pd.Timestamp) -> list[tuple[str, dict[str, object]]]:
    """One request per endpoint and text field that takes free text, each carrying `PII`."""
    earlier = (at - pd.Timedelta(hours=2)).isoformat()
    return [
        ("/text/score", {"text": PII}),
        (
            "/surveys",
            {
                "answers": [
                    {
                        "customer_id": customer_id,
                        "responded_at": earlier,
                        "metric": "nps",
                        "score": 3,
                        "comment": PII,
                    }
                ]
            },
        ),
        ("/events", {"verbatims": [verbatim(customer_id, at, PII)]}),
        (
            "/events",
            {
                "tickets": [
                    {"customer_id": customer_id, "ticket_id": "PII-T1", "opened_at": earlier, "text": PII}
                ]
            },
        ),
        (
            "/events",
            {
                "calls": [
                    {
                        "customer_id": customer_id,
                        "call_id": "PII-K1",
                        "started_at": earlier,
                        "transcript": PII,
                    }
                ]
            },
        ),
        (
            "/events",
            {
                "warranty_claims": [
                    {"customer_id": customer_id, "claim_id": "PII-W1", "filed_at": earlier, "reason": PII}
                ]
            },
        ),
    ]


def files_holding(root: Path, needles: tuple[str, ...]) -> dict[str, list[str]]:
    """Every file under `root` that holds one of `needles` (as UTF-8 bytes), and which."""
    found: dict[str, list[str]] = {}
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits = [n for n in needles if n.encode() in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def test_no_raw_personal_data_reaches_any_file_the_service_writes(server: Served) -> None:
    # given the same personal data through every endpoint that takes text, also in texts that fail
    at = server.as_of("C0000050")
    with server.client(Role.ADMIN) as http:
        for path, body in every_text_bearing_request("C0000050", at):
            answer = http.post(path, json=body)
            assert answer.status_code == 200, (path, answer.text)
        for broken in (PII + "\ud800", PII + "\x00"):  # a lone surrogate, a NUL: refused, not logged raw
            answer = http.post(
                "/text/score", content=_json_with(broken), headers={"content-type": "application/json"}
            )
            assert answer.status_code == 422 and "Quarrington" not in answer.text
    # then no file the service wrote holds any of it raw: state database, its WAL, workspace, logs
    assert files_holding(server.root, RAW) == {}


def _json_with(text: str) -> bytes:
    """A JSON body whose text escapes what JSON may carry but Python's encoder would refuse raw."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or 0xD800 <= ord(c) < 0xE000 else c for c in text)
    return ('{"text": "' + escaped + '"}').encode()


def _rules_error(server: Served, expected: bool, timeout_s: float = 20) -> dict[str, object]:
    deadline = time.monotonic() + timeout_s
    with server.client(Role.MANAGER) as http:
        while True:
            status = dict(http.get("/rules").json())
            if (status["error"] is not None) == expected or time.monotonic() > deadline:
                return status
            time.sleep(0.2)


@pytest.mark.parametrize(
    "condition",
    ['"[[1]*99999]*99999 == []"', '\'"%01000000000d" % 1 == "1"\'', " + ".join(["value"] * 600) + " > 0"],
)
def test_a_costly_rule_is_refused_reported_by_get_rules_and_never_holds_the_service(
    server: Served, condition: str
) -> None:
    # given the rules in force, then a costly condition written into the file
    rules = server.workspace / "rules.yml"
    good = rules.read_text(encoding="utf-8")
    assert _rules_error(server, expected=False)["rules"] == 1
    try:
        rules.write_text(
            good.replace("features.deliveries_late_count_30d >= 1 and churn.probability > 0", condition)
        )
        # then GET /rules says why the file is refused, and the last good rules stay in force
        status = _rules_error(server, expected=True)
        assert status["rules"] == 1 and "rules.yml" in str(status["error"]), status
        # and events are still answered at once, the service ready
        at = server.as_of("C0000060")
        started = time.monotonic()
        with server.client(Role.INGEST) as http:
            answer = http.post(
                "/events", json={"deliveries": [late_delivery("C0000060", at, f"COST-{hash(condition)}")]}
            )
        assert answer.status_code == 200 and time.monotonic() - started < 20
        assert httpx.get(f"{server.base}/readyz", timeout=10).status_code == 200
    finally:
        rules.write_text(good, encoding="utf-8")
    assert _rules_error(server, expected=False)["error"] is None


def _answer(**change: object) -> dict[str, object]:
    answer = {
        "customer_id": "C0000070",
        "responded_at": "2026-06-01T10:00:00Z",
        "metric": "nps",
        "score": 7,
        "comment": "MARKER-7731 fine",
    }
    return answer | change


def _delivery(**change: object) -> dict[str, object]:
    delivery = {
        "customer_id": "C0000070",
        "order_id": "CONTRACT-1",
        "ordered_at": "2026-06-01T10:00:00Z",
        "promised_at": "2026-06-03T10:00:00Z",
    }
    return delivery | change


@pytest.mark.parametrize(
    ("path", "body", "field", "rule"),
    [
        ("/surveys", {"answers": [_answer(score=99)]}, "score", "inside the nps scale 0-10"),
        ("/surveys", {"answers": [_answer(metric="csat", score=-3)]}, "score", "inside the csat scale 1-5"),
        ("/surveys", {"answers": [_answer(metric="mood")]}, "metric", "metric must be one of"),
        ("/surveys", {"answers": [_answer(customer_id="PHANTOM-1")]}, "customer_id", "must exist"),
        ("/surveys", {"answers": [_answer(responded_at="2150-01-01T00:00:00Z")]}, "responded_at", "future"),
        ("/surveys", {"answers": [_answer(responded_at="1850-01-01T00:00:00Z")]}, "responded_at", "1900"),
        (
            "/events",
            {
                "deliveries": [
                    _delivery(ordered_at="2199-01-01T00:00:00Z", promised_at="2199-01-02T00:00:00Z")
                ]
            },
            "ordered_at",
            "future",
        ),
        ("/events", {"deliveries": [_delivery(customer_id="PHANTOM-2")]}, "customer_id", "must exist"),
        (
            "/events",
            {
                "deliveries": [_delivery()],
                "verbatims": [verbatim("PHANTOM-3", pd.Timestamp("2026-06-02T00:00Z"), "x")],
            },
            "customer_id",
            "must exist",
        ),
    ],
)
def test_rows_breaking_the_data_contract_are_refused_whole_naming_field_and_rule(
    server: Served, path: str, body: dict[str, object], field: str, rule: str
) -> None:
    counted = "SELECT (SELECT count(*) FROM cx_src_surveys) + (SELECT count(*) FROM cx_src_deliveries)"
    before = stored(server, counted)
    with server.client(Role.INGEST) as http:
        answer = http.post(path, json=body)
    assert answer.status_code == 422, answer.text
    problems = answer.json()["detail"]
    assert any(p["loc"][-1] == field and rule in p["msg"] for p in problems), problems
    assert "MARKER-7731" not in answer.text  # the input is not echoed
    assert stored(server, counted) == before  # nothing of a refused request is stored
    assert stored(server, "SELECT count(*) FROM cx_features WHERE customer_id LIKE 'PHANTOM%'") == [(0,)]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (
            b'{"answers": [{"customer_id": "C0000070", "responded_at": "2026-06-01", "metric": "nps", "score": NaN}]}',
            "json",
        ),
        (
            b'{"answers": [{"customer_id": "C0000070", "responded_at": "2026-06-01", "metric": "nps", "score": Infinity}]}',
            "json",
        ),
        (
            b'{"answers": [{"customer_id": "C0000070", "responded_at": "2026-06-01", "metric": "nps", "score": 1e999}]}',
            "json",
        ),
        (
            b'{"answers": [{"customer_id": "C0000070", "responded_at": "2026-06-01", "metric": "nps", "score": -1e999}]}',
            "json",
        ),
        (
            b'{"answers": [{"customer_id": "C0000070", "responded_at": "2026-06-01", "metric": "nps", "score": 3, "comment": "\\udc80 MARKER-7731"}]}',
            "json",
        ),
        (
            b'{"answers": [{"customer_id": "\\ud800", "responded_at": "2026-06-01", "metric": "nps", "score": 3}]}',
            "json",
        ),
        (b"\xff\xfe MARKER-7731 \x80\x81", "text/plain"),
        (b"\xff\xfe MARKER-7731 \x80\x81", "json"),
        (b'{"answers": "MARKER-7731 \xe9"}', "application/x-www-form-urlencoded"),
    ],
)
def test_numbers_json_cannot_hold_and_text_utf8_cannot_are_422_not_500(
    server: Served, content: bytes, kind: str
) -> None:
    headers = {"content-type": "application/json" if kind == "json" else kind}
    with server.client(Role.ADMIN) as http:
        for path in ("/surveys", "/events", "/score", "/text/score"):
            answer = http.post(path, content=content, headers=headers)
            assert answer.status_code == 422, (path, answer.text)
            assert "MARKER-7731" not in answer.text


def test_metrics_stay_few_whatever_paths_are_asked_and_only_monitors_read_them(server: Served) -> None:
    with server.client(Role.AGENT) as http:
        for n in range(25):
            http.get(f"/scan-{n}/admin.php")
            http.get(f"/customers/C00001{n:02d}")
            http.get(f"/customers/NOSUCH-{n}")
            http.get(f"/customers/SLASH-{n}/more")
            http.post(f"/customers/POSTED-{n}")
            http.request(f"WEIRD{n}", "/worklist")
    with server.client(Role.MONITOR) as http:
        text = http.get("/metrics").text
    assert "scan-" not in text and "C00001" not in text and "NOSUCH" not in text and "SLASH" not in text
    assert "POSTED" not in text and "WEIRD" not in text
    series = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(series) < 1500, len(series)
    for role, status in ((Role.AGENT, 403), (Role.INGEST, 403), (Role.MANAGER, 403), (Role.ADMIN, 200)):
        with server.client(role) as http:
            assert http.get("/metrics").status_code == status, role


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/path", 404),
        ("POST", "/customers/C0000001", 405),
        ("GET", "/customers/a/b", 422),
        ("GET", "/customers/" + "x" * 201, 422),
        ("GET", "/customers/%01", 422),
    ],
)
def test_paths_no_route_serves_are_answered_in_front(
    server: Served, method: str, path: str, status: int
) -> None:
    with server.client(Role.ADMIN) as http:
        assert http.request(method, path).status_code == status


def test_several_clients_on_every_endpoint_at_once_get_only_answers(server: Served) -> None:
    at = server.as_of("C0000090")
    calls: list[tuple[Role, str, str, dict[str, object] | None]] = [
        (Role.AGENT, "GET", "/customers/C0000091", None),
        (Role.AGENT, "GET", "/customers/NOBODY", None),
        (Role.AGENT, "POST", "/score", {"customer_ids": ["C0000092", "C0000093"]}),
        (Role.AGENT, "GET", "/worklist", None),
        (Role.AGENT, "POST", "/text/score", {"text": "late again, call me at 020 7946 0958"}),
        (Role.MANAGER, "GET", "/rules", None),
        (Role.MONITOR, "GET", "/metrics", None),
        (Role.ADMIN, "POST", "/admin/reload", None),
        (Role.INGEST, "POST", "/surveys", {"answers": [_answer(customer_id="C0000094", score=4)]}),
        (Role.INGEST, "POST", "/surveys", {"answers": [_answer(score=42)]}),  # refused: off the scale
    ]

    def call(n: int) -> int:
        if n % 11 == 10:  # events, each client its own order ids
            body = {"deliveries": [late_delivery(f"C00000{90 + n % 5}", at, f"EVERY-{n}")]}
            role, method, path = Role.INGEST, "POST", "/events"
        else:
            role, method, path, body = calls[n % 11]
        with server.client(role) as http:
            return http.request(method, path, json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(call, range(88)))
    assert all(200 <= status < 500 for status in answers), answers
    assert answers.count(422) == 8  # the off-scale survey, every time; nothing else refused


def test_concurrent_events_and_reads_of_one_customer_stay_consistent_and_keep_every_acknowledged_event(
    server: Served,
) -> None:
    customer, at = "C0000099", server.as_of("C0000099")
    as_of_sql = "SELECT as_of FROM cx_features WHERE customer_id = ?"
    first = int(stored(server, as_of_sql, (customer,))[0][0])
    acknowledged: list[str] = []
    seen: list[list[pd.Timestamp]] = []

    def write(n: int) -> None:
        with server.client(Role.INGEST) as http:
            for k in range(4):
                order = f"ONE-{n}-{k}"
                answer = http.post("/events", json={"deliveries": [late_delivery(customer, at, order)]})
                assert answer.status_code == 200, answer.text
                acknowledged.append(order)

    def read(_: int) -> None:
        moments = []
        with server.client(Role.AGENT) as http:
            for _ in range(15):
                answer = http.get(f"/customers/{customer}")
                assert answer.status_code == 200, answer.text
                body = answer.json()
                assert body["customer_id"] == customer and 0 <= body["churn"]["probability"] <= 1
                moments.append(pd.Timestamp(body["freshness"]["as_of"]))
        seen.append(moments)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: write(n) if n < 4 else read(n), range(8)))
    # every reader saw time only move forward; the store holds exactly what was acknowledged
    assert all(moments == sorted(moments) for moments in seen)
    rows = stored(
        server,
        "SELECT order_id FROM cx_src_deliveries WHERE customer_id = ? AND order_id LIKE 'ONE-%'",
        (customer,),
    )
    assert sorted(row[0] for row in rows) == sorted(acknowledged) and len(acknowledged) == 16
    # the events all predate the row, so each refresh moved it on by exactly one microsecond: a
    # refresh that read the row another writer was replacing would leave it short of 16
    last = int(stored(server, as_of_sql, (customer,))[0][0])
    assert last == first + 16
    with server.client(Role.AGENT) as http:
        final = pd.Timestamp(http.get(f"/customers/{customer}").json()["freshness"]["as_of"])
    assert final.value // 1000 == last and final >= max(max(m) for m in seen)  # no stale answer kept
