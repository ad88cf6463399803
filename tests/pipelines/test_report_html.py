"""index.html from a summary: self-contained, escaped, one chart per figure a person would rather see."""

from __future__ import annotations

import re

from pipelines.report_html import render_report
from serving.ui.svg_charts import IntervalRow, interval_chart

FIGURE = {"respondents": 20.0, "model": 15.0, "corrected": 12.0, "interval": [8.0, 16.0], "n_respondents": 30}
SUMMARY = {
    "customers": 1200,
    "window": {"start": "2026-04-01T00:00:00", "end": "2026-06-30T00:00:00", "days": 90},
    "nps": FIGURE,
    "by": {"segment": [{"level": "<script>alert(1)</script>", "customers": 5, "nps": FIGURE}]},
    "response": {"nps": {"rate": 0.2, "clipped_share": 0.01}},
    "assumptions": {"respondents": "a", "model": "b", "corrected": "c"},
    "drivers": [
        {
            "model": "nps",
            "feature": "deliveries_late_count_90d",
            "customers": 10,
            "share": 0.1,
            "mean_push": 0.3,
            "push_per_customer": 0.03,
        }
    ],
    "themes": [],
    "what_if": [
        {
            "scenario": "late_deliveries_halved",
            "description": "half the late deliveries on time",
            "nps_change": 1.5,
        }
    ],
    "what_if_basis": {"revenue_kept": "not computed"},
    "calibration": {
        "nps": [
            {"predicted": 0.1, "observed": 0.12, "answers": 40},
            {"predicted": 0.5, "observed": 0.45, "answers": 9},
        ]
    },
    "worklist": [{"customer_id": "C1", "risk": 0.4, "reason": "3 late deliveries"}],
}


def test_the_page_is_self_contained_and_escapes_what_the_data_holds() -> None:
    page = render_report(SUMMARY)
    assert "<script" not in page.replace("&lt;script", "")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "@media print" in page
    assert page.count("<svg") == 4  # NPS, response rates, drivers, one calibration
    assert "half the late deliveries on time" in page and "C1" in page


def test_the_interval_chart_places_the_corrected_figure_inside_its_interval() -> None:
    svg = interval_chart([IntervalRow("base", 20.0, 15.0, 12.0, (8.0, 16.0))], "NPS")
    line = re.search(r'<line x1="([\d.]+)" x2="([\d.]+)" y1="[\d.]+" y2="[\d.]+" stroke="#c05621"', svg)
    diamond = re.search(r'<path d="M([\d.]+) ', svg)
    assert line and diamond
    assert float(line[1]) < float(diamond[1]) < float(line[2])
