"""The one place the service acts: rules in, flags, worklist entries and queued deliveries out.

`apply` evaluates the rules in force for one customer, lets each fired action through its cooldown
(and a survey through its fatigue cap and daily quota), and writes what it did - ledger, flags,
worklist and outbox - in one transaction. A background `Deliverer` then posts the outbox.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from features.online_db import Database
from serving.conditions import ConditionError
from serving.delivery import Deliverer
from serving.health import TimedLock
from serving.ledger import Ledger
from serving.outbox import DeliveryPolicy, Outbox, load_delivery_policy
from serving.rules import ActionItem, FlagAction, NotifyAction, Rule, SurveyAction, WorklistAction
from serving.rules_watch import RulesWatcher
from serving.state import lock_key
from serving.webhooks import SECRET_VARIABLE

log = logging.getLogger(__name__)
DAY_S = 86_400.0
# What a webhook receiver is told about the customer (no raw features or attributes: they may be personal).
_SHARED = ("churn", "scores", "flags", "value", "reasons")
Context = Mapping[str, Any]
Taken = dict[str, Any]


class ActionCenter:
    """Rules, their actions' state and the outbox of one service database."""

    def __init__(
        self, db: Database, watcher: RulesWatcher, outbox: Outbox, ledger: Ledger, secret: str | None
    ):
        self.db, self.watcher, self.outbox, self.ledger = db, watcher, outbox, ledger
        # one connection: one statement sequence at a time
        self.lock = TimedLock("actions lock", reentrant=True)
        self.deliverer = Deliverer(outbox, self.lock, secret)
        self.unevaluated: dict[str, str] = {}

    @classmethod
    def open(
        cls,
        db: Database,
        rules_path: Path,
        *,
        webhook_secret: str | None = None,
        policy: DeliveryPolicy | None = None,
        prefix: str = "cx_",
        check_rules_every_s: float = 1.0,
    ) -> ActionCenter:
        """Open (creating its tables) the action center on `db` with the rules of `rules_path`.

        The webhook secret defaults to `CX_WEBHOOK_SECRET`; the delivery policy to the defaults with
        the `CX_OUTBOX_*` variables applied.
        """
        secret = webhook_secret or os.environ.get(SECRET_VARIABLE) or None
        if secret is None:
            log.warning("%s is not set: webhooks go out unsigned", SECRET_VARIABLE)
        outbox = Outbox(db, prefix, policy or load_delivery_policy(os.environ))
        watcher = RulesWatcher(rules_path, check_rules_every_s)
        return cls(db, watcher, outbox, Ledger(db, prefix), secret)

    def apply(self, customer_id: str, context: Context, now: dt.datetime) -> list[Taken]:
        """Evaluate the rules for one customer and take the actions that are due.

        The rules see `context["flags"]` joined with the flags rules have set on the customer before.

        Returns:
            The actions taken: {"id", "rule", "kind", "team", "idempotency_key", "status"}, status
            "queued" for deliveries (notify, survey) and "done" for flags and worklist entries.
        """
        at, rules = _seconds(now), self.watcher.current()
        taken: list[Taken] = []
        with self.lock:
            try:
                if self.db.postgres:  # replicas decide one customer's cooldowns one at a time
                    self.db.execute("SELECT pg_advisory_xact_lock(?)", (lock_key(f"cx-rules/{customer_id}"),))
                flags = set(context.get("flags") or ()) | set(self.ledger.flags(customer_id))
                context = {**context, "flags": sorted(flags)}
                for rule in (r for r in rules if r.spec.enabled and self._holds(r, context)):
                    for action in rule.spec.actions:
                        if self._due(rule, action, customer_id, at):
                            taken.append(self._take(rule, action, customer_id, context, at))
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise
        if any(t["status"] == "queued" for t in taken):
            self.deliverer.wake()
        return taken

    def _due(self, rule: Rule, action: ActionItem, customer_id: str, at: float) -> bool:
        last = self.ledger.last_fired(customer_id, _action_key(rule, action))
        if last is not None and at - last < rule.cooldown_days(action) * DAY_S:
            return False
        spec = action.spec
        if isinstance(spec, WorklistAction):  # an agent's handling starts the cooldown again
            handled = self.ledger.last_of(customer_id, "handled", spec.team)
            return handled is None or at - handled >= rule.cooldown_days(action) * DAY_S
        if not isinstance(spec, SurveyAction):
            return True
        last_survey = self.ledger.last_of(customer_id, "survey", spec.metric)
        if last_survey is not None and at - last_survey < spec.fatigue_days * DAY_S:
            return False
        day = at - at % DAY_S
        return spec.quota_per_day is None or (
            self.ledger.count_since("survey", spec.metric, day, day + DAY_S) < spec.quota_per_day
        )

    def _take(self, rule: Rule, action: ActionItem, customer_id: str, context: Context, at: float) -> Taken:
        spec, name = action.spec, rule.spec.name
        key = _idempotency_key(_action_key(rule, action), customer_id, at)
        self.ledger.record(customer_id, _action_key(rule, action), action.kind, _target(action), at)
        team = getattr(spec, "team", None)
        taken = {"id": key, "rule": name, "kind": action.kind, "team": team, "idempotency_key": key}
        taken["customer_id"] = customer_id
        if isinstance(spec, NotifyAction | SurveyAction):
            return taken | {"id": self._queue(taken, spec, context, at), "status": "queued"}
        if isinstance(spec, WorklistAction):
            score = float(context.get("churn", {}).get("probability", 0.0)) * float(context.get("value", 1.0))
            entry = {"customer_id": customer_id, "team": spec.team, "priority": spec.priority, "rule": name}
            self.ledger.put_on_worklist(entry | {"score": score}, context.get("reasons", []), at)
        else:
            self.ledger.set_flag(customer_id, spec.name, name, at)
        return taken | {"status": "done"}

    def _queue(self, taken: Taken, spec: NotifyAction | SurveyAction, context: Context, at: float) -> str:
        """Put a delivery in the outbox; its outbox id."""
        customer_id = taken["customer_id"]
        payload = {k: context[k] for k in _SHARED if k in context} | {"customer_id": customer_id}
        payload |= {k: taken[k] for k in ("idempotency_key", "rule", "kind")} | {"at": _iso(at)}
        payload |= {"team": spec.team} if isinstance(spec, NotifyAction) else {"metric": spec.metric}
        what = {k: taken[k] for k in ("rule", "kind", "team")} | {"url": spec.url, "customer_id": customer_id}
        return self.outbox.enqueue(taken["idempotency_key"], what, payload, time.time())

    def flags(self, customer_id: str) -> list[str]:
        """The customer's flags."""
        with self.lock:
            return self.ledger.flags(customer_id)

    def worklist(self, team: str | None, limit: int) -> list[dict[str, Any]]:
        """Who to contact first (all teams when `team` is None)."""
        with self.lock:
            return self.ledger.worklist(team, limit)

    def mark_handled(self, customer_id: str, team: str | None, by: str, now: dt.datetime) -> list[str]:
        """Take a customer off the worklists (one team's, or all), recorded with who and when."""
        with self.lock:
            try:
                teams = self.ledger.mark_handled(customer_id, team, by, _seconds(now))
                self.db.commit()
            except BaseException:
                self.db.rollback()
                raise
        return teams

    def handled(self, customer_id: str) -> list[dict[str, Any]]:
        """Who handled a customer, for which team and when, latest first."""
        with self.lock:
            return self.ledger.handled(customer_id)

    def _holds(self, rule: Rule, context: Context) -> bool:
        try:
            return rule.condition.holds(context)
        except ConditionError as exc:  # a field this customer lacks: the rule does not fire
            self.unevaluated[rule.spec.name] = exc.message
            return False

    def rules_status(self) -> dict[str, Any]:
        """{"path", "loaded_at", "rules", "error", "unevaluated"} of the rules file.

        `unevaluated` maps a rule to the latest reason it could not be evaluated for some customer
        (a field they lack, a value that cannot be compared): such a rule did not fire for them.
        """
        self.watcher.current()
        return self.watcher.status() | {"unevaluated": dict(self.unevaluated)}

    def rules_activity(self) -> dict[str, Any]:
        """The rules in force, when each last acted, the outbox as a whole and per rule.

        Returns:
            {"active", "last_fired", "deliveries", "deliveries_by_rule"}
        """
        rules = self.watcher.current()
        with self.lock:
            fired = self.ledger.last_fired_by_rule()
            self.db.commit()  # end the read: Postgres would otherwise keep a transaction open
            deliveries, by_rule = self.outbox.counters(), self.outbox.counters_by_rule()
        return {
            "active": [r.spec.name for r in rules if r.spec.enabled],
            "last_fired": {name: _iso(at) for name, at in sorted(fired.items())},
            "deliveries": deliveries,
            "deliveries_by_rule": by_rule,
        }

    def counters(self) -> dict[str, int]:
        """How many deliveries are queued, delivered, failed (to be retried) and dead."""
        with self.lock:
            return self.outbox.counters()

    def start(self) -> None:
        """Start delivering the outbox in the background."""
        self.deliverer.start()

    def stop(self) -> None:
        """Stop delivering (the outbox keeps what is left for the next start)."""
        self.deliverer.stop()


def _target(action: ActionItem) -> str:
    """What an action is about: the team told, the survey metric or the flag."""
    spec = action.spec
    if isinstance(spec, SurveyAction):
        return spec.metric
    return spec.name if isinstance(spec, FlagAction) else spec.team


def _action_key(rule: Rule, action: ActionItem) -> str:
    """Names one action of a rule, stable when the rule's actions are reordered."""
    return f"{rule.spec.name}/{action.kind}/{_target(action)}"


def _idempotency_key(action_key: str, customer_id: str, at: float) -> str:
    """The same decision (action, customer, moment) always gets the same key."""
    return hashlib.sha256(f"{action_key}\x1f{customer_id}\x1f{at!r}".encode()).hexdigest()[:32]


def _seconds(moment: dt.datetime) -> float:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)).timestamp()


def _iso(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()
