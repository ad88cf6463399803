"""From the event log to the contract's tables: observable rows only, ids, UTC timestamps, labels, texts.

A row is observable when its moment lies before the end of the window and before its customer
churned; later moments of a kept row (a delivery still in transit, an open ticket) become empty.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.synthetic import params as P
from pipelines.synthetic.customers import Customers
from pipelines.synthetic.ids import order_ids, row_ids
from pipelines.synthetic.operations import IN_TRANSIT, LOST, OUTCOMES, STATUSES
from pipelines.synthetic.pii import Identities
from pipelines.synthetic.simulate import CHURN_REASONS
from pipelines.synthetic.texts import Planted
from pipelines.synthetic.timegrid import TimeGrid

CHUNK = 250_000  # texts are built in slices: bounded memory, and Arrow's 2 GiB string limit never binds
Rows = dict[str, np.ndarray]
TextMaker = Callable[[np.random.Generator, Rows, Identities, Planted, int], pa.Array]


@dataclass
class Context:
    """What every table builder reads, and the ground-truth rows they leave behind."""

    rng: np.random.Generator
    grid: TimeGrid
    customers: Customers
    churned_at: np.ndarray
    people: Identities
    ids: pa.Array
    pii: list[pa.Table] = field(default_factory=list)
    texts: list[pa.Table] = field(default_factory=list)


def timestamps(seconds: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Seconds as `timestamp[us, tz=UTC]`, empty where `valid` is False."""
    mask = None if valid is None else ~np.asarray(valid, bool)
    return pa.array(np.asarray(seconds, np.int64) * 1_000_000, pa.timestamp("us", tz="UTC"), mask=mask)


def labels(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Category codes as their names."""
    return pa.array(names).take(pa.array(np.asarray(codes, np.int64)))


def observable(ctx: Context, rows: Rows, time: str) -> Rows:
    """The rows whose moment lies before the end and before their customer's churn."""
    keep = (rows[time] < ctx.grid.end) & (rows[time] < ctx.churned_at[rows["cust"]])
    return {name: values[keep] for name, values in rows.items()}


def texts_in_chunks(ctx: Context, rows: Rows, make: TextMaker, planted: Planted) -> pa.ChunkedArray:
    """Build a text column slice by slice."""
    n = len(rows["cust"])
    parts = [
        make(ctx.rng, {k: v[lo : lo + CHUNK] for k, v in rows.items()}, ctx.people, planted, lo)
        for lo in range(0, n, CHUNK)
    ]
    return pa.chunked_array(parts, pa.string())


def record_texts(
    ctx: Context, table: str, keys: pa.Array, rows: Rows, tone: pa.Array, lang: np.ndarray, themed: np.ndarray
) -> None:
    """Ground truth of a text table: each text's theme (where planted), tone and latent satisfaction."""
    theme = pc.if_else(pa.array(themed), labels(P.ISSUES, rows["issue"]), pa.scalar(None, pa.string()))
    ctx.texts.append(
        pa.table(
            {
                "table": pa.array(np.full(len(keys), table, object), pa.string()),
                "key": keys,
                "theme": theme,
                "tone": tone,
                "latent": pa.array(rows["latent"], pa.float32()),
                "language": labels(P.LANGUAGES, lang),
            }
        )
    )


def record_pii(ctx: Context, table: str, keys: pa.Array, planted: Planted) -> None:
    """Ground truth of the personal data planted in a table's texts."""
    for rows, kind, values in zip(planted.rows, planted.kinds, planted.values, strict=True):
        ctx.pii.append(
            pa.table(
                {
                    "table": pa.array(np.full(len(rows), table, object), pa.string()),
                    "key": keys.take(pa.array(rows)),
                    "pii_type": pa.array(np.full(len(rows), kind, object), pa.string()),
                    "value": values,
                }
            )
        )


def build_customers(ctx: Context) -> pa.Table:
    """The customers table: id, joining date and static attributes."""
    c = ctx.customers
    return pa.table(
        {
            "customer_id": ctx.ids,
            "created_at": timestamps(c.created),
            "segment": labels(P.SEGMENTS, c.segment),
            "region": labels(P.REGIONS, c.region),
            "plan": labels(P.PLANS, c.plan),
            "age_band": labels(P.AGE_BANDS, c.age_band),
            "annual_value": pa.array(c.annual_value),
        }
    )


def build_deliveries(ctx: Context, rows: Rows) -> pa.Table:
    """Orders with carrier, promise and delivery; lost or travelling parcels have no delivery time.

    Orders promised beyond the end are left out: no exported moment may lie after the end.
    """
    rows = observable(ctx, rows, "ordered")
    rows = {name: values[rows["promised"] < ctx.grid.end] for name, values in rows.items()}
    arrived = (rows["status"] != LOST) & (rows["delivered"] < ctx.grid.end)
    status = np.where((rows["status"] != LOST) & ~arrived, IN_TRANSIT, rows["status"])
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "order_id": order_ids(rows["row"]),
            "ordered_at": timestamps(rows["ordered"]),
            "promised_at": timestamps(rows["promised"]),
            "delivered_at": timestamps(rows["delivered"], arrived),
            "amount": pa.array(rows["amount"]),
            "status": labels(STATUSES, status),
            "carrier": labels(P.CARRIERS, rows["carrier"]),
            "product": labels(P.PRODUCTS, rows["product"]),
        }
    )


def build_claims(ctx: Context, rows: Rows) -> pa.Table:
    """Warranty claims; those not yet resolved at the end have no resolution time or outcome."""
    rows = observable(ctx, rows, "filed")
    done = rows["resolved"] < ctx.grid.end
    outcome = pc.if_else(pa.array(done), labels(OUTCOMES, rows["outcome"]), pa.scalar(None, pa.string()))
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "claim_id": row_ids("CLM-", rows["row"]),
            "filed_at": timestamps(rows["filed"]),
            "resolved_at": timestamps(rows["resolved"], done),
            "outcome": outcome,
            "amount": pa.array(rows["amount"]),
            "product": labels(P.PRODUCTS, rows["product"]),
            "reason": labels(P.CLAIM_REASONS, rows["reason"]),
            "order_id": order_ids(rows["order_row"]),
        }
    )


def build_churn(ctx: Context, rows: Rows) -> pa.Table:
    """One row per churned customer, with the reason they gave."""
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(rows["cust"])),
            "churned_at": timestamps(rows["churned"]),
            "reason": labels(CHURN_REASONS, rows["reason"]),
        }
    )
