"""Property tests: on random timelines the engine agrees with a slow, obviously correct reference."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from features.training_sets import build_scoring_set
from tests.features.conftest import CONFIG, T, typed

DAY = 86_400
CUSTOMERS = ("C1", "C2")
# Offsets (seconds from the as-of moment) that sit on every edge the engine must get right.
EDGES = (0, -1, 1, -7 * DAY, -7 * DAY - 1, -7 * DAY + 1, -30 * DAY, -30 * DAY - 1, -30 * DAY + 1)
offsets = st.one_of(st.integers(-60 * DAY, 2 * DAY), st.sampled_from(EDGES))


@dataclass(frozen=True)
class Delivery:
    customer: str
    ordered: int  # seconds from the as-of moment, like the other times
    promised: int
    delivered: int | None
    amount: float


@st.composite
def deliveries(draw: st.DrawFn) -> list[Delivery]:
    rows = []
    for ordered in draw(st.lists(offsets, max_size=8, unique=True)):  # unique: `last` has no ties
        promised = ordered + draw(st.integers(0, 10 * DAY))
        delivered = draw(
            st.one_of(st.none(), st.integers(ordered, ordered + 15 * DAY), st.sampled_from(EDGES))
        )
        delivered = None if delivered is None else max(delivered, ordered)
        amount = draw(st.integers(0, 10_000)) / 100
        rows.append(Delivery(draw(st.sampled_from(CUSTOMERS)), ordered, promised, delivered, amount))
    return rows


def known_late(d: Delivery) -> bool:
    """Delivered before the moment (so its lateness is known) and after its promise."""
    return d.delivered is not None and d.delivered < 0 and d.delivered > d.promised


def reference(rows: list[Delivery], customer: str) -> dict[str, float]:
    """The features by their definitions, one event at a time."""
    seen = [d for d in rows if d.customer == customer and d.ordered < 0]
    is_open = [d for d in seen if d.delivered is None or d.delivered >= 0]
    in_30 = [d for d in seen if d.ordered >= -30 * DAY]
    return {
        "deliveries_count_7d": sum(d.ordered >= -7 * DAY for d in seen),
        "deliveries_count_30d": len(in_30),
        "deliveries_count_all": len(seen),
        "deliveries_late_count_30d": sum(map(known_late, in_30)),
        "deliveries_late_count_all": sum(map(known_late, seen)),
        "deliveries_open_overdue_count": sum(d.promised < 0 for d in is_open),
        "deliveries_days_since_last": -max(d.ordered for d in seen) / DAY if seen else math.nan,
        "deliveries_amount_last": max(seen, key=lambda d: d.ordered).amount if seen else math.nan,
    }


def as_tables(rows: list[Delivery]) -> dict[str, pd.DataFrame]:
    def stamp(offset: int | None) -> str | None:
        return None if offset is None else (T + pd.Timedelta(seconds=offset)).isoformat()

    return typed(
        deliveries={
            "customer_id": [d.customer for d in rows] or ["C1"],
            "order_id": [f"O{i}" for i in range(len(rows))] or ["O0"],
            "ordered_at": [stamp(d.ordered) for d in rows] or [stamp(DAY)],  # an empty table: one future row
            "promised_at": [stamp(d.promised) for d in rows] or [stamp(DAY)],
            "delivered_at": [stamp(d.delivered) for d in rows] or [None],
            "amount": [d.amount for d in rows] or [1.0],
        }
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=deliveries())
def test_delivery_features_match_the_reference_on_random_timelines(rows: list[Delivery]) -> None:
    frame = build_scoring_set(as_tables(rows), CONFIG, as_of=T).set_index("customer_id")
    for customer in CUSTOMERS:
        for name, expected in reference(rows, customer).items():
            got = float(frame.loc[customer, name])
            assert got == pytest.approx(expected, rel=1e-6, abs=1e-4, nan_ok=True), (customer, name)


@st.composite
def answers(draw: st.DrawFn) -> list[tuple[int, float]]:
    moments = draw(st.lists(st.integers(-60 * DAY, 2 * DAY), min_size=1, max_size=6, unique=True))
    return [(m, float(draw(st.integers(0, 10)))) for m in moments]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=answers())
def test_survey_history_matches_the_reference_on_random_timelines(history: list[tuple[int, float]]) -> None:
    surveys = {
        "customer_id": ["C1"] * len(history),
        "responded_at": [(T + pd.Timedelta(seconds=m)).isoformat() for m, _ in history],
        "metric": ["nps"] * len(history),
        "score": [str(s) for _, s in history],
    }
    row = build_scoring_set(typed(surveys=surveys), CONFIG, as_of=T).set_index("customer_id").loc["C1"]
    before = sorted((m, s) for m, s in history if m < 0)
    scores = [s for _, s in before]
    last = scores[-1] if scores else math.nan
    mean = sum(scores) / len(scores) if scores else math.nan
    assert row["surveys_nps_answers_count_all"] == len(scores)
    assert float(row["surveys_nps_score_last"]) == pytest.approx(last, nan_ok=True)
    assert float(row["surveys_nps_score_trend"]) == pytest.approx(last - mean, abs=1e-5, nan_ok=True)
