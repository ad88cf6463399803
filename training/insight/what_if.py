"""What-if: the base re-scored with one driver changed, and what the change is worth.

A scenario rewrites the workspace's tables as if the driver had been better all along (half the
late deliveries arrive on time, calls wait 30% less, the texts of one theme were never written);
the same features and models then score the rewritten base. The difference to the base as it is
gives the change in predicted NPS, in expected churners over the churn model's horizon (the sum of
churn probabilities) and in revenue kept (churn probability × customer value, when the customers
table has a value column).

Only the table a scenario names changes: what a late parcel sets off elsewhere (the ticket it
opens, the complaint it prompts) stays, so a what-if reads as the driver's direct part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from training.insight.spread import HALVES

Tables = Mapping[str, pd.DataFrame]
SEED = 0  # which late deliveries turn on time: a fixed draw, so a report is reproducible
VALUE_HINTS = ("value", "revenue", "clv", "ltv")


@dataclass(frozen=True)
class Scenario:
    """One driver changed: its key, its wording and the tables it rewrites."""

    key: str
    description: str
    change: Callable[[Tables], dict[str, pd.DataFrame]]


def late_on_promise(tables: Tables, share: float = 1.0) -> dict[str, pd.DataFrame]:
    """A `share` of the late deliveries (a seeded draw; every one at 1) delivered on their promise."""
    deliveries = tables["deliveries"].copy()
    late = np.flatnonzero((deliveries["delivered_at"] > deliveries["promised_at"]).to_numpy())
    fixed = late if share >= 1 else np.random.default_rng(SEED).permutation(late)[: int(len(late) * share)]
    on_time = np.zeros(len(deliveries), dtype=bool)
    on_time[fixed] = True
    # `mask` keeps the column's own dtype; `to_numpy` on a zoned column would make Timestamp objects
    deliveries["delivered_at"] = deliveries["delivered_at"].mask(on_time, deliveries["promised_at"])
    return {**tables, "deliveries": deliveries}


def halve_late_deliveries(tables: Tables) -> dict[str, pd.DataFrame]:
    """Half the late deliveries (a seeded draw) delivered on their promised moment instead."""
    return late_on_promise(tables, 0.5)


def shorten_call_waits(tables: Tables, factor: float = 0.7) -> dict[str, pd.DataFrame]:
    """Every call's wait multiplied by `factor` (0.7: 30% shorter)."""
    calls = tables["calls"].copy()
    calls["wait_s"] = calls["wait_s"] * factor
    return {**tables, "calls": calls}


def remove_theme(tables: Tables, theme: str) -> dict[str, pd.DataFrame]:
    """The scored texts of one theme dropped, as if nothing had prompted them."""
    texts = tables["text_scores"]
    return {**tables, "text_scores": texts.loc[texts["theme"].astype("string") != theme].copy()}


def top_theme(texts: pd.DataFrame) -> str | None:
    """The theme with the most negative texts; None without themes."""
    if "theme" not in texts.columns or texts["theme"].dropna().empty:
        return None
    return str(texts["theme"].dropna().astype(str).value_counts().index[0])


def scenarios(tables: Tables) -> list[Scenario]:
    """The scenarios the tables support, in a fixed order."""
    out = []
    deliveries = tables.get("deliveries")
    if deliveries is not None and {"delivered_at", "promised_at"} <= set(deliveries.columns):
        out.append(
            Scenario("late_deliveries_halved", "half the late deliveries on time", halve_late_deliveries)
        )
    if "wait_s" in tables.get("calls", pd.DataFrame()).columns:
        out.append(Scenario("call_wait_30pct_shorter", "calls wait 30% less", shorten_call_waits))
    theme = top_theme(tables.get("text_scores", pd.DataFrame()))
    if theme is not None:
        out.append(
            Scenario(
                f"theme_removed:{theme}",
                f"no negative texts about {theme}",
                partial(remove_theme, theme=theme),
            )
        )
    return out


def value_column(customers: pd.DataFrame) -> str | None:
    """The customers' value column (`annual_value`, `revenue`, `clv` ...), the first numeric one found."""
    for column in customers.columns:
        if any(hint in column.lower() for hint in VALUE_HINTS) and pd.api.types.is_numeric_dtype(
            customers[column]
        ):
            return str(column)
    return None


def predicted_nps(scores: pd.DataFrame) -> float | None:
    """The model-based NPS of scored customers; None without NPS predictions."""
    if not {"nps_promoter", "nps_detractor"} <= set(scores.columns):
        return None
    return float(100 * (scores["nps_promoter"].mean() - scores["nps_detractor"].mean()))


def effect(
    scenario: Scenario,
    before: pd.DataFrame,
    after: pd.DataFrame,
    value: np.ndarray | None,
    nps_change: float | None = None,
) -> dict[str, object]:
    """One `what_if` row: the scenario's change in predicted NPS, churners and revenue kept.

    Args:
        scenario: the driver changed.
        before: the base's scores as it is, one row per customer.
        after: the same customers' scores with the driver changed, in the same order (its NPS
            unread when `nps_change` is given).
        value: each customer's value in the same order; None when the customers carry none.
        nps_change: the NPS change read from another model (`Predictor.experience`); None: from
            `before` and `after`.
    """
    row: dict[str, object] = {"scenario": scenario.key, "description": scenario.description}
    nps_before, change = predicted_nps(before), nps_change
    if change is None and nps_before is not None:  # `after` need hold no NPS when the change is given
        nps_after = predicted_nps(after)
        change = None if nps_after is None else nps_after - nps_before
    if nps_before is not None and change is not None:
        row |= {"nps": round(nps_before, 2), "nps_after": round(nps_before + change, 2)}
        row["nps_change"] = round(change, 2)
    if "churn_probability" in before.columns:
        p0, p1 = (s["churn_probability"].to_numpy(dtype=float) for s in (before, after))
        row |= {"churners": round(float(p0.sum()), 1), "churners_after": round(float(p1.sum()), 1)}
        row["churners_change"] = round(float(p1.sum() - p0.sum()), 1)
        row["revenue_kept"] = None if value is None else round(float(((p0 - p1) * value).sum()), 2)
    return row


SCALED = ("churners", "churners_after", "churners_change", "revenue_kept")


def scaled(row: Mapping[str, object], scale: float, nps: float | None = None) -> dict[str, object]:
    """An `effect` row of a sample as the base's: churners and revenue × `scale`; NPS from `nps`.

    Args:
        row: the sample's row.
        scale: the base's customers per customer of the sample.
        nps: the whole base's predicted NPS; the row's `nps` and `nps_after` are set from it and the
            change (None: left as the sample's).
    """
    out = dict(row)
    for key in SCALED:
        found = out.get(key)
        if isinstance(found, float):
            out[key] = round(found * scale, 2 if key == "revenue_kept" else 1)
    change = out.get("nps_change")
    if nps is not None and isinstance(change, float | int):
        out |= {"nps": round(nps, 2), "nps_after": round(nps + float(change), 2)}
    return out


def worth_row(row: Mapping[str, object]) -> dict[str, object]:
    """A `driver_worth` row of an `effect` row (of the base, or `scaled` to it)."""
    keys = ("nps_change", HALVES, "churners_change", "revenue_kept")
    return {
        "driver": row["scenario"],
        "description": row["description"],
        **{k: row[k] for k in keys if k in row},
    }


def ranked_worth(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """`worth_row`s, the largest NPS won first (then the most churners kept), with their rank."""

    def key(row: dict[str, object]) -> tuple[float, float]:
        nps, churners = row.get("nps_change"), row.get("churners_change")
        return (
            -float(nps) if isinstance(nps, float | int) else 0.0,
            float(churners) if isinstance(churners, float | int) else 0.0,
        )

    return [{"rank": k + 1, **row} for k, row in enumerate(sorted(rows, key=key))]
