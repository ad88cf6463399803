"""The planted drivers ranked by a what-if each, against their true order (generated company, over seeds).

    python -m benchmarks.bench_driver_what_if --customers 20000 --seeds 10

The report ranks drivers by the reasons' pushes, learnt from answers given at survey moments (a
damaged parcel's delivery survey comes days after the hurt; a defect's claim weeks after any
delivery survey), and they put damaged parcels above product defects. This measures the
alternative: undo each planted driver in the tables (every late parcel on its promise, no warranty
claims, damaged parcels delivered, high and urgent tickets normal), re-score the base through the
same features and NPS model (`pipelines.what_if`), and rank the drivers by the predicted NPS each
undoing wins. It orders the four among themselves only; the report would have to rank every
driver family so.

Reuses `bench_insight`'s companies and models (trains them where missing). Writes the
`driver-what-if` section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from benchmarks.bench_insight import seeds_parser, trained_company
from benchmarks.report import write_section
from pipelines.insight import build_population
from pipelines.scoring import load_champions
from pipelines.synthetic.planted import planted_order
from pipelines.what_if import what_if
from training.insight.what_if import Scenario, Tables

PLANTED = ("late_delivery", "product_defect", "damaged_item", "ticket_escalated")


def on_promise(tables: Tables) -> dict[str, pd.DataFrame]:
    """Every late parcel delivered on its promised moment."""
    deliveries = tables["deliveries"].copy()
    late = deliveries["delivered_at"] > deliveries["promised_at"]
    deliveries["delivered_at"] = deliveries["delivered_at"].mask(late, deliveries["promised_at"])
    return {**tables, "deliveries": deliveries}


def no_claims(tables: Tables) -> dict[str, pd.DataFrame]:
    """No warranty claims: no product failed."""
    return {**tables, "warranty_claims": tables["warranty_claims"].iloc[0:0].copy()}


def none_damaged(tables: Tables) -> dict[str, pd.DataFrame]:
    """Damaged parcels delivered whole."""
    deliveries = tables["deliveries"].copy()
    deliveries["status"] = deliveries["status"].mask(deliveries["status"] == "damaged", "delivered")
    return {**tables, "deliveries": deliveries}


def none_escalated(tables: Tables) -> dict[str, pd.DataFrame]:
    """High and urgent tickets handled as normal ones."""
    tickets = tables["tickets"].copy()
    tickets["priority"] = tickets["priority"].mask(tickets["priority"].isin(["high", "urgent"]), "normal")
    return {**tables, "tickets": tickets}


UNDONE = [
    Scenario(name, name, change)
    for name, change in zip(PLANTED, (on_promise, no_claims, none_damaged, none_escalated), strict=True)
]


def run_seed(customers: int, seed: int) -> dict[str, Any]:
    """One seed: each planted driver's predicted NPS change when undone, and the true order."""
    trained = trained_company(customers, seed)
    tables, config, mlflow = trained.loaded.tables, trained.loaded.config, trained.mlflow
    champions = load_champions(mlflow)
    scored = build_population(tables, config, mlflow, trained.start, trained.moment, champions)
    rows = what_if(tables, config, mlflow, trained.moment, scored.population, champions, scored.now, UNDONE)[
        "what_if"
    ]
    truth = json.loads((trained.folder / "_truth" / "summary.json").read_text())
    return {
        "seed": seed,
        "nps_change": {str(r["scenario"]): float(r["nps_change"]) for r in rows},
        "planted": [d for d in planted_order(truth) if d in PLANTED],
    }


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """The per-seed table and its tally."""
    out = [
        "| seed | " + " | ".join(PLANTED) + " | ranked | true order | right |",
        "|---:|" + "---:|" * len(PLANTED) + "---|---|---|",
    ]
    right = 0
    for row in rows:
        change = row["nps_change"]
        ranked = sorted(PLANTED, key=lambda d: -change[d])
        hit = ranked == row["planted"]
        right += hit
        changes = " | ".join(f"{change[d]:+.2f}" for d in PLANTED)
        out.append(
            f"| {row['seed']} | {changes} | {', '.join(ranked)} | {', '.join(row['planted'])} "
            f"| {'yes' if hit else 'NO'} |"
        )
    out.append(f"\nThe true order in {right} of {len(rows)} seeds.")
    return out


def main() -> None:
    parser = seeds_parser(__doc__)
    args = parser.parse_args()
    rows = [run_seed(args.customers, seed) for seed in range(args.seeds)]
    body = [
        f"{len(rows)} seeds of the generated company at {args.customers:,} customers; the satisfaction "
        "model trained on answers before the report's window (`bench_insight`'s). Each column: the "
        "predicted NPS change when that planted driver is undone in the tables and the base re-scored "
        "(late parcels on their promise, no warranty claims, damaged parcels delivered, high and urgent "
        "tickets normal). True order: `_truth/summary.json` → `drivers.effects`. The report's own "
        "ranking, by the reasons' pushes, is in `bench:insight`.\n",
        *lines(rows),
    ]
    write_section("driver-what-if", "The planted drivers ranked by a what-if each", "\n".join(body))


if __name__ == "__main__":
    main()
