"""Beyond a metric's reach, the corrected figure reads it off the metric reaching furthest (`anchor`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from features.contract import DEFAULT_METRICS
from training.insight.anchor import MIN_WITHIN, anchored, choose_anchor
from training.insight.population import EVENT_DAYS, Population, population_figures

EXTRAPOLATION = 0.3  # how far the CSAT model errs for customers further past an event than its answers


def test_beyond_the_reach_values_follow_the_anchor_through_the_relation_seen_within_it() -> None:
    rng = np.random.default_rng(0)
    z = rng.normal(0, 1, 2000)
    days = np.where(rng.random(2000) < 0.3, 2.0, 60.0)
    days[:10] = np.nan  # never an event: beyond
    truth = 3.5 + 0.5 * z
    values = truth + np.where(days <= 5, 0.0, EXTRAPOLATION)
    read = anchored(values, 7.0 + z, days, edge=5.0)
    within = days <= 5
    np.testing.assert_array_equal(read[within], values[within])
    assert np.abs(read[~within] - truth[~within]).mean() < 0.05
    assert np.abs(values[~within] - truth[~within]).mean() == pytest.approx(EXTRAPOLATION)


def test_too_few_within_reach_or_none_beyond_leaves_the_values_as_they_are() -> None:
    values = np.linspace(0, 1, 200)
    few = np.where(np.arange(200) < MIN_WITHIN - 1, 1.0, 60.0)
    assert anchored(values, values, few, edge=5.0) is values
    assert anchored(values, values, np.ones(200), edge=5.0) is values


def test_the_anchor_reaches_twice_as_far_and_of_two_that_do_is_the_one_answered_most() -> None:
    current = pd.DataFrame({"nps_score": [7.0], "csat_score": [4.0], "ces_score": [3.0]})
    edges = {"nps": 80.0, "csat": 8.0, "ces": 90.0}
    assert choose_anchor("csat", edges, {"nps": 500, "csat": 400, "ces": 40}, current) == "nps"
    assert choose_anchor("csat", edges, {"nps": 5, "csat": 400, "ces": 40}, current) == "ces"
    assert (
        choose_anchor("csat", edges, {"nps": 500}, current[["csat_score", "ces_score"]]) == "ces"
    )  # no score
    assert choose_anchor("nps", edges, {"nps": 500, "ces": 40}, current) is None  # CES reaches barely further
    assert choose_anchor("csat", {"nps": None, "csat": 8.0}, {}, current) is None
    assert choose_anchor("csat", {"nps": 0.0, "csat": 0.0}, {}, current) is None  # all at the event


def two_metric_population(n: int = 4000, seed: int = 0, with_nps: bool = True) -> tuple[Population, float]:
    """NPS asked at any distance from an event, CSAT 2 days after one; the CSAT model errs beyond that.

    Returns the population and the true CSAT mean of the whole base.
    """
    rng = np.random.default_rng(seed)
    ids = pd.Series([f"C{i}" for i in range(n)])
    z = rng.normal(0, 1, n)
    days = np.where(rng.random(n) < 0.3, 2.0, 60.0)
    nps, csat = 7.0 + z, 3.5 + 0.5 * z
    current = pd.DataFrame({"nps_score": nps, "csat_score": csat + np.where(days <= 2, 0.0, EXTRAPOLATION)})
    frames = [_answers(rng, ids, "csat", csat, np.full(n, 2.0))]
    if with_nps:
        frames.append(_answers(rng, ids, "nps", nps, rng.uniform(0, 90, n)))
    features = pd.DataFrame({"tenure": rng.normal(0, 1, n)})
    population = Population(
        ids, current, features, ["tenure"], pd.concat(frames, ignore_index=True), pd.DataFrame(), days
    )
    return population, float(csat.mean())


def _answers(
    rng: np.random.Generator, ids: pd.Series, metric: str, expected: np.ndarray, days: np.ndarray
) -> pd.DataFrame:
    """40% of the customers answer, each as the model then predicted give or take noise."""
    asked = rng.random(len(ids)) < 0.4
    return pd.DataFrame(
        {
            "customer_id": ids[asked].to_numpy(),
            "metric": metric,
            "score": expected[asked] + rng.normal(0, 0.5, asked.sum()),
            f"{metric}_score": expected[asked],
            EVENT_DAYS: days[asked],
        }
    )


def test_the_corrected_csat_reads_the_quiet_customers_off_nps_and_covers_the_truth() -> None:
    population, truth = two_metric_population()
    summary: dict[str, Any] = population_figures(population, DEFAULT_METRICS)
    csat = summary["csat_mean"]
    assert csat["model"] == pytest.approx(truth + 0.7 * EXTRAPOLATION, abs=0.02)  # as `score` writes it
    assert csat["interval"][0] <= truth <= csat["interval"][1]
    assert summary["response"]["csat"]["beyond_reach_read_from"] == "nps"
    assert "beyond_reach_read_from" not in summary["response"]["nps"]
    assert (
        "read off a metric whose answers reach at least twice as far" in summary["assumptions"]["corrected"]
    )


def test_without_a_metric_reaching_further_the_csat_extrapolation_stays_in_the_corrected_figure() -> None:
    population, truth = two_metric_population(with_nps=False)
    summary: dict[str, Any] = population_figures(population, DEFAULT_METRICS)
    csat = summary["csat_mean"]
    assert csat["corrected"] - truth == pytest.approx(0.7 * EXTRAPOLATION, abs=0.05)
    assert not csat["interval"][0] <= truth <= csat["interval"][1]
    assert "beyond_reach_read_from" not in summary["response"]["csat"]
