"""The dashboard's assets and roles, without a server: what is open, what each role may open."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from serving.auth import needed_role
from serving.keys import Role
from serving.ui.assets import Assets
from serving.ui.data import OverviewCache, band, pages_for


def _get(path: str, method: str = "GET") -> tuple[int, dict[bytes, bytes], bytes, list[str]]:
    """Ask `Assets` for a path; the paths it passed on to the app behind it."""
    passed: list[str] = []
    sent: list[dict[str, Any]] = []

    async def behind(scope: dict[str, Any], receive: Any, send: Any) -> None:
        passed.append(scope["path"])

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "method": method, "headers": []}
    asyncio.run(Assets(behind)(scope, lambda: None, send))
    if not sent:
        return 0, {}, b"", passed
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"], passed


def test_the_page_and_its_assets_are_served_with_a_policy_that_keeps_them_to_the_service() -> None:
    status, headers, body, _ = _get("/ui")
    assert status == 200 and b'src="/ui/app.js"' in body and b"http" not in body  # no asset from elsewhere
    assert headers[b"content-type"].startswith(b"text/html")
    assert b"default-src 'self'" in headers[b"content-security-policy"]
    for asset in ("/ui/app.js", "/ui/app.css"):
        assert _get(asset)[0] == 200


@pytest.mark.parametrize("path", ["/ui/../serving/keys.py", "/ui/static/app.js", "/ui/data.py", "/ui/x"])
def test_only_the_listed_files_are_served(path: str) -> None:
    assert _get(path)[0] == 404


def test_other_paths_go_on_to_the_service_and_assets_refuse_writes() -> None:
    assert _get("/worklist")[3] == ["/worklist"]
    assert _get("/uix")[3] == ["/uix"]
    assert _get("/ui", "POST")[0] == 405


def test_each_role_opens_the_pages_its_endpoints_allow() -> None:
    assert pages_for(Role.AGENT) == ["worklist", "customer"]
    assert pages_for(Role.MANAGER) == ["worklist", "customer", "overview", "models", "rules"]
    assert pages_for(Role.ADMIN)[-1] == "reload"
    assert pages_for(Role.INGEST) == []
    assert needed_role("GET", "/overview") == Role.MANAGER
    assert needed_role("POST", "/worklist/handled") == Role.AGENT
    assert needed_role("GET", "/timeline") == Role.AGENT
    assert needed_role("GET", "/history") == Role.AGENT
    assert needed_role("POST", "/worklist/trends") == Role.AGENT
    assert needed_role("GET", "/models") == Role.MANAGER


@pytest.mark.parametrize(
    ("probability", "expected"), [(0.9, "high"), (0.5, "high"), (0.3, "medium"), (0.01, "low")]
)
def test_risk_bands(probability: float, expected: str) -> None:
    assert band(probability) == expected


def test_the_overview_is_made_once_then_again_in_the_background_when_stale() -> None:
    made: list[float] = []
    now = [0.0]
    done = threading.Event()

    def make() -> Any:
        made.append(now[0])
        if len(made) == 2:
            done.set()
        return len(made)

    cache = OverviewCache(make, ttl_s=30, clock=lambda: now[0])
    assert cache.get() == 1 and cache.get() == 1 and made == [0.0]  # kept
    now[0] = 31.0
    assert cache.get() == 1  # stale: answered at once, a fresh one is being made
    assert done.wait(10)
    for _ in range(100):
        if cache.get() == 2:
            break
        time.sleep(0.01)
    assert cache.get() == 2 and made == [0.0, 31.0]


def test_a_failed_refresh_keeps_the_last_answer_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    now, calls = [0.0], [0]
    failed = threading.Event()

    def make() -> int:
        calls[0] += 1
        if calls[0] > 1:
            failed.set()
            raise ConnectionError("the registry is down\nits long trace")
        return 1

    cache = OverviewCache(make, ttl_s=30, clock=lambda: now[0], name="Models page")
    assert cache.get() == 1
    now[0] = 31.0
    with caplog.at_level("WARNING", logger="serving.ui.data"):
        assert cache.get() == 1
        assert failed.wait(10)
        for _ in range(100):  # the warning is logged just after the failure
            if caplog.records:
                break
            time.sleep(0.01)
    assert cache.get() == 1
    assert [r.getMessage() for r in caplog.records] == [
        "kept the previous Models page, a fresh one failed: the registry is down"
    ]


def test_requests_that_find_nothing_kept_wait_for_one_computation() -> None:
    made, started = [0], threading.Event()

    def make() -> int:
        made[0] += 1
        started.set()
        time.sleep(0.2)
        return made[0]

    cache = OverviewCache(make)
    answers: list[int] = []
    threads = [threading.Thread(target=lambda: answers.append(cache.get())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [1, 1, 1, 1] and made == [1]
