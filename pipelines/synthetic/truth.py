"""The ground truth in `_truth/`, which later stages are judged against.

Latent satisfaction over time, customers' hidden traits, and the summary figures: true vs surveyed
NPS, oracle AUCs, response rates and bias, and the drivers that moved satisfaction.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pyarrow as pa
from sklearn.metrics import roc_auc_score

from pipelines.synthetic import params as P
from pipelines.synthetic.population import expected_nps
from pipelines.synthetic.replay import HORIZON_DAYS, churners_at
from pipelines.synthetic.simulate import HAZARD_SLOPE, History
from pipelines.synthetic.surveys import METRICS
from pipelines.synthetic.tables import Context, Rows, labels, timestamps
from pipelines.synthetic.timegrid import DAY
from pipelines.synthetic.world import LATENT_BANDS, World

NPS_CLASSES = ("detractor", "passive", "promoter")
WINDOW = 90 * DAY


def nps_class_codes(latent: np.ndarray) -> np.ndarray:
    """0 detractor, 1 passive, 2 promoter: the class of the score a customer would give if asked."""
    return np.digitize(np.clip(np.rint(latent), 0, 10), [6.5, 8.5])


def nps(classes: np.ndarray) -> float:
    """Net promoter score (-100..100) of NPS class codes."""
    return float(100.0 * ((classes == 2).mean() - (classes == 0).mean())) if len(classes) else float("nan")


def latent_table(ctx: Context, history: History) -> pa.Table:
    """Every customer's latent satisfaction at each month's end while they were a customer."""
    month, cust = np.nonzero(history.alive)
    latent = history.snapshots[month, cust]
    period_end = ctx.grid.bounds[ctx.grid.month_steps + 1][month]
    return pa.table(
        {
            "customer_id": ctx.ids.take(pa.array(cust)),
            "period_end": timestamps(period_end),
            "latent": pa.array(latent),
            "nps_class": labels(NPS_CLASSES, nps_class_codes(latent)),
        }
    )


def customers_table(ctx: Context, world: World, history: History) -> pa.Table:
    """Hidden traits: baseline, sensitivities, rating habit, order rate, churn hazards."""
    c = ctx.customers
    return pa.table(
        {
            "customer_id": ctx.ids,
            "baseline": c.baseline,
            "sensitivity_delivery": c.sensitivity[:, 0],
            "sensitivity_product": c.sensitivity[:, 1],
            "sensitivity_service": c.sensitivity[:, 2],
            "rater_bias": c.rater_bias,
            "orders_per_step": c.order_rate,
            "hazard_base": c.hazard_base,
            "latent_final": world.latent,
            "hazard_final": history.final_hazard,
            "churned": world.churned_at < ctx.grid.end,
        }
    )


def _auc(labels: np.ndarray, scores: np.ndarray) -> float:
    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < len(labels) else float("nan")


def oracle_aucs(ctx: Context, responses: Rows, churn: Rows, history: History) -> dict[str, float]:
    """How well the generator's own truth predicts what a model must predict (a ceiling, not a target)."""
    answered = ~np.isnan(responses["nps"])
    detractor = responses["nps"][answered] <= 6
    churned = np.zeros(len(ctx.customers), bool)
    horizon = (churn["churned"] > history.cutoff) & (churn["churned"] <= history.cutoff + WINDOW)
    churned[churn["cust"][horizon]] = True
    alive = history.cutoff_alive
    return {
        "oracle_auc_detractor": _auc(detractor, -responses["latent"][answered]),
        "oracle_auc_churn": _auc(churned[alive], history.cutoff_hazard[alive]),
    }


def lasting_effects(world: World, history: History) -> dict[str, dict[str, float]]:
    """Per experience, what is left of its effects at the end, over the customers active then.

    Latent satisfaction closes the same share of its gap to baseline every step, so it is the sum
    of what is left of each effect (`DriverTally.remaining`): taking one experience's part out gives
    the base it would be without it, its answers and its churn hazard (`simulate.hazard`).
    """
    active, grid = history.alive[-1], world.grid
    value = history.snapshots[-1][active].astype(float) + world.customers.rater_bias[active]
    hazard = history.final_hazard[active].astype(float)
    nps, churners = expected_nps(value), churners_at(hazard, grid)
    out = {}
    for name in world.tally.lasting:
        part = world.tally.remaining(name, grid.steps - 1)[active]
        # the hazard is capped as `simulate.hazard` caps it; a capped one stays an approximation
        without = np.minimum(hazard * np.exp(HAZARD_SLOPE * part), 0.5)
        out[name] = {
            "latent_now": float(part.mean()),
            "nps_if_removed": expected_nps(value - part) - nps,
            "churners_if_removed": churners_at(without, grid) - churners,
        }
    return out


def _drivers(world: World, history: History) -> dict[str, Any]:
    events, impact = world.tally.events, world.tally.impact
    total_negative = sum(-v for v in impact.values() if v < 0) or 1.0
    lasting = lasting_effects(world, history)
    return {
        "effects": {
            name: {
                "events": events[name],
                "mean_effect": impact[name] / max(events[name], 1),
                "share_of_negative_impact": max(-impact[name], 0.0) / total_negative,
                **lasting[name],
            }
            for name in sorted(events, key=lambda k: impact[k])
        },
        "now_definition": "`latent_now`: the part of each customer's latent satisfaction at the end that the "
        "experience left (its effects less the recovery since), mean over the customers active then; "
        f"`nps_if_removed` and `churners_if_removed` (within {HORIZON_DAYS} days, at the final hazard): "
        "the change with that part taken out, the experiences it set off (a damaged parcel's ticket) "
        "keeping theirs",
        "base_effects": dataclasses.asdict(P.DRIVERS),
        "sensitivity": "lognormal(0, 0.5) per customer for the delivery, product and service groups",
        "churn_log_hazard_per_latent_point": -HAZARD_SLOPE,
        "carrier_late_probability": dict(zip(P.CARRIERS, P.CARRIER_LATE_P.tolist(), strict=True)),
        "product_defect_probability": dict(zip(P.PRODUCTS, P.PRODUCT_DEFECT_P.tolist(), strict=True)),
    }


def _response_bias(world: World) -> dict[str, Any]:
    s = world.surveys
    edges = [-np.inf, *LATENT_BANDS.tolist(), np.inf]
    bands = [f"{lo:g}..{hi:g}" for lo, hi in itertools.pairwise(edges)]
    rates = s.band_answered / np.maximum(s.band_invited, 1)
    return {
        "latent_band": bands,
        "invited": s.band_invited.tolist(),
        "response_rate": rates.round(4).tolist(),
        # the part of who answers that the customers table shows (`surveys.readiness`)
        "readiness_by_age_band": dict(zip(P.AGE_BANDS, P.AGE_RESPONSE.tolist(), strict=True)),
        "readiness_by_plan": dict(zip(P.PLANS, P.PLAN_RESPONSE.tolist(), strict=True)),
        "satisfaction_by_age_band": dict(zip(P.AGE_BANDS, P.AGE_SATISFACTION.tolist(), strict=True)),
    }


def summary(
    ctx: Context,
    world: World,
    history: History,
    responses: Rows,
    churn: Rows,
    rows: dict[str, int],
    seed: int,
) -> dict[str, Any]:
    """The figures of `_truth/summary.json`."""
    recent = ~np.isnan(responses["nps"]) & (responses["responded"] >= ctx.grid.end - WINDOW)
    s = world.surveys
    return {
        "seed": seed,
        "customers": len(ctx.customers),
        "start": ctx.grid.start_date.isoformat(),
        "end": ctx.grid.end_date.isoformat(),
        "nps_true": nps(nps_class_codes(history.snapshots[-1][history.alive[-1]])),
        "nps_surveyed": nps(nps_class_codes(responses["nps"][recent])),
        "nps_surveyed_answers": int(recent.sum()),
        **oracle_aucs(ctx, responses, churn, history),
        "response_rates": {m: s.answered[m] / max(s.invited[m], 1) for m in METRICS},
        "invitations": {m: s.invited[m] for m in METRICS},
        "response_bias": _response_bias(world),
        "rows": rows,
        "rows_total": sum(rows.values()),
        "churned": int((world.churned_at < ctx.grid.end).sum()),
        "drivers": _drivers(world, history),
    }
