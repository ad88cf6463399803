"""Request and response models of the service, with an `EXAMPLE_INPUT` beside each request.

Event models are built from the data contract (`features.contract.TABLES`), so a column added to
the contract is accepted by `POST /events` with no change here.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, create_model, model_validator

from features.contract import TABLES, Column, Kind

EVENT_TABLES = ("deliveries", "warranty_claims", "tickets", "calls", "verbatims")
EARLIEST, LATEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
LARGEST = 1e12  # no count, amount or duration comes near; larger ones are typos (and overflow sums)


def _encodable(text: str) -> str:
    """Text every store and log can hold: valid UTF-8 (no lone surrogate) and no NUL."""
    if "\x00" in text:
        raise ValueError("must not contain NUL characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return text


Text = Annotated[str, AfterValidator(_encodable)]
CustomerId = Annotated[Text, Field(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f]+$")]


def _in_range(moment: dt.datetime) -> dt.datetime:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # naive times are UTC
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"a timestamp between {EARLIEST.year} and {LATEST.year} is expected")
    return aware


Moment = Annotated[dt.datetime, AfterValidator(_in_range)]
Number = Annotated[float, Field(ge=-LARGEST, le=LARGEST, allow_inf_nan=False)]
Count = Annotated[float, Field(ge=0, le=LARGEST, allow_inf_nan=False)]


class Strict(BaseModel):
    """A model that refuses unknown fields, so a typo is a 422 rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Reason(Strict):
    """One feature's push on one prediction, in plain words."""

    feature: str
    sentence: str = Field(description="the reason as an agent reads it")
    value: float | str | None
    log_odds: float = Field(description="push on the log-odds of the bad outcome; positive raises risk")


class MetricScore(Strict):
    """A survey metric the customer was not asked about, predicted."""

    score: float = Field(description="expected answer on the metric's scale")
    negative: float = Field(ge=0, le=1, description="probability of an answer on the negative side")
    classes: dict[str, float] | None = Field(None, description="NPS: detractor, passive, promoter")
    reasons: list[Reason]


class ChurnRisk(Strict):
    """The probability of churning within the horizon."""

    probability: float = Field(ge=0, le=1)
    horizon_days: int
    reasons: list[Reason]


class Freshness(Strict):
    """When the customer's features were computed."""

    as_of: dt.datetime = Field(description="features see every event strictly before this moment")
    age_seconds: float


class CustomerScores(Strict):
    """Everything the service predicts about one customer."""

    customer_id: str
    metrics: dict[str, MetricScore]
    churn: ChurnRisk | None
    flags: list[str]
    top_reasons: list[str] = Field(description="the strongest reasons raising any risk, plain words")
    model_versions: dict[str, str]
    freshness: Freshness | None = Field(None, description="absent for feature rows sent by the caller")


class ScoreRequest(Strict):
    """Customers to score: by id (their stored features) or as feature rows."""

    customer_ids: list[CustomerId] = Field(default_factory=list, max_length=1000)
    rows: list[dict[Text, Number | Annotated[Text, Field(max_length=200)] | None]] = Field(
        default_factory=list, max_length=1000, description="feature name -> value; missing means unknown"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> ScoreRequest:
        if not self.customer_ids and not self.rows:
            raise ValueError("send customer_ids or rows (feature name -> value)")
        return self


class ScoreResponse(Strict):
    """The scores of each requested customer or row, in request order; ids not found are listed."""

    results: list[CustomerScores]
    not_found: list[str]


def _field(column: Column) -> tuple[Any, Any]:
    kinds: dict[Kind, Any] = {
        Kind.ID: Annotated[Text, Field(min_length=1, max_length=200)],
        Kind.TIMESTAMP: Moment,
        Kind.NUMBER: Count if column.non_negative else Number,
        Kind.BOOL: bool,
        Kind.TEXT: Annotated[Text, Field(max_length=20_000)],
    }
    kind = kinds[column.kind]
    if column.name == "customer_id":
        return CustomerId, Field(description=column.description)
    if column.required:
        return kind, Field(description=column.description)
    return kind | None, Field(None, description=column.description)


def event_model(table: str) -> type[BaseModel]:
    """The request model of one event table, field for field from the data contract."""
    fields = {c.name: _field(c) for c in TABLES[table].columns}
    name = "".join(part.title() for part in table.split("_")) + "Event"
    return create_model(name, __base__=Strict, **fields)  # type: ignore[call-overload]


EVENT_MODELS = {table: event_model(table) for table in EVENT_TABLES}


class _Events(Strict):
    @model_validator(mode="after")
    def _not_empty(self) -> _Events:
        if not any(getattr(self, table) for table in EVENT_TABLES):
            raise ValueError(f"send at least one event under one of {', '.join(EVENT_TABLES)}")
        return self


EventBatch: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "EventBatch",
    __base__=_Events,
    **{t: (list[m], Field(default_factory=list, max_length=1000)) for t, m in EVENT_MODELS.items()},  # type: ignore[valid-type]
)
SurveyAnswer = event_model("surveys")


class SurveyBatch(Strict):
    """Survey answers: stored for monitoring and the next training."""

    answers: list[SurveyAnswer] = Field(min_length=1, max_length=1000)  # type: ignore[valid-type]


class SurveysStored(Strict):
    """How many answers were stored."""

    stored: int


class Action(Strict):
    """One action a rule queued."""

    id: str
    rule: str
    kind: str
    team: str | None = None
    idempotency_key: str
    status: str


class CustomerChange(Strict):
    """What one customer's new events changed."""

    customer_id: str
    before: CustomerScores | None
    after: CustomerScores
    changes: dict[str, float] = Field(description="score name -> after minus before")
    actions: list[Action]


class EventsResult(Strict):
    """Events stored per table, and per customer what changed and which actions were queued."""

    stored: dict[str, int]
    customers: list[CustomerChange]
    replayed: bool = Field(
        default=False, description="the Idempotency-Key was stored before: nothing was stored again"
    )


class WorklistEntry(Strict):
    """One customer to contact, with why."""

    customer_id: str
    team: str
    priority: float = Field(description="the rule's priority; higher first")
    score: float | None = Field(None, description="churn probability x customer value when added")
    rule: str
    reasons: list[str]
    added_at: float | None = Field(None, description="seconds since the epoch")
    flagged: bool


class Worklist(Strict):
    """Customers to contact first, highest priority first."""

    entries: list[WorklistEntry]


class TextRequest(Strict):
    """One text to score (a call transcript, ticket, verbatim)."""

    text: Text = Field(min_length=1, max_length=20_000)


class TextScoreResult(Strict):
    """A text's redacted form, predicted satisfaction, sentiment and theme."""

    redacted: str
    satisfaction: float = Field(description="predicted satisfaction of the writer's next answer, 0 to 10")
    negative: float = Field(ge=0, le=1, description="probability that answer is on the negative side")
    sentiment: str = Field(description="negative, neutral or positive")
    theme: str | None = Field(None, description="the nearest theme of a text that is not positive")


class RuleLocation(Strict):
    """One problem of a broken rules file, where it is, with the file's line shown."""

    line: int
    column: int
    message: str
    text: str = Field(description="the file's line the problem is on")


class RulesStatus(Strict):
    """The rules file in force, and why it is not, when it fails to load."""

    path: str
    loaded_at: str | None = Field(description="when the rules in force were loaded from the file")
    rules: int = Field(description="how many rules are in force")
    error: str | None = Field(
        description="why the file as it is now cannot be used; the last good rules apply"
    )
    unevaluated: dict[str, str] = Field(description="rule -> the latest reason it could not be evaluated")
    active: list[str] = Field(default_factory=list, description="the names of the enabled rules in force")
    last_fired: dict[str, str] = Field(
        default_factory=dict, description="rule -> when any of its actions last fired (ISO 8601)"
    )
    deliveries: dict[str, int] = Field(
        default_factory=dict, description="outbox deliveries by status: queued, delivered, failed, dead"
    )
    deliveries_by_rule: dict[str, dict[str, int]] = Field(
        default_factory=dict, description="rule -> its outbox deliveries by status"
    )
    problems: list[RuleLocation] = Field(
        default_factory=list, description="while the file is broken: each problem at its line and column"
    )


class Reloaded(Strict):
    """The model versions now served, and those scored in shadow beside them (never served)."""

    model_versions: dict[str, str]
    changed: bool
    challenger_versions: dict[str, str] = Field(
        default_factory=dict, description="the @challenger versions scored in shadow, never served"
    )


class Problem(Strict):
    """An error answer: what went wrong, never how (no stack traces)."""

    detail: Any


EXAMPLE_SCORE = {"customer_ids": ["C000001"]}
EXAMPLE_EVENTS = {
    "deliveries": [
        {
            "customer_id": "C000001",
            "order_id": "O-991",
            "ordered_at": "2026-06-20T10:00:00Z",
            "promised_at": "2026-06-23T18:00:00Z",
            "delivered_at": "2026-06-29T12:00:00Z",
            "amount": 129.0,
        }
    ],
    "calls": [
        {
            "customer_id": "C000001",
            "call_id": "K-551",
            "started_at": "2026-06-29T13:00:00Z",
            "duration_s": 640,
            "wait_s": 900,
            "transcript": "This is the third time my order is late. I want to cancel.",
        }
    ],
}
EXAMPLE_SURVEYS = {
    "answers": [
        {"customer_id": "C000001", "responded_at": "2026-06-29T15:00:00Z", "metric": "nps", "score": 3}
    ]
}
EXAMPLE_TEXT = {"text": "I waited 40 minutes on the phone and my parcel is still missing."}


class Caller(Strict):
    """Who the presented key belongs to, so a client shows only what its role may use."""

    name: str
    role: str
    may: list[str] = Field(description="the dashboard's pages this role may open")


class HandledRequest(Strict):
    """A customer an agent has dealt with: off the worklist (one team's, or every team's)."""

    customer_id: CustomerId
    team: Annotated[Text, Field(min_length=1, max_length=200)] | None = None


class Handled(Strict):
    """Who handled the customer, when, and the worklists they left."""

    customer_id: str
    by: str
    at: dt.datetime
    teams: list[str]


class TimelineEvent(Strict):
    """One touchpoint of a customer, as stored in the online store (texts redacted on arrival)."""

    table: str
    at: dt.datetime
    title: str = Field(description="what happened, in plain words")
    details: dict[str, float | str | None]
    text: str | None = Field(None, description="the transcript, ticket text or comment, redacted")


class Timeline(Strict):
    """A customer's touchpoints, oldest first, and the times they were handled."""

    customer_id: str
    events: list[TimelineEvent]
    handled: list[dict[str, Any]]


class ReasonCount(Strict):
    """A reason and how many customers have it as their strongest push towards churn."""

    reason: str
    customers: int


class Overview(Strict):
    """The base at a glance, from the scores the service can compute now."""

    customers: int
    at_risk: int = Field(description="customers whose churn probability is at least `risk_threshold`")
    risk_threshold: float
    bands: dict[str, int] = Field(description="customers per risk band: high, medium, low")
    distribution: list[int] = Field(description="customers per tenth of churn probability, lowest first")
    top_reasons: list[ReasonCount]
    chart_svg: str = Field(description="the distribution as an SVG chart")
    reasons_svg: str = Field(description="the top reasons as an SVG chart")
    horizon_days: int | None = Field(
        None, description="the churn model's horizon; None without a churn model"
    )
    expected_churners: float | None = Field(
        None, description="the sum of churn probabilities over the base; None without a churn model"
    )
    revenue_at_risk: float | None = Field(
        None,
        description="the sum of churn probability x the customer's value; None without a value column "
        "or a churn model",
    )
    value_column: str | None = Field(None, description="the customers' column the value is read from")
    base: dict[str, Any] | None = Field(
        None,
        description="the report's whole-base figures, drivers, themes and what-ifs; None before a report",
    )
    surveyed: dict[str, Any] = Field(
        default_factory=dict, description="surveyed and predicted (a sample) NPS/CSAT per month, and a chart"
    )
    health: dict[str, Any] = Field(default_factory=dict, description="the latest `monitor` verdict")


class CustomerIds(Strict):
    """Customers by id."""

    customer_ids: list[CustomerId] = Field(default_factory=list, max_length=1000)


class Trends(Strict):
    """Each customer's churn risk a week before their latest row (None without a churn model)."""

    week_ago: dict[str, float | None]


class ScoreHistory(Strict):
    """A customer's scores every 30 days over the last six months, as the models in service see them."""

    customer_id: str
    points: list[dict[str, Any]] = Field(description="at (microseconds), churn, metrics: score and negative")
    why: list[str] = Field(description="the reasons whose push changed most over the latest 30 days")
    chart_svg: str


class ModelsPage(Strict):
    """The registered models, their holdout metrics and calibration, and the latest monitor verdict."""

    models: list[dict[str, Any]]
    health: dict[str, Any]
    calibration: dict[str, str] = Field(description="metric -> the report's calibration plot (SVG)")
    serving: dict[str, str] = Field(description="registered model -> the version this service serves")
    shadow: dict[str, str] = Field(
        default_factory=dict,
        description="registered model -> the @challenger version this service scores in shadow, never serves",
    )
