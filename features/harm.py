"""What can only hurt a customer, and how the models are held to it.

More of a harm (a late parcel, a rejected claim, a long wait) never lowers the risk of churn or of
a negative answer, and the models are held to that as LightGBM monotone constraints
(`harm_directions`). Unconstrained trees read harm as loyalty, since it grows with how much a
customer buys: halving late deliveries then raised predicted churn where the generator's replay
lowers it.

A table whose every row is a harm (a warranty claim is a product that failed) needs one more rule.
Its means, maxima, latest values and days since the latest are missing, not zero, for a customer
without rows, and no constraint reaches a missing value: the trees learnt "no claim" from those as
a state of its own, which the buying that claims grow with makes loyal. Undoing every claim then
raised predicted churners (+17.8 on a 20,000-customer company whose truth is −26.9). So the churn
model reads such a table through its held counts alone, which are 0 without rows (`unheld` names
the rest). The satisfaction models keep them: their reading of every claim undone was already
the truth's (+2.39 NPS against +2.25 at 3,000 customers), and without them a ticket's recency
stood in for the claims' and passed late deliveries at the head of the NPS drivers there.
"""

from __future__ import annotations

from features.catalogue import ZERO_WHEN_EMPTY, Catalogue
from features.sources import ESCALATED_PRIORITIES, level_measure

# (table, measure) of what can only hurt; a measure of None is the table's rows themselves.
HARMFUL: frozenset[tuple[str, str | None]] = frozenset(
    {
        ("deliveries", "late"),
        ("deliveries", "days_late"),
        ("deliveries", "open_overdue"),
        ("deliveries", level_measure("status", "damaged")),
        ("deliveries", level_measure("status", "lost")),
        ("calls", "wait_s"),  # the calls table's generic number column (see `discover`)
        ("warranty_claims", None),  # every claim is a product that failed (the events' count)
        ("warranty_claims", "rejected"),
        ("warranty_claims", level_measure("outcome", "rejected")),  # the same rejections, as a level
        ("tickets", "escalated"),
        *(("tickets", level_measure("priority", p)) for p in ESCALATED_PRIORITIES),
        ("tickets", "reopened"),
    }
)
# Aggregations that rise with more (or worse) events of a measure.
RISING: frozenset[str] = frozenset({"count", "sum", "max", "share", "mean", "last"})
# Tables whose every row is a harm.
WHOLLY_HARMFUL: frozenset[str] = frozenset(table for table, measure in HARMFUL if measure is None)


def harm_directions(catalogue: Catalogue) -> dict[str, int]:
    """Feature -> +1 for every feature that rises with a harmful measure (`HARMFUL`, `RISING`)."""
    return {
        f.name: 1 for f in catalogue.features if (f.source, f.measure) in HARMFUL and f.aggregation in RISING
    }


def unheld(catalogue: Catalogue) -> frozenset[str]:
    """The features of a wholly harmful table that no constraint holds: the churn model leaves them out.

    A customer without claims has no latest claim, no mean amount and no days since the last one,
    and a constraint cannot hold a missing value; a count of approved claims or of one product's
    holds no direction either (more failed products, yet each approved rather than rejected is less
    hurt). The churn model reads such a table through its held counts, which are 0 without rows.
    """
    held = harm_directions(catalogue)
    return frozenset(
        f.name
        for f in catalogue.features
        if f.source in WHOLLY_HARMFUL and not (f.name in held and f.aggregation in ZERO_WHEN_EMPTY)
    )
