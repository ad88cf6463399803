"""The service's own Prometheus figures, beside BentoML's request latency histograms.

Counters are created on first use, not on import: BentoML's workers set the multiprocess folder
after importing the service module, and a counter made before that would never be exported.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any


@functools.cache
def counters() -> dict[str, Any]:
    """The process's counters (created once)."""
    from prometheus_client import Counter

    return {
        "scores": Counter("cx_scores_served", "Customers or feature rows scored", ["endpoint"]),
        "actions": Counter("cx_actions_taken", "Actions rules took on events", ["kind", "status"]),
        "events": Counter("cx_events_stored", "Events stored, per table", ["table"]),
        "shadow": Counter(
            "cx_shadow_predictions",
            "Customers the challenger scored in shadow (made), or not: queue full (dropped), error (failed)",
            ["outcome"],
        ),
    }


def count_scores(endpoint: str, n: int = 1) -> None:
    """Count scores served by an endpoint."""
    counters()["scores"].labels(endpoint).inc(n)


def count_shadow(outcome: str, n: int) -> None:
    """Count customers the challengers scored in shadow (`made`), or left out (`dropped`, `failed`)."""
    counters()["shadow"].labels(outcome).inc(n)


def count_events(stored: Mapping[str, int], actions: list[tuple[str, str]]) -> None:
    """Count stored events per table and the actions taken, as (kind, status) pairs."""
    for table, n in stored.items():
        counters()["events"].labels(table).inc(n)
    for kind, status in actions:
        counters()["actions"].labels(kind, status).inc()


def state_lines(
    versions: Mapping[str, str],
    outbox: Mapping[str, int],
    ready: bool,
    challengers: Mapping[str, str] | None = None,
) -> str:
    """Gauges read from the service's state when scraped: model versions, outbox counts, readiness."""
    lines = [
        "# HELP cx_model_version Registered model version served (the value is the version number).",
        "# TYPE cx_model_version gauge",
        *(f'cx_model_version{{model="{name}"}} {_number(v)}' for name, v in sorted(versions.items())),
        "# HELP cx_challenger_version Registered model version scored in shadow, never served.",
        "# TYPE cx_challenger_version gauge",
        *(
            f'cx_challenger_version{{model="{name}"}} {_number(v)}'
            for name, v in sorted((challengers or {}).items())
        ),
        "# HELP cx_outbox_actions Actions in the outbox by status (queued, delivered, failed, dead).",
        "# TYPE cx_outbox_actions gauge",
        *(f'cx_outbox_actions{{status="{status}"}} {n}' for status, n in sorted(outbox.items())),
        "# HELP cx_ready Whether the models are loaded and passed the canary prediction.",
        "# TYPE cx_ready gauge",
        f"cx_ready {int(ready)}",
    ]
    return "\n".join(lines) + "\n"


def _number(version: str) -> str:
    return version if version.isdigit() else "0"
