"""Rows as a request carries them, checked by the same rules as the files `validate` reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from features.config import WorkspaceConfig
from features.validation import validate_rows

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
ANSWER = {
    "customer_id": "C1",
    "responded_at": dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    "metric": "nps",
    "score": 9.0,
}
DELIVERY = {
    "customer_id": "C1",
    "order_id": "O1",
    "ordered_at": dt.datetime(2024, 5, 1, tzinfo=dt.UTC),
    "promised_at": dt.datetime(2024, 5, 3, tzinfo=dt.UTC),
    "delivered_at": None,
}


def problems(table: str, row: dict[str, Any]) -> list[tuple[int | None, str | None, str]]:
    found = validate_rows(table, [row], WorkspaceConfig(), ["C1"], NOW)
    return [(p.row, p.column, p.rule) for p in found]


def test_rows_that_keep_the_contract_have_no_problem() -> None:
    assert problems("surveys", ANSWER) == [] and problems("deliveries", DELIVERY) == []
    assert problems("surveys", {**ANSWER, "metric": " CSAT ", "score": 5.0}) == []


@pytest.mark.parametrize(
    ("table", "change", "column", "rule"),
    [
        ("surveys", {"score": 99.0}, "score", "score must lie inside the nps scale 0-10"),
        ("surveys", {"metric": "csat", "score": -3.0}, "score", "score must lie inside the csat scale 1-5"),
        ("surveys", {"metric": "mood"}, "metric", "metric must be one of"),
        ("surveys", {"customer_id": "PHANTOM"}, "customer_id", "customer_id must exist in customers"),
        (
            "surveys",
            {"responded_at": dt.datetime(2150, 1, 1, tzinfo=dt.UTC)},
            "responded_at",
            "in the future",
        ),
        (
            "deliveries",
            {"delivered_at": dt.datetime(2199, 1, 1, tzinfo=dt.UTC)},
            "delivered_at",
            "in the future",
        ),
        ("deliveries", {"delivered_at": dt.datetime(2024, 4, 1, tzinfo=dt.UTC)}, "delivered_at", "before"),
    ],
)
def test_a_row_breaking_a_contract_rule_names_its_row_field_and_rule(
    table: str, change: dict[str, Any], column: str, rule: str
) -> None:
    row = {**(ANSWER if table == "surveys" else DELIVERY), **change}
    found = problems(table, row)
    assert [(r, c) for r, c, _ in found] == [(0, column)], found
    assert rule in found[0][2]
