"""The data contract: which tables a workspace may hold, their columns, and the survey scales.

Everything here is declaration, not logic: validation, the generator, the feature catalogue and
the docs all read these objects, so the contract is written down exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a column holds; decides how it is parsed and checked."""

    ID = "id"
    TIMESTAMP = "timestamp"
    NUMBER = "number"
    BOOL = "bool"
    TEXT = "text"


@dataclass(frozen=True)
class Column:
    """One column of a contract table."""

    name: str
    kind: Kind
    required: bool = False
    non_negative: bool = False
    description: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One table of the contract.

    Attributes:
        name: file stem in the workspace (`<name>.csv` or `<name>.parquet`).
        columns: known columns; any other column is kept as an extra attribute.
        key: column whose values must be unique, if any.
        time_column: the moment a row happens (None for `customers`).
        later_than: pairs (column, earlier column) where the first may not precede the second.
    """

    name: str
    columns: tuple[Column, ...]
    key: str | None = None
    time_column: str | None = None
    later_than: tuple[tuple[str, str], ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the columns every file of this table must have."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The declared column called `name`, or None for an extra column."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class MetricScale:
    """A survey metric: its inclusive scale and the side a CX team worries about.

    Attributes:
        negative_max: scores at or below this are the negative side (detractor, dissatisfied).
        negative_min: scores at or above this are the negative side (used by CES, where high
            means high effort). Exactly one of the two is set.
    """

    name: str
    low: float
    high: float
    negative_max: float | None = None
    negative_min: float | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.low >= self.high:
            raise ValueError(f"metric {self.name!r}: scale low {self.low} must be below high {self.high}")
        if (self.negative_max is None) == (self.negative_min is None):
            raise ValueError(f"metric {self.name!r}: set exactly one of negative_max, negative_min")
        bound = self.negative_max if self.negative_max is not None else self.negative_min
        if bound is not None and not self.low <= bound <= self.high:
            raise ValueError(f"metric {self.name!r}: negative bound {bound} lies outside its scale")

    def is_negative(self, score: float) -> bool:
        """Whether a score falls on the negative side of this metric."""
        if self.negative_max is not None:
            return score <= self.negative_max
        return score >= self.negative_min  # type: ignore[operator]


def _cols(*columns: Column) -> tuple[Column, ...]:
    return columns


_CID = Column("customer_id", Kind.ID, required=True, description="the customer")
TEXT_SCORES_TABLE = "text_scores"  # scored texts: cxpredict writes this table, never the user

TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            "customers",
            _cols(_CID, Column("created_at", Kind.TIMESTAMP, description="when the customer joined")),
            key="customer_id",
        ),
        TableSpec(
            "surveys",
            _cols(
                _CID,
                Column("responded_at", Kind.TIMESTAMP, required=True),
                Column("metric", Kind.TEXT, required=True),
                Column("score", Kind.NUMBER, required=True),
                Column("comment", Kind.TEXT),
                Column("touchpoint", Kind.TEXT),
            ),
            time_column="responded_at",
        ),
        TableSpec(
            "churn",
            _cols(_CID, Column("churned_at", Kind.TIMESTAMP, required=True), Column("reason", Kind.TEXT)),
            key="customer_id",
            time_column="churned_at",
        ),
        TableSpec(
            "deliveries",
            _cols(
                _CID,
                Column("order_id", Kind.ID, required=True),
                Column("ordered_at", Kind.TIMESTAMP, required=True),
                Column("promised_at", Kind.TIMESTAMP, required=True),
                Column("delivered_at", Kind.TIMESTAMP),
                Column("amount", Kind.NUMBER, non_negative=True),
                Column("status", Kind.TEXT),
            ),
            key="order_id",
            time_column="ordered_at",
            later_than=(("promised_at", "ordered_at"), ("delivered_at", "ordered_at")),
        ),
        TableSpec(
            "warranty_claims",
            _cols(
                _CID,
                Column("claim_id", Kind.ID, required=True),
                Column("filed_at", Kind.TIMESTAMP, required=True),
                Column("resolved_at", Kind.TIMESTAMP),
                Column("outcome", Kind.TEXT),
                Column("amount", Kind.NUMBER, non_negative=True),
                Column("product", Kind.TEXT),
                Column("reason", Kind.TEXT),
            ),
            key="claim_id",
            time_column="filed_at",
            later_than=(("resolved_at", "filed_at"),),
        ),
        TableSpec(
            "tickets",
            _cols(
                _CID,
                Column("ticket_id", Kind.ID, required=True),
                Column("opened_at", Kind.TIMESTAMP, required=True),
                Column("closed_at", Kind.TIMESTAMP),
                Column("channel", Kind.TEXT),
                Column("category", Kind.TEXT),
                Column("priority", Kind.TEXT),
                Column("reopened", Kind.BOOL),
                Column("text", Kind.TEXT),
            ),
            key="ticket_id",
            time_column="opened_at",
            later_than=(("closed_at", "opened_at"),),
        ),
        TableSpec(
            "calls",
            _cols(
                _CID,
                Column("call_id", Kind.ID, required=True),
                Column("started_at", Kind.TIMESTAMP, required=True),
                Column("duration_s", Kind.NUMBER, non_negative=True),
                Column("wait_s", Kind.NUMBER, non_negative=True),
                Column("transcript", Kind.TEXT),
            ),
            key="call_id",
            time_column="started_at",
        ),
        TableSpec(
            "verbatims",
            _cols(
                _CID,
                Column("posted_at", Kind.TIMESTAMP, required=True),
                Column("text", Kind.TEXT, required=True),
                Column("source", Kind.TEXT),
            ),
            time_column="posted_at",
        ),
        # Written by `cxpredict text train` (and the service, for each new text): one row per text
        # with its predicted satisfaction, so text features are aggregated like any other event.
        TableSpec(
            TEXT_SCORES_TABLE,
            _cols(
                _CID,
                Column("at", Kind.TIMESTAMP, required=True, description="when the text was written"),
                Column("source", Kind.TEXT, required=True, description="the table the text came from"),
                Column("satisfaction", Kind.NUMBER, required=True, description="predicted, 0-10"),
                Column("negative", Kind.NUMBER, required=True, description="P(negative side)"),
                Column("theme", Kind.TEXT, description="theme of a negative text, by its top terms"),
            ),
            time_column="at",
        ),
    )
}

DEFAULT_METRICS: dict[str, MetricScale] = {
    m.name: m
    for m in (
        MetricScale("nps", 0, 10, negative_max=6, description="likelihood to recommend; 0-6 detractor"),
        MetricScale("csat", 1, 5, negative_max=2, description="satisfaction; 1-2 dissatisfied"),
        MetricScale("ces", 1, 7, negative_min=5, description="customer effort; 5-7 high effort"),
        MetricScale("cxi_effective", 1, 10, negative_max=6, description="CXI: needs met; <= 6 negative"),
        MetricScale("cxi_easy", 1, 10, negative_max=6, description="CXI: easy to work with; <= 6 negative"),
        MetricScale("cxi_enjoy", 1, 10, negative_max=6, description="CXI: enjoyable; <= 6 negative"),
    )
}


def nps_class(score: float) -> str:
    """The NPS class of a 0-10 answer: detractor, passive or promoter."""
    if score <= 6:
        return "detractor"
    return "passive" if score <= 8 else "promoter"


# Tables cxpredict writes into a workspace itself (the user brings the others).
DERIVED_TABLES = frozenset({TEXT_SCORES_TABLE})
