"""Each driver the contract's tables record, undone: the scenarios that say what fixing it is worth.

A what-if of `training.insight.what_if` changes a driver by a share (half the late parcels on
time). To rank the drivers against each other, each is undone whole instead: every late parcel on
its promise, no parcel lost, no warranty claim, no ticket escalated or reopened, no call waiting
longer than the median wait. The tables name the levels (a parcel's status, a ticket's priority),
so the scenarios come from what the tables hold, not from a fixed list.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from features.sources import ESCALATED_PRIORITIES as ESCALATED
from training.insight.what_if import Scenario, Tables, late_on_promise

STATUS_LEVELS = 5  # a parcel status's rarer levels undone, at most: the five most common ones
TRAVEL_DAYS = 30  # a status of parcels promised this recently, none delivered, is one of parcels on their way


def _hit(frame: pd.DataFrame, column: str, levels: tuple[str, ...]) -> np.ndarray:
    """The rows whose `column` is one of `levels` (compared in lower case)."""
    return frame[column].astype("string").str.lower().isin(levels).fillna(False).to_numpy(dtype=bool)


def replaced(
    tables: Tables, table: str, column: str, levels: tuple[str, ...], usual: object
) -> dict[str, pd.DataFrame]:
    """`table` with `column`'s `levels` (compared in lower case) replaced by `usual`."""
    frame = tables[table].copy()
    frame[column] = frame[column].mask(_hit(frame, column, levels), usual)
    return {**tables, table: frame}


def delivered_instead(tables: Tables, level: str, usual: str) -> dict[str, pd.DataFrame]:
    """Parcels of status `level` given the `usual` one; those never delivered, delivered on their promise.

    A lost parcel has no delivery time, and its status is known only once it has one
    (`features.sources.KNOWN_WHEN`): the tables show it as a parcel overdue. Giving it another
    status alone would change nothing the models read.
    """
    deliveries = tables["deliveries"].copy()
    hit = _hit(deliveries, "status", (level,))
    deliveries["status"] = deliveries["status"].mask(hit, usual)
    if {"delivered_at", "promised_at"} <= set(deliveries.columns):
        never = hit & deliveries["delivered_at"].isna().to_numpy(dtype=bool)
        deliveries["delivered_at"] = deliveries["delivered_at"].mask(never, deliveries["promised_at"])
    return {**tables, "deliveries": deliveries}


def no_claims(tables: Tables) -> dict[str, pd.DataFrame]:
    """No warranty claim: no product failed."""
    return {**tables, "warranty_claims": tables["warranty_claims"].iloc[0:0].copy()}


def waits_at_most(tables: Tables, limit: float) -> dict[str, pd.DataFrame]:
    """No call waits longer than `limit` seconds."""
    calls = tables["calls"].copy()
    calls["wait_s"] = calls["wait_s"].clip(upper=limit)
    return {**tables, "calls": calls}


def _levels(frame: pd.DataFrame, column: str) -> pd.Series:
    """A text column's levels in lower case, most common first (missing values left out)."""
    if column not in frame.columns:
        return pd.Series(dtype=int)
    return frame[column].dropna().astype(str).str.lower().value_counts()


def _delivery_scenarios(deliveries: pd.DataFrame) -> list[Scenario]:
    """Late parcels on time; and per rarer parcel status, its parcels given the usual status."""
    out = []
    dated = {"delivered_at", "promised_at"} <= set(deliveries.columns)
    if dated and (deliveries["delivered_at"] > deliveries["promised_at"]).any():
        out.append(Scenario("late_parcels_on_time", "every late parcel on time", late_on_promise))
    levels = _levels(deliveries, "status")
    if len(levels) < 2:
        return out
    usual, travelling = levels.index[0], _travelling(deliveries) if dated else set()
    return out + [
        Scenario(
            f"no_{level}_parcels",
            f"no parcel {level} (each one {usual})",
            partial(delivered_instead, level=level, usual=usual),
        )
        for level in levels.index[1 : 1 + STATUS_LEVELS]
        if level not in travelling
    ]


def _travelling(deliveries: pd.DataFrame) -> set[str]:
    """The statuses of parcels still on their way at export: a state, not a failure to undo.

    Such a status has no delivered parcel, and most of its parcels were promised in the last
    `TRAVEL_DAYS` before the table's latest delivery; a lost parcel is not delivered either, but
    lost parcels are spread over the table's whole span.
    """
    latest = deliveries["delivered_at"].max()
    if pd.isna(latest):
        return set()
    status = deliveries["status"].astype("string").str.lower()
    recent = deliveries["promised_at"] > latest - pd.Timedelta(days=TRAVEL_DAYS)
    by_level = pd.DataFrame({"status": status, "open": deliveries["delivered_at"].isna(), "recent": recent})
    shares = by_level.dropna(subset=["status"]).groupby("status")[["open", "recent"]].mean()
    return set(shares.index[(shares["open"] == 1.0) & (shares["recent"] > 0.5)].astype(str))


def _usual_other(levels: pd.Series, undone: tuple[str, ...]) -> str | None:
    """The most common level not among `undone`; None when every level is."""
    return next((str(level) for level in levels.index if level not in undone), None)


def _ticket_scenarios(tickets: pd.DataFrame) -> list[Scenario]:
    out = []
    priorities = _levels(tickets, "priority")
    usual = _usual_other(priorities, ESCALATED)
    if usual is not None and priorities.index.isin(ESCALATED).any():
        change = partial(replaced, table="tickets", column="priority", levels=ESCALATED, usual=usual)
        out.append(Scenario("no_escalated_tickets", f"no ticket escalated (each one {usual})", change))
    if "reopened" in tickets.columns and tickets["reopened"].fillna(False).astype(bool).any():
        change = partial(replaced, table="tickets", column="reopened", levels=("true",), usual=False)
        out.append(Scenario("no_reopened_tickets", "no ticket reopened", change))
    return out


def _claim_scenarios(claims: pd.DataFrame) -> list[Scenario]:
    if claims.empty:
        return []
    out = [Scenario("no_warranty_claims", "no product failure (no warranty claim)", no_claims)]
    outcomes = _levels(claims, "outcome")
    usual = _usual_other(outcomes, ("rejected",))
    if usual is not None and "rejected" in outcomes.index:
        change = partial(
            replaced, table="warranty_claims", column="outcome", levels=("rejected",), usual=usual
        )
        out.append(Scenario("no_rejected_claims", f"no claim rejected (each one {usual})", change))
    return out


def undo_scenarios(tables: Tables) -> list[Scenario]:
    """Each driver the tables record, undone whole; only those the tables hold any of."""
    out: list[Scenario] = []
    deliveries = tables.get("deliveries")
    if deliveries is not None:
        out += _delivery_scenarios(deliveries)
    if "warranty_claims" in tables:
        out += _claim_scenarios(tables["warranty_claims"])
    if "tickets" in tables:
        out += _ticket_scenarios(tables["tickets"])
    calls = tables.get("calls")
    if calls is not None and "wait_s" in calls.columns and calls["wait_s"].notna().any():
        # the median of the tables given, fixed here: a scenario applied to a sample keeps it
        median = float(calls["wait_s"].median())
        words = f"no call waits longer than the median ({median:.0f} s)"
        out.append(Scenario("no_long_call_waits", words, partial(waits_at_most, limit=median)))
    return out
