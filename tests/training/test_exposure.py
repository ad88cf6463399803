"""The window's events as the response propensity reads them, and why it needs them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.insight.estimates import estimate
from training.insight.exposure import window_exposure
from training.insight.propensity import response_propensity

START, END = pd.Timestamp("2026-01-01"), pd.Timestamp("2026-04-01")


def test_events_are_counted_in_the_window_only_and_answers_never() -> None:
    tables = {
        "customers": pd.DataFrame({"customer_id": ["a", "b", "c"]}),
        "tickets": pd.DataFrame(
            {
                "customer_id": ["a", "a", "b", "zz"],
                "opened_at": pd.to_datetime(["2026-01-05", "2025-12-31", "2026-03-31", "2026-02-01"]),
            }
        ),
        "deliveries": pd.DataFrame(
            {"customer_id": ["c", "c"], "ordered_at": pd.to_datetime(["2026-04-01", "2026-02-02"])}
        ),
        "surveys": pd.DataFrame({"customer_id": ["a"], "responded_at": pd.to_datetime(["2026-02-01"])}),
        "churn": pd.DataFrame({"customer_id": ["b"], "churned_at": pd.to_datetime(["2026-03-01"])}),
        "my_extra_table": pd.DataFrame({"customer_id": ["a"], "at": pd.to_datetime(["2026-02-01"])}),
    }
    counts = window_exposure(tables, ["c", "b", "a"], START, END)
    assert list(counts.columns) == ["tickets_in_window", "deliveries_in_window"]
    assert counts["tickets_in_window"].tolist() == [0, 1, 1]  # the window's end is outside it
    assert counts["deliveries_in_window"].tolist() == [1, 0, 0]


def test_no_event_table_gives_no_column() -> None:
    tables = {"customers": pd.DataFrame({"customer_id": ["a"]})}
    assert window_exposure(tables, ["a"], START, END).shape == (1, 0)


def test_invitations_after_a_window_event_are_corrected_only_by_counting_it() -> None:
    # a ticket in the window lowers satisfaction and brings a survey: the start's features miss it
    rng = np.random.default_rng(3)
    n = 40_000
    plan = pd.Series(rng.choice(["basic", "premium"], n))
    ticket = rng.random(n) < 0.2
    truth = 6.0 + 0.5 * (plan == "premium").to_numpy() - 2.0 * ticket + rng.normal(0, 1, n)
    answered = rng.random(n) < np.where(ticket, 0.6, 0.1)
    answers = np.where(answered, truth, np.nan)
    model = np.full(n, 6.25)  # fitted before the window: it cannot know the tickets
    start_only = pd.DataFrame({"plan": plan})
    with_window = start_only.assign(tickets_in_window=ticket.astype(float))
    missed = estimate(model, model, answers, response_propensity(start_only, ["plan"], answered))
    seen = estimate(
        model, model, answers, response_propensity(with_window, ["plan", "tickets_in_window"], answered)
    )
    assert abs(missed.corrected - truth.mean()) > 0.5
    assert abs(seen.corrected - truth.mean()) < 0.05
    assert seen.interval[0] < truth.mean() < seen.interval[1]
