"""One step of operations: orders and their deliveries, warranty claims, support tickets and calls.

Each function draws the rows for the customers active in a step, logs them, and queues their
consequences: satisfaction shocks (`World.shock`), follow-up tickets, calls and survey invitations.
"""

from __future__ import annotations

import numpy as np

from pipelines.synthetic import params as P
from pipelines.synthetic.params import DRIVER_GROUPS, DRIVERS, ISSUE, RATES
from pipelines.synthetic.surveys import invite
from pipelines.synthetic.timegrid import DAY
from pipelines.synthetic.world import World

DELIVERY, PRODUCT, SERVICE = DRIVER_GROUPS["delivery"], DRIVER_GROUPS["product"], DRIVER_GROUPS["service"]
HOUR = 3_600
# Delivery status codes, in the order of STATUSES.
STATUSES = ("delivered", "damaged", "lost", "in_transit")
DELIVERED, DAMAGED, LOST, IN_TRANSIT = range(4)
OUTCOMES = ("approved", "partial", "rejected")


def step_orders(w: World, active: np.ndarray, t0: int, t1: int) -> None:
    """Orders placed in the step, their delivery, and everything a delivery sets off."""
    c, rng = w.customers, w.rng
    rate = c.order_rate[active] * np.exp(0.12 * (w.latent[active] - c.baseline[active]))
    cust = np.repeat(active, rng.poisson(rate))
    ordered = w.moments(cust, t0, t1)
    by_time = np.argsort(ordered, kind="stable")  # order numbers grow with time, as a shop's do
    cust, ordered = cust[by_time], ordered[by_time]
    m = len(cust)
    carrier = rng.choice(len(P.CARRIERS), m, p=P.CARRIER_SHARE).astype(np.int8)
    promised = ordered + (P.PROMISE_DAYS[c.plan[cust]] + rng.integers(0, 2, m)) * DAY
    late_p = P.CARRIER_LATE_P[carrier] * P.REGION_LATENESS[c.region[cust]] * w.late_factor
    late_days = np.where(
        rng.random(m) < late_p, 0.5 + rng.gamma(1.3, P.CARRIER_LATE_DAYS[carrier] / 1.3), 0.0
    )
    early = rng.random(m) * np.minimum(promised - ordered - 6 * HOUR, DAY)
    delivered = promised + (late_days * DAY).astype(np.int64) - early.astype(np.int64)
    status = np.where(rng.random(m) < P.CARRIER_DAMAGE_P[carrier], DAMAGED, DELIVERED)
    status = np.where(rng.random(m) < P.CARRIER_LOST_P[carrier], LOST, status).astype(np.int8)
    product = rng.choice(len(P.PRODUCTS), m, p=P.PRODUCT_SHARE).astype(np.int8)
    amount = np.round(P.PRODUCT_PRICE[product] * rng.lognormal(0.0, 0.3, m), 2)
    rows = w.log.add(
        "deliveries",
        cust=cust,
        ordered=ordered,
        promised=promised,
        delivered=delivered,
        status=status,
        carrier=carrier,
        product=product,
        amount=amount,
        late_days=late_days,
    )
    _delivery_consequences(w, cust, rows, delivered, status, late_days, product, amount)


def _delivery_consequences(
    w: World,
    cust: np.ndarray,
    rows: np.ndarray,
    delivered: np.ndarray,
    status: np.ndarray,
    late_days: np.ndarray,
    product: np.ndarray,
    amount: np.ndarray,
) -> None:
    rng = w.rng
    lost, damaged = status == LOST, status == DAMAGED
    late = (late_days >= 1.0) & ~lost
    on_time = ~late & ~lost & ~damaged
    noticed = delivered + (2 * DAY) * lost  # a lost parcel is noticed when it fails to arrive
    w.shock("on_time_delivery", DELIVERY, cust[on_time], delivered[on_time], DRIVERS.on_time)
    late_effect = DRIVERS.late_base + DRIVERS.late_per_day * np.minimum(late_days[late], 10.0)
    w.shock("late_delivery", DELIVERY, cust[late], delivered[late], late_effect, ISSUE["late_delivery"])
    w.shock("lost_order", DELIVERY, cust[lost], noticed[lost], DRIVERS.lost, ISSUE["lost_order"])
    w.shock(
        "damaged_item", DELIVERY, cust[damaged], delivered[damaged], DRIVERS.damaged, ISSUE["damaged_item"]
    )
    for mask, chance, issue in (
        (late, RATES.ticket_after_late * np.minimum(late_days, 4.0) / 2.0, "late_delivery"),
        (lost, RATES.ticket_after_lost, "lost_order"),
        (damaged, RATES.ticket_after_damaged, "damaged_item"),
    ):
        asks = mask & (rng.random(len(cust)) < chance)
        opened = noticed[asks] + (rng.exponential(1.0, asks.sum()) * DAY).astype(np.int64)
        open_tickets(w, cust[asks], opened, np.full(asks.sum(), ISSUE[issue], np.int8), rows[asks])
    defect = ~lost & (rng.random(len(cust)) < P.PRODUCT_DEFECT_P[product])
    file_claims(w, cust[defect], rows[defect], delivered[defect], product[defect], amount[defect])
    asked = ~lost & (rng.random(len(cust)) < RATES.invite_after_delivery)
    at = delivered[asked] + (rng.uniform(0.5, 2.0, asked.sum()) * DAY).astype(np.int64)
    invite(w, cust[asked], at, "after_delivery")


def file_claims(
    w: World,
    cust: np.ndarray,
    order_row: np.ndarray,
    delivered: np.ndarray,
    product: np.ndarray,
    price: np.ndarray,
) -> None:
    """Warranty claims for defective products: filed weeks after delivery, some rejected or slow."""
    rng, m = w.rng, len(cust)
    filed = delivered + (rng.exponential(14.0, m) * DAY + 6 * HOUR).astype(np.int64)
    rejected = rng.random(m) < P.PRODUCT_REJECT_P[product]
    outcome = np.where(rejected, 2, np.where(rng.random(m) < 0.2, 1, 0)).astype(np.int8)
    resolved = filed + (rng.lognormal(np.log(8.0), 0.7, m) * DAY).astype(np.int64)
    w.log.add(
        "warranty_claims",
        cust=cust,
        filed=filed,
        resolved=resolved,
        outcome=outcome,
        product=product,
        reason=rng.integers(0, len(P.CLAIM_REASONS), m).astype(np.int8),
        amount=np.round(price * rng.uniform(0.3, 1.0, m), 2),
        order_row=order_row,
    )
    w.shock("product_defect", PRODUCT, cust, filed, DRIVERS.defect, ISSUE["product_defect"])
    slow = (outcome == 0) & ((resolved - filed) > 21 * DAY)
    for hit, name, effect in (
        (outcome == 2, "claim_rejected", DRIVERS.claim_rejected),
        (outcome == 1, "claim_partial", DRIVERS.claim_partial),
        (slow, "claim_slow", DRIVERS.claim_slow),
    ):
        w.shock(name, PRODUCT, cust[hit], resolved[hit], effect, ISSUE["refund_delay"])
    ok = (outcome == 0) & ~slow
    w.shock("claim_approved", PRODUCT, cust[ok], resolved[ok], DRIVERS.claim_approved)
    asks = rng.random(m) < RATES.ticket_after_claim
    issue = np.where(outcome[asks] == 2, ISSUE["refund_delay"], ISSUE["product_defect"]).astype(np.int8)
    open_tickets(w, cust[asks], filed[asks] + HOUR, issue, order_row[asks])


def step_background_contacts(w: World, active: np.ndarray, t0: int, t1: int) -> None:
    """Tickets and calls that no delivery set off: billing, account, returns, questions."""
    rng = w.rng
    asks = active[rng.random(len(active)) < RATES.background_ticket]
    issue = rng.choice(
        [ISSUE["billing_error"], ISSUE["account_access"], ISSUE["return_request"]],
        len(asks),
        p=[0.45, 0.25, 0.3],
    ).astype(np.int8)
    open_tickets(w, asks, w.moments(asks, t0, t1), issue, np.full(len(asks), -1, np.int64))
    calls = active[rng.random(len(active)) < RATES.extra_call]
    issue = rng.choice([ISSUE["billing_error"], ISSUE["account_access"], ISSUE["late_delivery"]], len(calls))
    place_calls(w, calls, w.moments(calls, t0, t1), issue.astype(np.int8), np.full(len(calls), -1, np.int64))


def open_tickets(
    w: World, cust: np.ndarray, opened: np.ndarray, issue: np.ndarray, order_row: np.ndarray
) -> None:
    """Support tickets: channel, priority (bad issues escalate), reopening, closing.

    Priority and reopening follow the issue, not the customer's mood: were the unhappy to escalate
    more, an escalation would also stand for how unhappy its customer already was, and the models
    would credit it with more harm than it does (the planted drivers' order would not be recoverable).
    """
    rng, m = w.rng, len(cust)
    mood = w.latent[cust]
    channel = rng.choice(len(P.CHANNELS), m, p=P.CHANNEL_SHARE).astype(np.int8)
    severity = np.isin(issue, [ISSUE["lost_order"], ISSUE["refund_delay"], ISSUE["damaged_item"]])
    urge = rng.normal(0.0, 1.0, m) + 0.8 * severity
    priority = np.digitize(urge, [-1.2, 1.0, 2.2]).astype(np.int8)
    reopened = rng.random(m) < 0.09 + 0.05 * severity
    hours = rng.lognormal(np.log(20.0), 1.0, m) * (1 + 2.5 * reopened)
    closed = opened + (hours * HOUR).astype(np.int64) + 5 * 60
    w.log.add(
        "tickets",
        cust=cust,
        opened=opened,
        closed=closed,
        channel=channel,
        priority=priority,
        reopened=reopened,
        issue=issue,
        order_row=order_row,
        latent=mood,
    )
    escalated = priority >= 2
    w.shock(
        "ticket_escalated",
        SERVICE,
        cust[escalated],
        closed[escalated],
        DRIVERS.ticket_escalated,
        ISSUE["rude_agent"],
    )
    w.shock("ticket_reopened", SERVICE, cust[reopened], closed[reopened], DRIVERS.ticket_reopened)
    quick = ~reopened & (hours < 24)
    w.shock("ticket_resolved_quickly", SERVICE, cust[quick], closed[quick], DRIVERS.ticket_quick)
    phone = channel == P.PHONE
    place_calls(w, cust[phone], opened[phone], issue[phone], order_row[phone])
    asked = rng.random(m) < RATES.invite_after_ticket
    invite(w, cust[asked], closed[asked] + HOUR, "after_ticket_close")


def place_calls(
    w: World,
    cust: np.ndarray,
    started: np.ndarray,
    issue: np.ndarray,
    order_row: np.ndarray,
) -> None:
    """Calls to the contact centre; some weeks are busy, and long waits hurt."""
    rng, m = w.rng, len(cust)
    busy = np.exp(0.5 * np.sin(w.step / 5.0) + rng.normal(0.0, 0.25))  # staffing swings week to week
    wait = np.round(rng.lognormal(np.log(90.0), 1.1, m) * busy)
    duration = np.round(
        rng.lognormal(np.log(330.0), 0.55, m) * (1 + 0.08 * np.clip(7 - w.latent[cust], 0, 6))
    )
    w.log.add(
        "calls",
        cust=cust,
        started=started,
        wait=wait,
        duration=duration,
        issue=issue,
        order_row=order_row,
        latent=w.latent[cust],
    )
    long = wait > 600
    effect = DRIVERS.long_wait * np.minimum(wait[long] / 600.0, 3.0)
    w.shock("long_wait", SERVICE, cust[long], started[long], effect, ISSUE["long_wait"])
