"""The default feature declarations of the contract tables, and what the catalogue adds from the data.

Each contract table declares, once, the measures a CX analyst asks for and when each becomes
known: a delivery's lateness only once it is delivered, a ticket's reopening only once it is
closed, a claim's outcome only once it is resolved. Times are microseconds since the epoch, so
every expression is plain integer arithmetic that DuckDB, Spark and SQLGlot agree on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from features.catalogue import Aggregation, Measure
from features.contract import TEXT_SCORES_TABLE

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def q(name: str) -> str:
    """A quoted SQL identifier (extra columns may hold spaces or capitals)."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def known(column: str) -> str:
    """True once the moment in `column` has passed; NULL (never true) while it is empty."""
    return f"{q(column)} < as_of"


def when(condition: str, then: str, otherwise: str | None = None) -> str:
    """CASE WHEN condition THEN then [ELSE otherwise] END."""
    tail = "" if otherwise is None else f" ELSE {otherwise}"
    return f"CASE WHEN {condition} THEN {then}{tail} END"


def flag(condition: str) -> str:
    """1 where `condition` holds, else 0."""
    return when(condition, "1", "0")


def flag_once(known_when: str, condition: str) -> str:
    """1/0 for `condition`, but NULL until `known_when` holds (an outcome not yet known)."""
    return when(known_when, flag(condition))


def days_between(later: str, earlier: str) -> str:
    """Days from column `earlier` to `later`, as a float."""
    return f"CAST({q(later)} - {q(earlier)} AS DOUBLE) / {DAY_US}"


Span = Literal["all", "windows", "longest", "now"]
ALL: Span = "all"  # all time only
WIN: Span = "windows"  # every window and all time
LONGEST: Span = "longest"  # the longest window and all time (counts of each frequent value)
NOW: Span = "now"  # a state at the moment (open now): all time, no window in name or words


@dataclass(frozen=True)
class MeasureSpec:
    """A measure of a contract table, the columns it needs and the aggregations it gets."""

    measure: Measure
    needs: tuple[str, ...]
    aggs: tuple[tuple[Aggregation, Span], ...]


def spec(
    name: str,
    needs: tuple[str, ...],
    sql: str,
    phrase: str,
    *aggs: tuple[Aggregation, Span],
    text: bool = False,
) -> MeasureSpec:
    """Shorthand for one MeasureSpec; `text` marks a category's value rather than a number."""
    return MeasureSpec(Measure(name, sql, phrase, "text" if text else "number"), needs, aggs)


_DELIVERED = known("delivered_at")
_OPEN_DELIVERY = f"({q('delivered_at')} IS NULL OR {q('delivered_at')} >= as_of)"
_NOT_YET_DUE = f"({q('promised_at')} IS NULL OR {q('promised_at')} >= as_of)"
_CLOSED = known("closed_at")
_RESOLVED = known("resolved_at")
# the ticket priorities counted as escalated; the what-if that undoes escalations reads the same
ESCALATED_PRIORITIES = ("high", "urgent")

_NEGATIVE_TEXT = f"{q('negative')} >= 0.5"
# The texts' tables, as the text models name them in `text_scores.source`.
TEXT_NOUNS = {
    "tickets": "ticket texts",
    "calls": "call transcripts",
    "verbatims": "verbatims",
    "surveys": "survey comments",
}


def _text_source_specs(source: str, noun: str) -> tuple[MeasureSpec, ...]:
    """Per text source: negative texts per window, and mean predicted satisfaction."""
    of_source = f"{q('source')} = {lit(source)}"
    return (
        spec(
            f"{source}_negative",
            ("source", "negative"),
            flag(f"{of_source} AND {_NEGATIVE_TEXT}"),
            f"negative {noun}",
            ("count", WIN),
        ),
        spec(
            f"{source}_satisfaction",
            ("source", "satisfaction"),
            when(of_source, f"CAST({q('satisfaction')} AS DOUBLE)"),
            f"predicted satisfaction of {noun} (0-10)",
            ("mean", LONGEST),
        ),
    )


MEASURES: dict[str, tuple[MeasureSpec, ...]] = {
    "deliveries": (
        spec(
            "late",
            ("delivered_at", "promised_at"),
            flag_once(_DELIVERED, f"{q('delivered_at')} > {q('promised_at')}"),
            "late deliveries",
            ("count", WIN),
            ("share", ALL),
        ),
        spec(
            "days_late",
            ("delivered_at", "promised_at"),
            when(_DELIVERED, f"GREATEST({days_between('delivered_at', 'promised_at')}, 0)"),
            "days late of deliveries",
            ("sum", WIN),
            ("max", ALL),
        ),
        # "open" and "open_overdue" split the open parcels between them. A lost parcel is a harm,
        # counted once, as overdue: counted as open too, the churn model read it as recent buying,
        # and undoing every lost parcel raised predicted churners.
        spec(
            "open",
            ("delivered_at", "promised_at"),
            flag(f"{_OPEN_DELIVERY} AND {_NOT_YET_DUE}"),
            "open deliveries not yet due",
            ("count", NOW),
        ),
        spec(
            "open_overdue",
            ("delivered_at", "promised_at"),
            flag(f"{_OPEN_DELIVERY} AND {known('promised_at')}"),
            "open deliveries past their promised date",
            ("count", NOW),
        ),
    ),
    "warranty_claims": (
        spec(
            "rejected",
            ("resolved_at", "outcome"),
            flag_once(_RESOLVED, f"LOWER({q('outcome')}) = 'rejected'"),
            "rejected warranty claims",
            ("count", WIN),
        ),
        spec("open", ("resolved_at",), flag(f"NOT ({_RESOLVED})"), "open warranty claims", ("count", NOW)),
        spec(
            "days_to_resolve",
            ("resolved_at",),
            when(_RESOLVED, days_between("resolved_at", "filed_at")),
            "days to resolve a warranty claim",
            ("mean", ALL),
        ),
    ),
    "tickets": (
        spec(
            "reopened",
            ("closed_at", "reopened"),
            flag_once(_CLOSED, f"{q('reopened')} > 0"),
            "reopened tickets",
            ("count", WIN),
        ),
        spec(
            "escalated",
            ("priority",),
            flag(f"LOWER({q('priority')}) IN ({', '.join(repr(p) for p in ESCALATED_PRIORITIES)})"),
            f"escalated tickets (priority {' or '.join(ESCALATED_PRIORITIES)})",
            ("count", WIN),
        ),
        spec("open", ("closed_at",), flag(f"NOT ({_CLOSED})"), "open tickets", ("count", NOW)),
        spec(
            "hours_to_close",
            ("closed_at",),
            when(_CLOSED, f"CAST({q('closed_at')} - {q('opened_at')} AS DOUBLE) / {HOUR_US}"),
            "hours to close a ticket",
            ("mean", ALL),
        ),
    ),
    "surveys": (
        spec(
            "with_comment",
            ("comment",),
            flag(f"{q('comment')} IS NOT NULL"),
            "survey answers with a comment",
            ("count", ALL),
        ),
    ),
    TEXT_SCORES_TABLE: (
        spec("negative", ("negative",), flag(_NEGATIVE_TEXT), "negative texts", ("count", WIN)),
        spec(
            "satisfaction",
            ("satisfaction",),
            f"CAST({q('satisfaction')} AS DOUBLE)",
            "predicted satisfaction of texts (0-10)",
            ("mean", WIN),
            ("min", WIN),
            ("last", ALL),
        ),
        *(m for source, noun in TEXT_NOUNS.items() for m in _text_source_specs(source, noun)),
    ),
}


def level_measure(column: str, level: str) -> str:
    """The measure counting a text column's level (`discover` names each level's count so)."""
    return f"{column}_{level}"


# Outcome columns become known later than the event itself: (known-when condition, needed column).
KNOWN_WHEN: dict[tuple[str, str], tuple[str, str]] = {
    ("deliveries", "status"): (_DELIVERED, "delivered_at"),
    ("warranty_claims", "outcome"): (_RESOLVED, "resolved_at"),
}

NOUNS = {
    "deliveries": "deliveries",
    "warranty_claims": "warranty claims",
    "tickets": "tickets",
    "calls": "calls",
    "verbatims": "verbatims",
    "surveys": "survey answers",
    TEXT_SCORES_TABLE: "texts",
}

# Free text is the text models' input, and a churn record is a label: neither is an aggregate.
NOT_FEATURES: dict[str, frozenset[str]] = {
    "surveys": frozenset({"comment", "score", "metric"}),
    "tickets": frozenset({"text", "reopened"}),
    "calls": frozenset({"transcript"}),
    "verbatims": frozenset({"text"}),
    # Scored texts have their own measures above; themes are counted per value (see discover).
    TEXT_SCORES_TABLE: frozenset({"source", "satisfaction", "negative", "theme"}),
}
EVENT_SOURCES = (
    "deliveries",
    "warranty_claims",
    "tickets",
    "calls",
    "verbatims",
    "surveys",
    TEXT_SCORES_TABLE,
)
CONTACT_SOURCES = ("tickets", "calls", "warranty_claims", "verbatims", "surveys")
