"""The dashboard's views of files and scores, without a server: rules problems, summary, history, charts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from serving.schemas import ChurnRisk, Reason
from serving.scorer import Prediction
from serving.ui.base_trend import _month, month_ends, over_time
from serving.ui.base_view import SummaryFile, base_view, driver_words
from serving.ui.history import moments, why_moved
from serving.ui.rules_view import located_problems
from serving.ui.svg_charts import line_chart

SUMMARY = {
    "as_of": "2026-01-31T00:00:00",
    "window": {"days": 90},
    "nps": {
        "respondents": 20.0,
        "model": 12.5,
        "corrected": 14.0,
        "interval": [10.0, 18.0],
        "n_respondents": 300,
        "customers": 5000,
    },
    "response": {"nps": {"rate": 0.06}},
    "by": {
        "region": [
            {
                "level": "<North>",
                "customers": 10,
                "nps": {"respondents": 5.0, "model": 4.0, "corrected": 4.5, "interval": [1.0, 8.0]},
            }
        ]
    },
    "drivers": [{"model": "churn", "feature": "deliveries_late_count_30d", "push_per_customer": 0.2}],
    "themes": [],
    "what_if": [
        {"scenario": "on_time", "description": "every delivery on time", "nps": 12.5, "nps_after": 15.0}
    ],
    "calibration": {"nps": [{"predicted": 0.2, "observed": 0.25, "answers": 40}]},
}


def test_a_broken_rules_file_is_shown_at_each_problems_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text("rules:\n  - name: a\n    when: churn.probability >\n", encoding="utf-8")
    error = f"{path}:3:11: rule 'a': when: the expression ends early\n{path}:9:1: beyond the file"
    found = located_problems({"path": str(path), "error": error})
    assert found[0] == {
        "line": 3,
        "column": 11,
        "message": "rule 'a': when: the expression ends early",
        "text": "    when: churn.probability >",
    }
    assert found[1]["text"] == ""  # a line the file no longer has
    assert located_problems({"path": str(path), "error": None}) == []


def test_the_summary_is_drawn_with_its_figures_segments_drivers_and_escaped_labels() -> None:
    view = base_view(SUMMARY, {"deliveries_late_count_30d": "late deliveries in 30 days"})
    (nps,) = view["figures"]
    assert nps["corrected"] == 14.0 and nps["interval"] == [10.0, 18.0] and nps["response"]["rate"] == 0.06
    assert "<svg" in view["figures_svg"]
    assert "&lt;North&gt;" in view["segments_svg"]["NPS by region"]  # user data never becomes markup
    assert "late deliveries in 30 days" in view["drivers_svg"] and view["themes_svg"] == ""
    assert view["what_if"][0]["nps_after"] == 15.0 and "<svg" in view["calibration_svg"]["nps"]


def test_a_driver_family_reads_as_its_members_words_without_the_window() -> None:
    words = {
        "deliveries_days_late_sum_30d": "total days late in the last 30 days",
        "deliveries_days_late_sum_all": "total days late ever",
        "calls_wait_s_mean_90d": "average wait in seconds in the last 90 days",
        "tenure_days": "days since the customer joined",
    }
    assert driver_words("deliveries_days_late_sum", words) == "total days late"
    assert driver_words("calls_wait_s_mean", words) == "average wait in seconds"
    assert driver_words("tenure_days", words) == "days since the customer joined"
    assert driver_words("text_theme_unknown", words) == "text_theme_unknown"  # nothing to say it better
    words["deliveries_status_last"] = "status of the last delivery"
    assert driver_words("deliveries_status_last=damaged", words) == "status of the last delivery: damaged"


def test_the_summary_file_is_read_again_only_when_it_changes(tmp_path: Path) -> None:
    summary = SummaryFile(tmp_path)
    assert summary.view({}) is None  # no report yet
    target = tmp_path / "_out" / "summary.json"
    target.parent.mkdir()
    target.write_text(json.dumps(SUMMARY), encoding="utf-8")
    first = summary.view({})
    assert first is not None and summary.view({}) is first
    target.write_text(json.dumps(SUMMARY | {"as_of": "2026-02-28T00:00:00"}), encoding="utf-8")
    assert summary.view({})["as_of"] == "2026-02-28T00:00:00"  # type: ignore[index]


def _churn(probability: float, **pushes: float) -> Prediction:
    reasons = [Reason(feature=f, sentence=f"{f} said", value=1.0, log_odds=v) for f, v in pushes.items()]
    return Prediction({}, ChurnRisk(probability=probability, horizon_days=90, reasons=reasons))


def test_why_a_customer_moved_names_the_reasons_whose_push_changed_most() -> None:
    before = _churn(0.1, tickets=0.1, late=0.0, tenure=-0.3)
    after = _churn(0.6, tickets=0.12, late=1.2, tenure=-0.1)
    assert why_moved(before, after) == [
        "late said (moved the risk up)",
        "tenure said (moved the risk up)",
    ]
    assert why_moved(after, after) == []


def test_the_history_moments_end_at_the_row_and_step_back_thirty_days() -> None:
    at = moments(1_000 * 86_400 * 1_000_000, months=2)
    assert [m // (86_400 * 1_000_000) for m in at] == [940, 970, 1000]


def test_a_line_chart_leaves_out_missing_points_and_escapes_names() -> None:
    svg = line_chart(["Jan", "Feb", "Mar"], {"<b>risk</b>": [10.0, None, 30.0]}, "risk")
    assert svg.count("<circle") == 2 and "&lt;b&gt;risk&lt;/b&gt;" in svg and "<b>" not in svg


def test_surveyed_and_predicted_months_share_one_axis_with_gaps_left_out() -> None:
    surveyed = {"months": ["2026-01", "2026-02", "2026-03"], "series": {"NPS surveyed": [10.0, None, 30.0]}}
    predicted = {"months": ["2026-02", "2026-03"], "series": {"NPS predicted": [15.0, 25.0]}}
    svg = over_time(surveyed, predicted)
    assert svg.count("<circle") == 4 and "Jan 26" in svg and "NPS predicted" in svg
    assert over_time({"months": [], "series": {}}, {"months": [], "series": {}}) == ""


def test_the_predicted_months_are_the_last_calendar_months_each_once() -> None:
    as_of = int(dt.datetime(2026, 6, 29, 23, 19, tzinfo=dt.UTC).timestamp()) * 1_000_000
    at = month_ends(as_of)
    # 30-day steps back from 29 June fall twice in March and never in February
    assert [_month(m) for m in at] == ["2025-12"] + [f"2026-0{m}" for m in range(1, 7)]
    june = int(dt.datetime(2026, 6, 1, tzinfo=dt.UTC).timestamp()) * 1_000_000
    assert at[-1] == as_of and at[-2] == june - 1  # what was known by the end of May
