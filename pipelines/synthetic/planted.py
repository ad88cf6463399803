"""The generator's planted drivers against the drivers a report ranks: are they the same, in order?

The generator records, per planted driver (a late delivery, a product defect, a damaged item ...),
its total effect on latent satisfaction (`_truth/summary.json`: `drivers.effects`). A report ranks
driver families, feature names without their window (`deliveries_days_late_sum`). Each planted
driver shows in the tables as a few families (a late delivery as the late count, the days late and
the late share); this module says which, and reads both rankings in the planted drivers' terms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

# Planted driver -> the feature families that record it (a pattern on the family's name); the first
# that matches wins. A category's level is a family of its own (`deliveries_status_last=damaged`).
FAMILIES: dict[str, re.Pattern[str]] = {
    name: re.compile(pattern)
    for name, pattern in {
        "late_delivery": r"^deliveries_(late|days_late|open_overdue)(_|$)",
        "lost_order": r"^deliveries_status_(lost|last=lost$)",
        "damaged_item": r"^deliveries_status_(damaged|last=damaged$)",
        "claim_rejected": r"^warranty_claims_(rejected|outcome_rejected|outcome_last=rejected$)",
        # every claim is a product defect (a rejection, matched above, adds its own hurt), and so is
        # a ticket about one
        "product_defect": r"^(warranty_claims_|tickets_category_(product_defect|last=product defect$))",
        "ticket_reopened": r"^tickets_reopened",
        # the generator escalates the tickets it gives a high or urgent priority, not the low ones
        "ticket_escalated": r"^tickets_(escalated|priority_(high|urgent)|priority_last=(high|urgent)$)",
        "long_wait": r"^calls_wait_s",
    }.items()
}


def planted_driver(family: str) -> str | None:
    """The planted driver a feature family records; None for a family that records none."""
    return next((name for name, pattern in FAMILIES.items() if pattern.search(family)), None)


def planted_order(truth: Mapping[str, Any]) -> list[str]:
    """The planted drivers that lower satisfaction, largest total effect first (`_truth/summary.json`)."""
    effects = truth["drivers"]["effects"]
    hurting = {k: v["share_of_negative_impact"] for k, v in effects.items() if k in FAMILIES}
    return sorted((k for k, share in hurting.items() if share > 0), key=lambda k: -hurting[k])


def reported_order(drivers: Iterable[Mapping[str, Any]], model: str) -> list[tuple[str, float]]:
    """The planted drivers as `model`'s report rows rank them, largest push first.

    A planted driver's push is the push per customer summed over its families; families that
    record no planted driver count as `other:<family>`.
    """
    pushes: dict[str, float] = {}
    for row in drivers:
        if row["model"] != model:
            continue
        family = str(row["feature"])
        name = planted_driver(family) or f"other:{family}"
        pushes[name] = pushes.get(name, 0.0) + float(row["push_per_customer"])
    return sorted(pushes.items(), key=lambda item: -item[1])
