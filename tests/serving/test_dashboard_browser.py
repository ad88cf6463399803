"""The dashboard in headless Chromium against the real `cxpredict serve`: an agent's day, then a manager's.

Every request the page makes is recorded (none may leave the machine), each step keeps a screenshot,
and each page's load time (navigation to its content on screen) is printed for the benchmarks.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd
import pytest

from models.mlflow_config import MlflowConfig
from serving.keys import Role
from tests.chromium import CHROMIUM, MISSING, launch, screenshots
from tests.serving.server_process import free_port, start_server, stop_server, wait_ready
from tests.serving.service_env import angry_call, bearer, copy_workspace, create_keys, late_delivery

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING)]
CUSTOMER = "C0000007"
LOCAL = {"127.0.0.1", "localhost"}
Served = tuple[str, dict[Role, str], Path]
BROKEN_RULES = "rules:\n  - name: broken\n    when: churn.probability >\n    actions: [{flag: x}]\n"


@pytest.fixture(scope="module")
def served(trained: tuple[Path, MlflowConfig], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module, its rules notifying a port nobody listens on."""
    root = tmp_path_factory.mktemp("dashboard")
    workspace = copy_workspace(trained, root / "ws", f"http://127.0.0.1:{free_port()}/hook")
    write_report(workspace, trained[1])
    keys, port = create_keys(workspace), free_port()
    server = start_server(workspace, trained[1], port, root / "server.log")
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, root / "server.log")
        yield f"http://127.0.0.1:{port}", keys, workspace
    finally:
        stop_server(server)


def write_report(workspace: Path, mlflow_config: MlflowConfig) -> None:
    """What `cxpredict report` writes, where the demo puts it: the overview's whole-base figures."""
    from features.config import load_config
    from features.validation import load_workspace
    from pipelines.insight import whole_base

    loaded = load_workspace(workspace, load_config(workspace))
    summary = whole_base(loaded.tables, loaded.config, mlflow_config)
    (workspace / "_out").mkdir(exist_ok=True)
    (workspace / "_out" / "summary.json").write_text(json.dumps(summary), encoding="utf-8")


def _post_events(base: str, key: str, events: dict[str, Any]) -> None:
    answer = httpx.post(f"{base}/events", json=events, headers=bearer(key), timeout=60)
    assert answer.status_code == 200, answer.text


def _as_of(base: str, key: str) -> pd.Timestamp:
    answer = httpx.get(f"{base}/customers/{CUSTOMER}", headers=bearer(key), timeout=60)
    return pd.Timestamp(answer.json()["freshness"]["as_of"])


class Visit:
    """One browser page with every request recorded, screenshots and load times kept."""

    def __init__(self, page: Any, base: str, shots: Path) -> None:
        self.page, self.base, self.shots = page, base, shots
        self.requests: list[str] = []
        self.loads: dict[str, float] = {}
        page.on("request", lambda request: self.requests.append(request.url))

    def open(self, name: str, hash_: str, ready: str) -> Any:
        """Go to `/ui#hash_`, wait for `ready` on screen, keep the time it took and a screenshot.

        Every page is read at the window's width: nothing wider than it (wide tables scroll inside).
        """
        start = time.perf_counter()
        self.page.goto(f"{self.base}/ui#{hash_}")
        found = self.page.locator(ready).first
        found.wait_for(state="visible", timeout=30_000)
        self.loads[name] = time.perf_counter() - start
        self.shot(name)
        width = self.page.viewport_size["width"]
        assert self.page.evaluate("document.documentElement.scrollWidth") <= width, f"{name} at {width} px"
        return found

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"ui-{name}.png"), full_page=True)

    def log_in(self, key: str) -> None:
        self.page.goto(f"{self.base}/ui")
        self.page.fill("#key", key)
        self.page.keyboard.press("Enter")  # the form is used from the keyboard
        self.page.locator("#who").wait_for(state="visible")
        self.shot(f"logged-in-{self.page.locator('#who').inner_text().split()[0].lower()}")


def test_an_agent_works_the_list_and_a_manager_sees_the_overview_with_nothing_leaving_the_machine(
    served: Served, tmp_path: Path
) -> None:
    from playwright.sync_api import expect, sync_playwright

    base, keys, workspace = served
    as_of = _as_of(base, keys[Role.AGENT])
    _post_events(base, keys[Role.INGEST], {"deliveries": [late_delivery(CUSTOMER, as_of, "UI-1")]})
    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile", viewport={"width": 1280, "height": 900})
        visit = Visit(browser.new_page(), base, screenshots(tmp_path))
        # an agent logs in and sees the customer at the top of the worklist, with why
        visit.log_in(keys[Role.AGENT])
        row = visit.open("worklist", "/worklist", f'tr[data-customer="{CUSTOMER}"]')
        expect(row.locator(".band")).to_contain_text("·")
        expect(row.locator(".reasons li").first).not_to_be_empty()
        expect(row.locator(".flag")).to_contain_text("late delivery")  # the rule's flag, in words
        expect(row.locator(".trend")).not_to_have_text("–")  # risk a week ago, from the stored events
        # the customer's page: timeline beside the risk and its reasons
        visit.page.click(f'a[href="#/customer/{CUSTOMER}"]')
        visit.page.locator("#scores .reasons li").first.wait_for()
        visit.loads["customer"] = _timed(visit, "customer", f"/customer/{CUSTOMER}", "#scores .reasons li")
        expect(visit.page.locator("#timeline")).to_contain_text("Order UI-1")
        # beside it: the risk over the last months and why it moved (the late delivery)
        expect(visit.page.locator("#history-chart svg circle")).not_to_have_count(0)
        expect(visit.page.locator("#moved")).to_contain_text("moved the risk")
        before = visit.page.locator("#timeline li").count()
        # an event arrives through the API: the open page shows it without a reload
        call = angry_call(CUSTOMER, as_of, "UI-2") | {
            "transcript": "Write to jane.doe@example.com, I want to cancel."
        }
        _post_events(base, keys[Role.INGEST], {"calls": [call]})
        expect(visit.page.locator("#timeline li")).to_have_count(before + 1, timeout=20_000)
        # with its transcript, redacted
        expect(visit.page.locator("#timeline")).to_contain_text("Write to <EMAIL>, I want to cancel.")
        assert "jane.doe" not in visit.page.content()
        visit.shot("customer-after-event")
        # the skip link moves the focus into the page, which stays the customer's
        visit.page.focus("a.skip")
        visit.page.keyboard.press("Enter")
        assert visit.page.evaluate("document.activeElement.id") == "main"
        expect(visit.page.locator("#timeline")).to_contain_text("Order UI-1")
        # marked handled: recorded with who, and off the worklist
        visit.page.focus("button.handled")  # a real button: reached and pressed from the keyboard
        visit.page.keyboard.press("Enter")
        expect(visit.page.locator("#handled")).to_contain_text("handled by test-agent")
        visit.shot("customer-handled")
        visit.open("worklist-handled", "/worklist", "table.worklist")
        expect(visit.page.locator(f'tr[data-customer="{CUSTOMER}"]')).to_have_count(0)
        # the rules page is refused to an agent, by the service itself
        visit.open("rules-refused", "/rules", "#refused")
        # a manager sees the overview's charts rendered
        visit.page.click("#logout")
        visit.log_in(keys[Role.MANAGER])
        chart = visit.open("overview", "/overview", "#distribution svg")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 50
        # the report's whole base three ways with its interval, drivers, their worth and what-ifs;
        # model health
        expect(visit.page.locator("#figures")).to_contain_text("NPS")
        expect(visit.page.locator("#figures-chart svg").first).to_be_visible()
        expect(visit.page.locator("#drivers svg")).to_be_visible()
        expect(visit.page.locator("#what-if tbody tr")).not_to_have_count(0)
        expect(visit.page.locator("#driver-worth tbody tr")).not_to_have_count(0)
        # each driver's worth with room for its interval, which 400 customers' answers are too few for
        expect(visit.page.locator("#driver-worth thead")).to_contain_text("95% interval")
        expect(visit.page.locator("#driver-worth thead")).to_contain_text("Ahead of the next")
        expect(visit.page.locator("#churners")).not_to_be_empty()
        expect(visit.page.locator("#health")).to_contain_text("not monitored yet")
        visit.open("models", "/models", "#versions")
        expect(visit.page.locator("#versions")).to_contain_text("champion")
        expect(visit.page.locator("#holdout-calibration")).to_contain_text("train again")  # logged no curves
        visit.open("rules", "/rules", "#rules")
        expect(visit.page.locator("#active")).to_contain_text("late-delivery-alert")
        expect(visit.page.locator("#active")).not_to_contain_text("never")  # it fired on the late delivery
        expect(visit.page.locator("#active")).to_contain_text(re.compile("queued|failed|dead"))  # its notice
        # a broken rules file is shown at its line and column; the last good rules stay in force
        rules = workspace / "rules.yml"
        good = rules.read_text(encoding="utf-8")
        rules.write_text(BROKEN_RULES, encoding="utf-8")
        try:
            expect(_reloaded(visit, "/rules", "#rules-error")).to_contain_text("line 3, column")
            visit.shot("rules-broken")
        finally:
            rules.write_text(good, encoding="utf-8")
        # readable at phone width too
        visit.page.set_viewport_size({"width": 390, "height": 844})
        for name, hash_, ready in (
            ("overview-phone", "/overview", "#distribution svg"),
            ("worklist-phone", "/worklist", "table.worklist"),
            ("customer-phone", f"/customer/{CUSTOMER}", "#timeline li"),
            ("models-phone", "/models", "#versions"),
            ("rules-phone", "/rules", "#rules"),
        ):
            visit.open(name, hash_, ready)
        browser.close()
    hosts = {urlsplit(url).hostname for url in visit.requests}
    assert hosts <= LOCAL, hosts
    print("\ndashboard load times (s):", json.dumps({k: round(v, 3) for k, v in visit.loads.items()}))


def _reloaded(visit: Visit, hash_: str, ready: str, timeout_s: float = 20) -> Any:
    """Open a page again until `ready` shows (the service looks at the rules file every second)."""
    deadline = time.monotonic() + timeout_s
    while True:
        visit.page.goto("about:blank")
        visit.page.goto(f"{visit.base}/ui#{hash_}")
        visit.page.locator("#rules").wait_for()
        if visit.page.locator(ready).count() or time.monotonic() > deadline:
            return visit.page.locator(ready)
        time.sleep(0.5)


def _timed(visit: Visit, name: str, hash_: str, ready: str) -> float:
    """Load the page afresh (the first visit came by a click) and time it."""
    visit.page.goto("about:blank")
    visit.open(name, hash_, ready)
    return visit.loads[name]


def test_the_page_needs_no_key_but_its_data_does_each_for_its_roles(served: Served) -> None:
    base, keys, _ = served
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.get("/ui").status_code == 200 and http.get("/ui/app.js").status_code == 200
        assert http.get("/me").status_code == 401
        assert http.get("/me", headers=bearer(keys[Role.AGENT])).json()["may"] == ["worklist", "customer"]
        assert http.get("/overview", headers=bearer(keys[Role.AGENT])).status_code == 403
        assert http.get("/models", headers=bearer(keys[Role.AGENT])).status_code == 403
        assert http.get("/history?customer_id=nobody", headers=bearer(keys[Role.AGENT])).status_code == 404
        assert http.get("/timeline?customer_id=nobody", headers=bearer(keys[Role.AGENT])).status_code == 404
        handled = http.post(
            "/worklist/handled", json={"customer_id": "nobody"}, headers=bearer(keys[Role.INGEST])
        )
        assert handled.status_code == 403


def test_history_trends_models_and_the_report_come_from_the_events_the_registry_and_the_summary(
    served: Served,
) -> None:
    base, keys, _ = served
    agent, manager = bearer(keys[Role.AGENT]), bearer(keys[Role.MANAGER])
    with httpx.Client(base_url=base, timeout=60) as http:
        history = http.get(f"/history?customer_id={CUSTOMER}", headers=agent).json()
        moments = [p["at"] for p in history["points"]]
        assert len(moments) == 7 and moments == sorted(moments) and "<svg" in history["chart_svg"]
        assert all(0 <= p["churn"] <= 1 and "nps" in p["metrics"] for p in history["points"])
        trends = http.post("/worklist/trends", json={"customer_ids": [CUSTOMER, "nobody"]}, headers=agent)
        assert list(trends.json()["week_ago"]) == [CUSTOMER]
        (churn,) = [m for m in http.get("/models", headers=manager).json()["models"] if m["kind"] == "churn"]
        champion = churn["versions"][0]
        assert champion["role"] == "champion" and champion["run_id"] in champion["run_url"]
        overview = http.get("/overview", headers=manager).json()
        assert 0 < overview["expected_churners"] < overview["customers"]
        nps = next(f for f in overview["base"]["figures"] if f["name"] == "nps")
        assert nps["interval"][0] <= nps["corrected"] <= nps["interval"][1]
