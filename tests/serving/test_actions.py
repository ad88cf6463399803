"""The action center: rules fire actions through cooldowns, fatigue caps and quotas; deliveries go out."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from features.online_db import connect
from serving.actions import ActionCenter
from serving.outbox import DeliveryPolicy
from serving.webhooks import verify
from tests.serving.databases import KINDS, database_url, drop_prefixed, opened, unique_prefix
from tests.serving.receiver import Receiver, serving

SECRET = "s3cret"
T0 = dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
FAST = DeliveryPolicy(max_attempts=20, backoff_s=0.02, backoff_max_s=0.1, poll_s=0.02)
RULES = """\
rules:
  - name: churn-alert
    when: churn.probability > 0.4 and features.deliveries_late_count_30d >= 1
    cooldown_days: 7
    actions:
      - notify: {{team: retention, url: "{hook}"}}
      - worklist: {{team: retention, priority: 90}}
      - flag: churn-risk
  - name: detractor-survey
    when: scores.nps.detractor > 0.5
    actions:
      - survey: {{metric: nps, url: "{survey}", fatigue_days: 30, quota_per_day: 2}}
"""


def context(customer: str, churn: float = 0.6, late: int = 2, detractor: float = 0.1) -> dict[str, Any]:
    return {
        "customer_id": customer,
        "churn": {"probability": churn, "horizon_days": 90},
        "scores": {"nps": {"score": 5.0, "negative": detractor, "detractor": detractor}},
        "flags": [],
        "features": {"deliveries_late_count_30d": late},
        "attributes": {"email": "someone@example.com"},
        "value": 2.0,
        "reasons": ["2 late deliveries in 30 days"],
    }


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


@pytest.fixture(params=KINDS)
def place(
    request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver
) -> Iterator[tuple[str, str, Path]]:
    """A database URL, a table prefix of this test's own and a rules file."""
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES.format(hook=receiver.url("/hook"), survey=receiver.url("/survey")))
    prefix = unique_prefix()
    yield database_url(request.param, tmp_path), prefix, rules
    with opened(request.param, tmp_path) as db:
        drop_prefixed(db, prefix)


@pytest.fixture
def center(place: tuple[str, str, Path]) -> Iterator[ActionCenter]:
    url, prefix, rules = place
    opened_center = ActionCenter.open(
        connect(url), rules, webhook_secret=SECRET, policy=FAST, prefix=prefix, check_rules_every_s=0
    )
    yield opened_center
    opened_center.stop()
    opened_center.db.close()


def kinds(taken: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(t["rule"], t["kind"]) for t in taken]


def test_a_fired_rule_takes_each_of_its_actions(center: ActionCenter) -> None:
    taken = center.apply("C1", context("C1"), T0)
    assert kinds(taken) == [("churn-alert", "notify"), ("churn-alert", "worklist"), ("churn-alert", "flag")]
    assert [t["status"] for t in taken] == ["queued", "done", "done"]
    assert center.flags("C1") == ["churn-risk"]
    assert center.counters()["queued"] == 1


def test_a_rule_whose_condition_fails_takes_nothing(center: ActionCenter) -> None:
    assert center.apply("C1", context("C1", late=0), T0) == []
    assert center.apply("C2", context("C2") | {"features": {}}, T0) == []  # a missing feature
    assert center.flags("C1") == [] and center.counters()["queued"] == 0
    assert "deliveries_late_count_30d" in center.rules_status()["unevaluated"]["churn-alert"]


def test_rules_see_the_flags_earlier_rules_set(center: ActionCenter, place: tuple[str, str, Path]) -> None:
    rules = place[2]
    rules.write_text(
        rules.read_text() + "  - name: escalate\n    when: '\"churn-risk\" in flags'\n"
        "    actions:\n      - worklist: {team: escalations, priority: 100}\n"
    )
    assert "escalate" not in {t["rule"] for t in center.apply("C1", context("C1"), T0)}
    later = center.apply("C1", context("C1", late=0), T0 + dt.timedelta(hours=1))
    assert kinds(later) == [("escalate", "worklist")]


def test_an_action_waits_out_its_cooldown(center: ActionCenter) -> None:
    assert len(center.apply("C1", context("C1"), T0)) == 3
    assert center.apply("C1", context("C1"), T0 + dt.timedelta(days=6, hours=23)) == []
    assert len(center.apply("C2", context("C2"), T0 + dt.timedelta(hours=1))) == 3  # another customer
    assert len(center.apply("C1", context("C1"), T0 + dt.timedelta(days=7))) == 3


def test_a_customer_is_surveyed_at_most_once_per_fatigue_period(center: ActionCenter) -> None:
    detractor = context("C1", churn=0.1, detractor=0.9)
    assert kinds(center.apply("C1", detractor, T0)) == [("detractor-survey", "survey")]
    assert center.apply("C1", detractor, T0 + dt.timedelta(days=29)) == []
    assert kinds(center.apply("C1", detractor, T0 + dt.timedelta(days=30))) == [
        ("detractor-survey", "survey")
    ]


def test_the_daily_survey_quota_holds_across_customers(center: ActionCenter) -> None:
    surveyed = [c for c in ("C1", "C2", "C3") if center.apply(c, context(c, churn=0.1, detractor=0.9), T0)]
    assert surveyed == ["C1", "C2"]
    assert center.apply("C3", context("C3", churn=0.1, detractor=0.9), T0 + dt.timedelta(days=1))


def test_the_worklist_ranks_by_priority_then_risk_times_value(center: ActionCenter) -> None:
    for customer, churn in (("C1", 0.5), ("C2", 0.9), ("C3", 0.7)):
        center.apply(customer, context(customer, churn=churn), T0)
    listed = center.worklist("retention", 10)
    assert [(e["customer_id"], e["score"]) for e in listed] == [("C2", 1.8), ("C3", 1.4), ("C1", 1.0)]
    assert listed[0]["reasons"] == ["2 late deliveries in 30 days"] and listed[0]["flagged"]
    assert center.worklist("billing", 10) == [] and len(center.worklist(None, 2)) == 2


def test_a_notification_is_delivered_signed_without_personal_attributes(
    center: ActionCenter, receiver: Receiver
) -> None:
    [notify, *_] = center.apply("C1", context("C1"), T0)
    center.start()
    wait_for(lambda: len(receiver.accepted()) == 1)
    [request] = receiver.accepted()
    assert request.path == "/hook" and request.headers["Idempotency-Key"] == notify["idempotency_key"]
    assert verify(SECRET, request.body, request.headers["X-Cx-Signature"])
    body = json.loads(request.body)
    assert (body["customer_id"], body["team"], body["churn"]["probability"]) == ("C1", "retention", 0.6)
    assert "attributes" not in body and "someone@example.com" not in request.body.decode()


def test_a_broken_rules_file_keeps_the_last_good_rules(
    center: ActionCenter, place: tuple[str, str, Path]
) -> None:
    rules, good = place[2], place[2].read_text()
    rules.write_text(good.replace("priority: 90}", "priority: 90, colour: red}"))
    status = center.rules_status()
    assert status["rules"] == 2 and "colour" in status["error"] and ":7:" in status["error"]
    assert len(center.apply("C1", context("C1"), T0)) == 3  # the last good rules still act
    rules.write_text(good.split("  - name: detractor-survey")[0])
    assert center.rules_status() | {"loaded_at": None} == {
        "path": str(rules),
        "loaded_at": None,
        "rules": 1,
        "unevaluated": {},
        "error": None,
    }


def test_a_restarted_center_delivers_what_the_last_one_queued(
    place: tuple[str, str, Path], receiver: Receiver
) -> None:
    url, prefix, rules = place
    receiver.failing = True
    first = ActionCenter.open(connect(url), rules, webhook_secret=SECRET, policy=FAST, prefix=prefix)
    keys = {
        t["idempotency_key"]
        for c in ("C1", "C2")
        for t in first.apply(c, context(c), T0)
        if t["kind"] == "notify"
    }
    first.start()
    wait_for(lambda: len(receiver.requests) >= 2)
    first.stop()  # the process goes away with both deliveries failed
    first.db.close()
    receiver.failing = False
    second = ActionCenter.open(connect(url), rules, webhook_secret=SECRET, policy=FAST, prefix=prefix)
    second.start()
    try:
        # delivered is final and a send never outlives its lease: once both rows say delivered and the
        # receiver answers nothing, no second copy can still arrive (no sleep needed)
        wait_for(lambda: second.counters()["delivered"] == 2 and receiver.idle())
        assert sorted(receiver.accepted_keys()) == sorted(keys)
    finally:
        second.stop()
        second.db.close()


def wait_for(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.02)


def test_a_handled_customer_leaves_the_worklist_and_returns_only_after_the_cooldown(
    center: ActionCenter,
) -> None:
    # given a customer a rule put on the retention worklist
    center.apply("C1", context("C1"), T0)
    assert [e["customer_id"] for e in center.worklist("retention", 10)] == ["C1"]
    # when an agent handles them five days later
    assert center.mark_handled("C1", None, "agent-ann", T0 + dt.timedelta(days=5)) == ["retention"]
    # then they leave the list, and who and when are kept
    assert center.worklist(None, 10) == []
    (handled,) = center.handled("C1")
    assert handled["by"] == "agent-ann" and handled["team"] == "retention"
    assert handled["at"] == (T0 + dt.timedelta(days=5)).timestamp()
    # the rule fires again after its own cooldown, but the worklist waits 7 days from the handling
    again = center.apply("C1", context("C1"), T0 + dt.timedelta(days=8))
    assert kinds(again) == [("churn-alert", "notify"), ("churn-alert", "flag")]
    assert center.worklist(None, 10) == []
    back = center.apply("C1", context("C1"), T0 + dt.timedelta(days=13))
    assert ("churn-alert", "worklist") in kinds(back)
    assert center.mark_handled("C2", None, "agent-ann", T0) == []  # on no list: nothing recorded
    assert center.handled("C2") == []


def test_the_rules_activity_says_when_each_rule_last_acted_and_how_deliveries_stand(
    center: ActionCenter,
) -> None:
    assert center.rules_activity()["last_fired"] == {}
    center.apply("C1", context("C1"), T0)
    center.mark_handled("C1", None, "agent-ann", T0 + dt.timedelta(days=1))  # not a rule's doing
    activity = center.rules_activity()
    assert activity["active"] == ["churn-alert", "detractor-survey"]
    assert activity["last_fired"] == {"churn-alert": T0.isoformat()}
    assert sum(activity["deliveries"].values()) == 1
    assert activity["deliveries_by_rule"] == {"churn-alert": {"queued": 1}}
