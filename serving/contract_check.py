"""Events and survey answers checked by the data contract, with the rules `cxpredict validate` applies.

A request breaking any rule is refused whole, before anything of it is stored, with a 422 naming
each row, field and rule (never the value: it may be personal data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from features.validation import validate_rows
from serving.runtime import Runtime

CLOCK_SKEW = dt.timedelta(minutes=5)  # a sender's clock a little ahead of ours is not the future
MAX_SHOWN = 50  # problems listed in one answer


class ContractViolation(ValueError):
    """Rows that break the data contract; `problems` are FastAPI-shaped (`loc`, `msg`, `type`)."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(problems)} problem(s) with the data contract")
        self.problems = problems


def check_rows(
    runtime: Runtime,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    fields: Mapping[str, str] | None = None,
) -> None:
    """Refuse rows that break the contract: scales, known metrics and customers, no future times.

    Args:
        runtime: the service's state (its store knows the customers).
        tables: table -> rows as the request carries them.
        fields: table -> the body field its rows came in, where the two differ (surveys: answers).

    Raises:
        ContractViolation: with every problem found.
    """
    ids = [str(row["customer_id"]) for rows in tables.values() for row in rows]
    with runtime.read_lock:
        known = runtime.store.known(ids)
    now = dt.datetime.now(dt.UTC) + CLOCK_SKEW
    problems = []
    for table, rows in tables.items():
        field = (fields or {}).get(table, table)
        for problem in validate_rows(table, rows, runtime.config, known, now):
            where = [part for part in ("body", field, problem.row, problem.column) if part is not None]
            problems.append({"loc": where, "msg": problem.rule, "type": "data_contract"})
    if problems:
        raise ContractViolation(problems[:MAX_SHOWN])
