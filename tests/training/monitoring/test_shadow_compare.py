"""Champion against challenger from shadow rows: differences, rank correlation, labels and realised AUC."""

from __future__ import annotations

import pandas as pd
import pytest

from training.monitoring.shadow import NO_CHALLENGER, churn_labeller, compare_shadow, survey_labeller

DAY = 86_400.0
T0 = pd.Timestamp("2026-01-01", tz="UTC")


def rows(values: list[tuple[str, float, float]], output: str = "churn_probability") -> pd.DataFrame:
    """Shadow rows of customers scored at T0: (customer, champion, challenger)."""
    return pd.DataFrame(
        {
            "scored_at": range(len(values)),
            "customer_id": [v[0] for v in values],
            "features_at": T0.timestamp(),
            "model": "cx-churn",
            "output": output,
            "champion_version": "1",
            "challenger_version": "2",
            "champion": [v[1] for v in values],
            "challenger": [v[2] for v in values],
        }
    )


def test_no_rows_say_there_is_no_challenger() -> None:
    check = compare_shadow(rows([]), {})
    assert check.comparisons == [] and check.summary == NO_CHALLENGER


def test_differences_and_rank_correlation_count_a_customer_rescored_on_the_same_features_once() -> None:
    shadowed = rows([("A", 0.1, 0.2), ("B", 0.5, 0.4), ("C", 0.9, 0.6), ("C", 0.9, 0.6)])
    (c,) = compare_shadow(shadowed, {}).comparisons
    assert c.rows == 3
    assert c.mean_abs_diff == pytest.approx((0.1 + 0.1 + 0.3) / 3) and c.max_abs_diff == pytest.approx(0.3)
    assert c.rank_correlation == pytest.approx(1.0) and c.champion_auc is None


def test_churn_labels_are_known_within_the_horizon_or_once_it_has_passed() -> None:
    churn = pd.DataFrame(
        {"customer_id": ["A", "B", "D"], "churned_at": [T0 + pd.Timedelta(days=d) for d in (10, 200, -5)]}
    )
    shadowed = rows([("A", 0.9, 0.6), ("B", 0.2, 0.7), ("C", 0.1, 0.1), ("D", 0.5, 0.5)])
    closed = churn_labeller(churn, 90, T0 + pd.Timedelta(days=120))(shadowed)
    assert closed.tolist()[:3] == [1.0, 0.0, 0.0] and pd.isna(closed.iloc[3]), "D was gone before"
    open_ = churn_labeller(churn, 90, T0 + pd.Timedelta(days=30))(shadowed)
    assert open_.iloc[0] == 1.0 and open_.iloc[1:].isna().all(), "no stayer is known before the horizon ends"
    (c,) = compare_shadow(
        shadowed, {"churn_probability": churn_labeller(churn, 90, T0 + pd.Timedelta(days=120))}
    ).comparisons
    assert c.labelled_rows == 3 and c.champion_auc == 1.0 and c.challenger_auc == 0.5


def test_survey_labels_are_the_first_answer_after_the_moment() -> None:
    surveys = pd.DataFrame(
        {
            "customer_id": ["A", "A", "B", "C"],
            "responded_at": [
                T0 - pd.Timedelta(days=3),
                T0 + pd.Timedelta(days=2),
                T0 + pd.Timedelta(days=5),
                T0,
            ],
            "metric": ["nps", "nps", "nps", "nps"],
            "score": [10, 3, 9, 2],
        }
    )
    shadowed = rows([("A", 0.8, 0.3), ("B", 0.2, 0.4), ("C", 0.9, 0.9)], "nps_negative_probability")
    labels = survey_labeller(surveys, "nps", lambda score: score <= 6)(shadowed)
    assert labels.iloc[0] == 1.0 and labels.iloc[1] == 0.0 and pd.isna(labels.iloc[2]), (
        "C answered at the moment"
    )
