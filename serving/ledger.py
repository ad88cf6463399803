"""What the rules have done so far: when each action last fired, the flags set, the worklists.

The ledger is what cooldowns, survey fatigue caps and quotas are decided from, so it lives in the
service database beside the outbox and is written in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from features.online_db import Database
from serving.state import checked_prefix


class Ledger:
    """Fired actions, flags and worklist entries; callers commit."""

    def __init__(self, db: Database, prefix: str = "cx_") -> None:
        self.db, prefix = db, checked_prefix(prefix)
        self.log, self.flag_table, self.work = f"{prefix}action_log", f"{prefix}flags", f"{prefix}worklist"
        self.handled_table = f"{prefix}handled"
        for statement in (
            f"CREATE TABLE IF NOT EXISTS {self.log} (customer_id TEXT, action_key TEXT, kind TEXT, "
            "target TEXT, fired_at DOUBLE PRECISION)",
            f"CREATE INDEX IF NOT EXISTS {self.log}_customer ON {self.log} (customer_id, action_key)",
            f"CREATE INDEX IF NOT EXISTS {self.log}_target ON {self.log} (kind, target, fired_at)",
            f"CREATE TABLE IF NOT EXISTS {self.flag_table} (customer_id TEXT, flag TEXT, rule TEXT, "
            "set_at DOUBLE PRECISION, PRIMARY KEY (customer_id, flag))",
            f"CREATE TABLE IF NOT EXISTS {self.work} (customer_id TEXT, team TEXT, priority INTEGER, "
            "score DOUBLE PRECISION, rule TEXT, reasons TEXT, added_at DOUBLE PRECISION, "
            "PRIMARY KEY (customer_id, team))",
            f"CREATE TABLE IF NOT EXISTS {self.handled_table} (customer_id TEXT, team TEXT, "
            "handled_by TEXT, handled_at DOUBLE PRECISION)",
        ):
            db.execute(statement)
        db.commit()

    def last_fired(self, customer_id: str, action_key: str) -> float | None:
        """When this action last fired for this customer."""
        sql = f"SELECT MAX(fired_at) FROM {self.log} WHERE customer_id = ? AND action_key = ?"
        return _float(self.db.scalar(sql, (customer_id, action_key)))

    def last_of(self, customer_id: str, kind: str, target: str) -> float | None:
        """When any rule last took a `kind` action on `target` (a survey metric) for this customer."""
        sql = f"SELECT MAX(fired_at) FROM {self.log} WHERE customer_id = ? AND kind = ? AND target = ?"
        return _float(self.db.scalar(sql, (customer_id, kind, target)))

    def count_since(self, kind: str, target: str, since: float, until: float) -> int:
        """How many `kind` actions on `target` fired in [since, until), for every customer."""
        sql = f"SELECT COUNT(*) FROM {self.log} WHERE kind = ? AND target = ? AND fired_at >= ? "
        sql += "AND fired_at < ?"
        return int(self.db.scalar(sql, (kind, target, since, until)) or 0)

    def record(self, customer_id: str, action_key: str, kind: str, target: str, at: float) -> None:
        """Remember that an action fired."""
        self.db.execute(
            f"INSERT INTO {self.log} (customer_id, action_key, kind, target, fired_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (customer_id, action_key, kind, target, at),
        )

    def set_flag(self, customer_id: str, flag: str, rule: str, at: float) -> None:
        """Flag a customer (again: the time moves on)."""
        self.db.execute(
            f"INSERT INTO {self.flag_table} (customer_id, flag, rule, set_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (customer_id, flag) DO UPDATE SET rule = excluded.rule, set_at = excluded.set_at",
            (customer_id, flag, rule, at),
        )

    def flags(self, customer_id: str) -> list[str]:
        """A customer's flags, in name order."""
        sql = f"SELECT flag FROM {self.flag_table} WHERE customer_id = ? ORDER BY flag"
        return [str(flag) for (flag,) in self.db.query(sql, (customer_id,))]

    def put_on_worklist(self, entry: dict[str, Any], reasons: Sequence[str], at: float) -> None:
        """Add (or refresh) a customer on a team's worklist.

        Args:
            entry: customer_id, team, priority, score and rule.
            reasons: why, in plain words, for the agent who calls.
            at: when.
        """
        columns = ("customer_id", "team", "priority", "score", "rule", "reasons", "added_at")
        values = [*(entry[c] for c in columns[:5]), json.dumps(list(reasons)), at]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[2:])
        self.db.execute(
            f"INSERT INTO {self.work} ({', '.join(columns)}) VALUES (?, ?, ?, ?, ?, ?, ?) "
            f"ON CONFLICT (customer_id, team) DO UPDATE SET {updates}",
            values,
        )

    def worklist(self, team: str | None, limit: int) -> list[dict[str, Any]]:
        """Who to contact first: highest priority, then flagged customers, then highest score."""
        flagged = f"EXISTS (SELECT 1 FROM {self.flag_table} f WHERE f.customer_id = w.customer_id)"
        where, params = ("WHERE w.team = ?", [team]) if team else ("", [])
        rows = self.db.query(
            f"SELECT w.customer_id, w.team, w.priority, w.score, w.rule, w.reasons, w.added_at, "
            f"CASE WHEN {flagged} THEN 1 ELSE 0 END AS flagged FROM {self.work} w {where} "
            "ORDER BY w.priority DESC, flagged DESC, w.score DESC, w.customer_id LIMIT ?",
            [*params, limit],
        )
        names = ("customer_id", "team", "priority", "score", "rule", "reasons", "added_at", "flagged")
        entries = [dict(zip(names, row, strict=True)) for row in rows]
        return [e | {"reasons": json.loads(e["reasons"]), "flagged": bool(e["flagged"])} for e in entries]

    def mark_handled(self, customer_id: str, team: str | None, by: str, at: float) -> list[str]:
        """Take a customer off a team's worklist (every team's when None), recording who and when.

        Each handling is also an action in the log (kind `handled`, target the team), so a rule that
        would put the customer back on that team's list waits out its cooldown from this moment.

        Returns:
            the teams whose lists the customer left (empty when they were on none).
        """
        where, params = (
            ("customer_id = ? AND team = ?", [customer_id, team])
            if team
            else ("customer_id = ?", [customer_id])
        )
        teams = [str(t) for (t,) in self.db.query(f"SELECT team FROM {self.work} WHERE {where}", params)]
        for left in teams:
            self.db.execute(
                f"INSERT INTO {self.handled_table} (customer_id, team, handled_by, handled_at) "
                "VALUES (?, ?, ?, ?)",
                (customer_id, left, by, at),
            )
            self.record(customer_id, f"handled/{left}", "handled", left, at)
        self.db.execute(f"DELETE FROM {self.work} WHERE {where}", params)
        return teams

    def last_fired_by_rule(self) -> dict[str, float]:
        """Rule name -> when any of its actions last fired, for any customer."""
        sql = f"SELECT action_key, MAX(fired_at) FROM {self.log} WHERE kind <> 'handled' GROUP BY action_key"
        fired: dict[str, float] = {}
        for key, at in self.db.query(sql):
            rule = str(key).split("/", 1)[0]
            fired[rule] = max(fired.get(rule, 0.0), float(at))
        return fired

    def handled(self, customer_id: str) -> list[dict[str, Any]]:
        """Who handled a customer, for which team and when, latest first."""
        rows = self.db.query(
            f"SELECT team, handled_by, handled_at FROM {self.handled_table} WHERE customer_id = ? "
            "ORDER BY handled_at DESC",
            (customer_id,),
        )
        return [{"team": t, "by": b, "at": float(a)} for t, b, a in rows]

    def drop(self) -> None:
        """Remove the ledger's tables."""
        for table in (self.log, self.flag_table, self.work, self.handled_table):
            self.db.execute(f"DROP TABLE IF EXISTS {table}")
        self.db.commit()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)
