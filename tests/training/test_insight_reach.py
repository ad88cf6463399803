"""How far the base now lies from the moments its answers measured (`training.insight.reach`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from features.contract import DEFAULT_METRICS
from tests.training.test_insight import small_population
from training.insight.population import EVENT_DAYS, Population, population_figures
from training.insight.reach import latest_event_days, reach


def test_the_latest_event_is_the_nearest_of_the_named_tables_and_never_a_survey() -> None:
    features = pd.DataFrame(
        {
            "deliveries_days_since_last": [3.0, np.nan, 40.0, np.nan],
            "tickets_days_since_last": [10.0, 2.0, np.nan, np.nan],
            "surveys_days_since_last": [0.5, 0.5, 0.5, 0.5],  # an answer is not an experience
        }
    )
    days = latest_event_days(features, ["deliveries", "tickets", "calls"])
    np.testing.assert_array_equal(days, [3.0, 2.0, 40.0, np.nan])
    assert np.isnan(latest_event_days(features, ["calls"])).all()


def test_reach_compares_the_answers_recency_with_the_bases_and_counts_the_never_seen_as_beyond() -> None:
    answers = np.r_[np.arange(1.0, 21.0), np.nan]  # 95% of the answers within 19.05 days of an event
    base = np.array([1.0, 5.0, 19.0, 19.5, 60.0, np.nan])
    found = reach(answers, base)
    assert found == {"answer_event_days": 10.5, "base_event_days": 19.0, "beyond_answers_share": 0.5}
    assert reach(np.array([np.nan]), base)["beyond_answers_share"] is None


def test_the_response_section_says_how_far_past_an_event_the_answers_came_and_the_base_is() -> None:
    plain = small_population()
    n = len(plain.customer_id)
    answers = plain.answers.assign(**{EVENT_DAYS: 2.0})
    population = Population(
        plain.customer_id,
        plain.current,
        plain.features,
        ["tenure"],
        answers,
        plain.groups,
        np.where(np.arange(n) < n // 4, 1.0, 30.0),
    )
    response = population_figures(population, DEFAULT_METRICS)["response"]["nps"]
    assert response["answer_event_days"] == 2.0 and response["base_event_days"] == 30.0
    assert response["beyond_answers_share"] == pytest.approx(0.75)
    assert "answer_event_days" not in population_figures(plain, DEFAULT_METRICS)["response"]["nps"]
