"""What the dashboard shows beyond the plain endpoints: a customer's timeline and the overview."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from features.sql import source_table
from serving.keys import Role, allows
from serving.runtime import VALUE_COLUMNS, Runtime
from serving.schemas import CustomerScores, Overview, ReasonCount, Timeline, TimelineEvent
from serving.ui.past_texts import past_texts
from serving.ui.svg_charts import bar_chart
from serving.ui.texts import TextLog

log = logging.getLogger(__name__)
HIGH, MEDIUM = 0.5, 0.2  # churn probability from which a customer's band is high, medium
# derived from other events' texts, or the customer's own record: not touchpoints
HIDDEN = {"text_scores", "customers"}
Clock = Callable[[], float]
T = TypeVar("T")
PAGES = {
    "worklist": Role.AGENT,
    "customer": Role.AGENT,
    "overview": Role.MANAGER,
    "models": Role.MANAGER,
    "rules": Role.MANAGER,
}


def pages_for(role: Role) -> list[str]:
    """The dashboard pages a key of `role` may open (the same roles the endpoints behind them need)."""
    return [page for page, needed in PAGES.items() if allows(role, needed)] + (
        ["reload"] if allows(role, Role.ADMIN) else []
    )


def band(probability: float) -> str:
    """high, medium or low churn risk."""
    return "high" if probability >= HIGH else "medium" if probability >= MEDIUM else "low"


def timeline(runtime: Runtime, texts: TextLog, customer_id: str) -> Timeline | None:
    """A customer's touchpoints, oldest first, with their redacted texts (the workspace's and those received).

    Returns:
        The timeline and the customer's handling; None for a customer the store does not know.
    """
    with runtime.read_lock:
        if runtime.store.get_row(customer_id) is None:
            return None
        history = runtime.store.history(customer_id)
    said = past_texts(runtime.settings.workspace, customer_id) | texts.of(customer_id)  # received ones win
    events = [
        TimelineEvent(
            table=table,
            at=_moment(at),
            title=_title(table, row),
            details=_details(row),
            text=said.get((table, at)),
        )
        for table, at, row in history
        if table not in HIDDEN
    ]
    return Timeline(customer_id=customer_id, events=events, handled=runtime.actions.handled(customer_id))


def _moment(micros: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(micros / 1e6, dt.UTC)


def _details(row: Mapping[str, Any]) -> dict[str, float | str | None]:
    return {
        k: v if isinstance(v, float | str) or v is None else str(v)
        for k, v in row.items()
        if k != "customer_id"
    }


def _day(value: Any) -> str:
    return str(value)[:10] if value else "?"


def _delivery(row: Mapping[str, Any]) -> str:
    promised, delivered = row.get("promised_at"), row.get("delivered_at")
    text = f"Order {row.get('order_id', '')}: promised {_day(promised)}"
    if not delivered:
        return text + ", not delivered yet"
    late = (
        (dt.datetime.fromisoformat(delivered) - dt.datetime.fromisoformat(promised)).days if promised else 0
    )
    return text + f", delivered {_day(delivered)}" + (f" ({late} days late)" if late > 0 else " (on time)")


TITLES: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "deliveries": _delivery,
    "warranty_claims": lambda r: (
        f"Warranty claim {r.get('claim_id', '')}" + (f": {r['outcome']}" if r.get("outcome") else "")
    ),
    "tickets": lambda r: (
        f"Ticket {r.get('ticket_id', '')}" + (f" ({r['category']})" if r.get("category") else "")
    ),
    "calls": lambda r: (
        f"Call, waited {float(r.get('wait_s') or 0) / 60:.0f} min, "
        f"talked {float(r.get('duration_s') or 0) / 60:.0f} min"
    ),
    "verbatims": lambda r: f"Comment ({r.get('source') or 'text'})",
    "surveys": lambda r: f"Survey answer: {r.get('metric', '')} {r.get('score', '')}",
}


def _title(table: str, row: Mapping[str, Any]) -> str:
    make = TITLES.get(table)
    return make(row) if make is not None else f"{table.replace('_', ' ')} event"


class OverviewCache(Generic[T]):
    """The overview of the whole base (or another costly answer), kept in memory.

    Computed on the first request; then answered from memory, and computed again in the background
    once older than `ttl_s`, so no request waits for the whole base to be scored twice.
    """

    def __init__(
        self,
        make: Callable[[], T],
        ttl_s: float = 30.0,
        clock: Clock = time.monotonic,
        name: str = "overview",
    ):
        self.make, self.ttl_s, self.clock, self.name = make, ttl_s, clock, name
        self._kept: tuple[float, T] | None = None
        self._refreshing = False
        self._lock = threading.Lock()
        self._first = threading.Lock()  # requests that find nothing kept wait for one computation

    def get(self) -> T:
        """The kept overview (a fresh one is on its way when it is stale); computed now the first time.

        Raises:
            Exception: whatever `make` raised, when nothing is kept yet.
        """
        with self._lock:
            kept = self._kept
            if kept is not None and self.clock() - kept[0] > self.ttl_s and not self._refreshing:
                self._refreshing = True
                threading.Thread(target=self._refresh_behind, name="cx-overview", daemon=True).start()
        if kept is not None:
            return kept[1]
        with self._first:  # many first requests at once would each score the whole base
            kept = self._kept
            return self._refresh() if kept is None else kept[1]

    def _refresh(self) -> T:
        try:
            made = self.make()
            with self._lock:
                self._kept = (self.clock(), made)
            return made
        finally:
            with self._lock:
                self._refreshing = False

    def _refresh_behind(self) -> None:
        """Refresh in the background; on failure the kept answer stays and the reason is logged."""
        try:
            self._refresh()
        except Exception as exc:  # the registry or the store is down now: the page answers what it had
            reason = str(exc).partition("\n")[0] or type(exc).__name__
            log.warning("kept the previous %s, a fresh one failed: %s", self.name, reason)


def overview(
    runtime: Runtime, extras: Callable[[Mapping[str, str]], dict[str, Any]] | None = None
) -> Overview:
    """Risk distribution, bands, share at risk, expected churners and revenue at risk, top reasons.

    Args:
        runtime: the service's state.
        extras: more fields of the overview (the report's figures, model health), given the features'
            descriptions.
    """
    with runtime.read_lock:
        ids, words = runtime.store.customer_ids(), runtime.store.catalogue.descriptions()
    column, values = customer_values(runtime)
    # without a churn model there is no risk to sum: None, never a reassuring 0 churners
    churn_served = "churn" in runtime.models().models
    scored = [s for s in runtime.customers(ids) if s is not None]
    risks = [s.churn.probability for s in scored if s.churn is not None]
    at_risk_value = sum(s.churn.probability * values.get(s.customer_id, 0.0) for s in scored if s.churn)
    horizon = runtime.models().horizon_days if churn_served else None
    tenths = [0] * 10
    for risk in risks:
        tenths[min(int(risk * 10), 9)] += 1
    bands = Counter(band(r) for r in risks)
    reasons = [(words.get(name, name.replace("_", " ")), n) for name, n in _top_reasons(scored)]
    labels = [f"{10 * i}–{10 * i + 10}%" for i in range(10)]
    return Overview(
        customers=len(scored),
        at_risk=sum(r >= HIGH for r in risks),
        risk_threshold=HIGH,
        bands={name: bands.get(name, 0) for name in ("high", "medium", "low")},
        distribution=tenths,
        top_reasons=[ReasonCount(reason=r, customers=n) for r, n in reasons],
        chart_svg=bar_chart(list(zip(labels, map(float, tenths), strict=True)), "Customers per churn risk"),
        reasons_svg=bar_chart([(r, float(n)) for r, n in reasons], "Customers per top reason"),
        horizon_days=horizon,
        expected_churners=round(sum(risks), 1) if churn_served else None,
        revenue_at_risk=round(at_risk_value, 2) if column is not None and churn_served else None,
        value_column=column,
        **(extras(words) if extras is not None else {}),
    )


def customer_values(runtime: Runtime) -> tuple[str | None, dict[str, float]]:
    """The customers' value column (the first of `VALUE_COLUMNS` they have) and each one's value."""
    with runtime.read_lock:
        source = next((s for s in runtime.store.catalogue.sources if s.name == "customers"), None)
        names = {c.name for c in source.columns} if source is not None else set()
        column = next((c for c in VALUE_COLUMNS if c in names), None)
        if column is None:
            return None, {}
        table = f"{runtime.store.prefix}{source_table('customers')}"
        rows = runtime.store.db.query(f'SELECT customer_id, "{column}" FROM {table}')
    return column, {str(cid): float(v) for cid, v in rows if isinstance(v, int | float) and v == v}


def _top_reasons(scored: list[CustomerScores], count: int = 8) -> list[tuple[str, int]]:
    """The features most often the strongest push towards churn, with how many customers."""
    first = [
        reason.feature
        for s in scored
        if s.churn is not None
        for reason in s.churn.reasons[:1]
        if reason.log_odds > 0
    ]
    return Counter(first).most_common(count)
