"""The feature catalogue as data: sources, their point-in-time measures, and the features over them.

A *source* is an event table read as of a moment `as_of`: its *measures* are SQL expressions over
one event row and `as_of` that are NULL (or 0) whenever the value is not yet known at that moment.
A *feature* aggregates one measure over the events strictly before `as_of`, inside a window. The
engine turns this one declaration into SQL for every engine; the descriptions feed reason codes
("3 late deliveries in the last 30 days") and the docs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ColumnKind = Literal["time", "number", "text"]
Aggregation = Literal[
    "count", "sum", "mean", "max", "min", "share", "nunique", "last", "days_since_last", "trend",
    "attribute", "days_since", "least",
]  # fmt: skip
DType = Literal["float", "category"]

# Aggregations whose empty result is 0 rather than unknown.
ZERO_WHEN_EMPTY: frozenset[str] = frozenset({"count", "sum", "nunique"})
CUSTOMERS = "customers"


@dataclass(frozen=True)
class SourceColumn:
    """A column a source reads; timestamps reach the SQL as microseconds since the epoch."""

    name: str
    kind: ColumnKind


@dataclass(frozen=True)
class Measure:
    """A value of one event as of `as_of`, in dialect-neutral SQL.

    Attributes:
        sql: expression over the event's columns and `as_of`; NULL when not known yet.
        phrase: plural noun phrase for descriptions ("late deliveries", "days late").
        kind: "text" for a category's value (its latest value is a categorical feature).
    """

    name: str
    sql: str
    phrase: str
    kind: Literal["number", "text"] = "number"


@dataclass(frozen=True)
class Source:
    """An event table as the engine reads it.

    Attributes:
        time: the column that says when the event happened; only rows with `time < as_of` count.
        key: the column that identifies an event, so a later version of it replaces the earlier.
    """

    name: str
    time: str
    columns: tuple[SourceColumn, ...]
    measures: tuple[Measure, ...] = ()
    key: str | None = None
    noun: str = "events"

    def measure(self, name: str) -> Measure:
        """The measure called `name`."""
        return next(m for m in self.measures if m.name == name)


@dataclass(frozen=True)
class Feature:
    """One feature: an aggregation of a source's measure over a window before `as_of`.

    Attributes:
        measure: the measure aggregated; None counts every event (for `count`, `days_since_last`).
        window_days: only events in the last `window_days` days count; None means all time.
        inputs: for `least`, the features it takes the smallest known value of.
    """

    name: str
    source: str
    aggregation: Aggregation
    measure: str | None
    window_days: int | None
    dtype: DType
    description: str
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureService:
    """A named, versioned set of features that a model is trained and served on (as in Feast)."""

    name: str
    description: str
    sources: tuple[str, ...] | None = None  # None: every source of the catalogue

    def select(self, catalogue: Catalogue) -> tuple[Feature, ...]:
        """The catalogue's features that belong to this set, in catalogue order."""
        if self.sources is None:
            return catalogue.features
        return tuple(f for f in catalogue.features if f.source in self.sources)


@dataclass(frozen=True)
class Catalogue:
    """Every source and feature of one workspace; frozen once built so scoring matches training."""

    sources: tuple[Source, ...]
    features: tuple[Feature, ...]
    metrics: tuple[str, ...] = field(default=())

    def source(self, name: str) -> Source:
        """The source called `name`."""
        return next(s for s in self.sources if s.name == name)

    def descriptions(self) -> dict[str, str]:
        """Feature name -> one-line description."""
        return {f.name: f.description for f in self.features}

    def subset(self, features: tuple[Feature, ...]) -> Catalogue:
        """The same sources with only `features` (and the features those depend on)."""
        names = {f.name for f in features} | {i for f in features for i in f.inputs}
        return Catalogue(self.sources, tuple(f for f in self.features if f.name in names), self.metrics)

    def to_json(self) -> str:
        """The catalogue as JSON, so an online store can rebuild the same SQL later."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Catalogue:
        """The catalogue `to_json` wrote."""
        data = json.loads(text)
        sources = tuple(_source(s) for s in data["sources"])
        features = tuple(Feature(**{**f, "inputs": tuple(f["inputs"])}) for f in data["features"])
        return cls(sources, features, tuple(data["metrics"]))


def _source(data: dict[str, Any]) -> Source:
    return Source(
        name=data["name"],
        time=data["time"],
        columns=tuple(SourceColumn(**c) for c in data["columns"]),
        measures=tuple(Measure(**m) for m in data["measures"]),
        key=data["key"],
        noun=data["noun"],
    )


def window_phrase(days: int | None) -> str:
    """'in the last 30 days', or 'ever' for all time."""
    return "ever" if days is None else f"in the last {days} days"


def window_suffix(days: int | None) -> str:
    """The feature-name suffix of a window: `30d` or `all`."""
    return "all" if days is None else f"{days}d"


def describe(aggregation: Aggregation, phrase: str, days: int | None) -> str:
    """The one-line description of an aggregation of `phrase` over a window."""
    window = window_phrase(days)
    templates = {
        "count": f"{phrase} {window}",
        "sum": f"total {phrase} {window}",
        "mean": f"average {phrase} {window}",
        "max": f"largest {phrase} {window}",
        "min": f"smallest {phrase} {window}",
        "share": f"share of {phrase} {window}",
        "nunique": f"distinct {phrase} {window}",
        "last": f"latest {phrase}",
        "days_since_last": f"days since the latest of the {phrase}",
        "trend": f"latest {phrase} minus its average",
    }
    return templates.get(aggregation, phrase)


SATISFACTION_V1 = FeatureService(
    "satisfaction_v1", "everything known about a customer strictly before a survey answer"
)
CHURN_V1 = FeatureService("churn_v1", "everything known about a customer at a churn cutoff")
FEATURE_SERVICES: dict[str, FeatureService] = {s.name: s for s in (SATISFACTION_V1, CHURN_V1)}
