"""index.html in headless Chromium with the network blocked: every chart renders, nothing is fetched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import app
from pipelines.report_html import PAGE
from pipelines.synthetic.company import generate_company
from tests.chromium import CHROMIUM, MISSING, launch

pytestmark = pytest.mark.slow
runner = CliRunner()
# where the screenshot is kept: the test's temporary folder, or this file (docs/report.png for the README)
SCREENSHOT_ENV = "CXPREDICT_REPORT_SCREENSHOT"


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """index.html of a small company with satisfaction and churn models."""
    root = tmp_path_factory.mktemp("browser")
    folder = root / "company"
    generate_company(folder, customers=400, seed=5)
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db"}
    result = runner.invoke(app, ["train", str(folder), "--holdout-from", "2026-03-01"], env=env)
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["report", str(folder), "--out", str(root / "out")], env=env)
    assert result.exit_code == 0, result.output
    return root / "out"


@pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING)
def test_every_chart_renders_offline_with_no_request_leaving_the_page(report: Path, tmp_path: Path) -> None:
    from playwright.sync_api import Route, sync_playwright

    shot = Path(os.environ.get(SCREENSHOT_ENV, tmp_path / "report.png"))
    blocked: list[str] = []
    failed: list[str] = []

    def only_files(route: Route) -> None:
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = launch(p, tmp_path / "profile")
        page = browser.new_page()
        page.route("**/*", only_files)
        page.on("requestfailed", lambda request: failed.append(request.url))
        page.goto((report / PAGE).as_uri())
        boxes = [svg.bounding_box() for svg in page.locator("svg.chart").all()]
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    summary = json.loads((report / "summary.json").read_text())
    # one NPS chart, response rates, drivers, the drivers' worth and the themes only when some
    # exist (worth: when an NPS is predicted), one per calibrated metric
    worth = any(r.get("nps_change") is not None for r in summary["driver_worth"])
    expected = 3 + worth + bool(summary["themes"]) + len(summary["calibration"])
    assert len(boxes) == expected and len(summary["calibration"]) >= 1
    assert all(box is not None and box["width"] > 0 and box["height"] > 0 for box in boxes), boxes
    assert not blocked and not failed, (blocked, failed)
    assert shot.stat().st_size > 10_000
