"""The answer cache: ready JSON per customer, its age written at read time, dropped on refresh."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from serving.answers import Answers
from serving.schemas import ChurnRisk, CustomerScores, Freshness, MetricScore, Reason

AS_OF = dt.datetime(2026, 6, 30, tzinfo=dt.UTC)


def scores(customer_id: str = "C1", probability: float = 0.25) -> CustomerScores:
    reason = Reason(feature="late", sentence="2 late deliveries", value=2.0, log_odds=0.4)
    return CustomerScores(
        customer_id=customer_id,
        metrics={"nps": MetricScore(score=6.5, negative=0.4, classes=None, reasons=[reason])},
        churn=ChurnRisk(probability=probability, horizon_days=90, reasons=[reason]),
        flags=["late-delivery"],
        top_reasons=["2 late deliveries"],
        model_versions={"cx-churn": "1"},
        freshness=Freshness(as_of=AS_OF, age_seconds=0.0),
    )


def micros(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1e6)


def test_an_answer_reads_back_as_the_scores_with_the_age_as_of_now() -> None:
    answers = Answers()
    answers.keep(scores(), micros(AS_OF), generation=1, writes=answers.writes)
    body = answers.body("C1", generation=1)
    assert body is not None
    read = CustomerScores.model_validate_json(body)
    expected_age = time.time() - AS_OF.timestamp()
    assert read.freshness is not None and read.freshness.age_seconds == pytest.approx(expected_age, abs=5)
    assert read.model_copy(update={"freshness": None}) == scores().model_copy(update={"freshness": None})
    assert json.loads(body)["freshness"]["as_of"] == scores().model_dump(mode="json")["freshness"]["as_of"]


def test_a_forgotten_customer_or_another_models_generation_has_no_answer() -> None:
    answers = Answers()
    answers.keep(scores(), micros(AS_OF), generation=1, writes=answers.writes)
    assert answers.body("C1", generation=2) is None
    answers.forget("C1")
    assert answers.body("C1", generation=1) is None


def test_scores_computed_across_a_refresh_are_not_kept() -> None:
    answers = Answers()
    seen = answers.writes  # read before the feature row, as the service does
    answers.forget("C2")  # a refresh lands meanwhile
    answers.keep(scores(), micros(AS_OF), generation=1, writes=seen)
    assert answers.body("C1", generation=1) is None
    answers.keep(scores(), micros(AS_OF), generation=1, writes=answers.writes)
    assert answers.body("C1", generation=1) is not None


def test_the_oldest_answer_goes_past_the_size() -> None:
    answers = Answers(size=2)
    for cid in ("A", "B", "C"):
        answers.keep(scores(cid), micros(AS_OF), generation=1, writes=answers.writes)
    assert (
        answers.body("A", 1) is None and answers.body("B", 1) is not None and answers.body("C", 1) is not None
    )


def test_two_refreshes_finishing_out_of_order_leave_the_newer_answer() -> None:
    answers, older, newer = Answers(), micros(AS_OF), micros(AS_OF) + 1_000_000
    # the later refresh finishes first and is kept
    answers.keep(scores(probability=0.9), newer, generation=1, writes=answers.forget("C1"))
    # the earlier one finishes after it: dropped, never cached over the newer one
    answers.keep(scores(probability=0.1), older, generation=1, writes=answers.forget("C1"))
    assert answers.body("C1", generation=1) is None
    answers.keep(scores(probability=0.9), newer, generation=1, writes=answers.writes)
    kept = answers.scores("C1", generation=1)
    assert kept is not None and kept.churn is not None and kept.churn.probability == 0.9


def test_forgetting_everything_drops_every_answer_and_one_computed_across_it() -> None:
    answers = Answers()
    answers.keep(scores("C1"), micros(AS_OF), generation=1, writes=answers.writes)
    seen = answers.writes  # a read began before another process's changes were missed
    answers.forget_all()
    answers.keep(scores("C2"), micros(AS_OF), generation=1, writes=seen)
    assert answers.body("C1", 1) is None and answers.body("C2", 1) is None
