"""The report's drivers ranked by what fixing each is worth, against their true order (over seeds).

    python -m benchmarks.bench_driver_what_if --customers 20000 --seeds 10

The report undoes each driver the tables record (`training.insight.undo`: every late parcel on
time, no parcel damaged or lost, no warranty claim, no ticket escalated or reopened, no call
waiting longer than the median), re-scores the base through the same features, and ranks the
drivers by the NPS each wins (`summary.json` → `driver_worth`), read from the satisfaction model
without past answers (`Predictor.experience`). The truth: each planted driver's `nps_if_removed`
(`_truth/summary.json` → `drivers.effects`), the NPS now with that experience's lasting part taken
out; the order by its share of all the hurt since the start (`share_of_negative_impact`) is shown
too. The report's `late_deliveries_halved` what-if is set against the replayed truth.

Reuses `bench_insight`'s companies and models (trains them where missing). Writes the
`driver-what-if` section of docs/benchmarks.md.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.bench_insight import seeds_parser, trained_company
from benchmarks.report import write_section
from pipelines.insight import build_population
from pipelines.scoring import load_champions
from pipelines.synthetic.planted import planted_order
from pipelines.what_if import what_if

# the report's undo scenario -> the planted driver it undoes (every claim is a product defect)
PLANTED = {
    "late_parcels_on_time": "late_delivery",
    "no_warranty_claims": "product_defect",
    "no_damaged_parcels": "damaged_item",
    "no_escalated_tickets": "ticket_escalated",
    "no_lost_parcels": "lost_order",
    "no_reopened_tickets": "ticket_reopened",
    "no_rejected_claims": "claim_rejected",
    "no_long_call_waits": "long_wait",
}
FIRST = 4  # the drivers judged, first to last


def run_seed(customers: int, seed: int) -> dict[str, Any]:
    """One seed: the report's drivers' worth, the true NPS each undoing wins, the halving's what-if."""
    trained = trained_company(customers, seed)
    tables, config, mlflow = trained.loaded.tables, trained.loaded.config, trained.mlflow
    champions = load_champions(mlflow)
    scored = build_population(tables, config, mlflow, trained.start, trained.moment, champions)
    found = what_if(tables, config, mlflow, trained.moment, scored.population, champions, scored.now)
    truth = json.loads((trained.folder / "_truth" / "summary.json").read_text())
    effects = truth["drivers"]["effects"]
    halved = next(r for r in found["what_if"] if r["scenario"] == "late_deliveries_halved")
    named = [(PLANTED.get(str(r["driver"]), f"other:{r['driver']}"), r) for r in found["driver_worth"]]
    return {
        "seed": seed,
        "worth": {name: r["nps_change"] for name, r in named},
        "interval": {name: r.get("nps_change_interval") for name, r in named},
        "ahead": [r.get("ahead_of_next") for _, r in named],
        "true": {name: effects[name]["nps_if_removed"] for name in PLANTED.values() if name in effects},
        "share_order": [d for d in planted_order(truth) if d in PLANTED.values()],
        "halved": [halved["nps_change"], truth["what_if"]["late_deliveries_halved"]["nps_change"]],
    }


def comparable_truth(true: dict[str, float]) -> dict[str, float]:
    """The truth each report row undoes: a claim undone takes its rejection's hurt with it."""
    out = dict(true)
    if "product_defect" in out:
        out["product_defect"] += true.get("claim_rejected", 0.0)
    return out


def told_order(row: dict[str, Any]) -> str:
    """The report's first drivers as the data orders them: `>` where told apart, `≈` where not."""
    names, text = list(row["worth"])[:FIRST], ""
    for k, name in enumerate(names):
        mark = "" if k == 0 else (" > " if row["ahead"][k - 1] else " ≈ ")
        text += mark + name
    return text


def claims_right(row: dict[str, Any]) -> tuple[int, int]:
    """Of the pairs of planted drivers the report tells apart, how many are in the true order; of how many.

    A driver is told ahead of another ranked below it when any `ahead_of_next` lies between them.
    """
    names, true = list(row["worth"]), comparable_truth(row["true"])
    right = total = 0
    for i, first in enumerate(names):
        for j in range(i + 1, len(names)):
            second = names[j]
            if first in true and second in true and any(row["ahead"][i:j]):
                total += 1
                right += true[first] > true[second]
    return right, total


def covered(row: dict[str, Any], drivers: list[str]) -> tuple[int, int]:
    """Of `drivers`, how many true changes lie inside the report's interval; of how many with one."""
    true = comparable_truth(row["true"])
    spans = [(row["interval"].get(d), true.get(d)) for d in drivers]
    judged = [(span, value) for span, value in spans if span and value is not None]
    return sum(lo <= value <= hi for (lo, hi), value in judged), len(judged)


def interval_lines(rows: list[dict[str, Any]]) -> list[str]:
    """The report's intervals: its order as the data tells it, the told pairs right, the truth inside."""
    out = [
        "\n*Intervals* (`nps_change_interval`, `ahead_of_next`: the experience model refitted on six "
        "halves of the customers, `training.insight.spread`). The truth of `no_warranty_claims` is "
        "`product_defect` + `claim_rejected`, as the undo takes both.\n",
        "| seed | the report's first four as the data orders them | pairs told apart: in the true order "
        "| planted four: truth inside the interval | their intervals |",
        "|---:|---|---:|---:|---|",
    ]
    tally = [0, 0, 0, 0]
    for row in rows:
        planted = list(row["share_order"][:FIRST])
        right, total = claims_right(row)
        inside, judged = covered(row, planted)
        tally = [tally[0] + right, tally[1] + total, tally[2] + inside, tally[3] + judged]
        spans = ", ".join(
            f"{d} [{row['interval'][d][0]:+.2f}, {row['interval'][d][1]:+.2f}]"
            for d in planted
            if row["interval"].get(d)
        )
        out.append(
            f"| {row['seed']} | {told_order(row)} | {right} of {total} | {inside} of {judged} | {spans} |"
        )
    out.append(
        f"\nPairs the report tells apart in the true order: {tally[0]} of {tally[1]}; the planted four's "
        f"truth inside their intervals: {tally[2]} of {tally[3]}."
    )
    return out


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """The per-seed table and its tallies."""
    out = [
        "| seed | report's first four (NPS won) | true order (NPS won) | right | by share of hurt | right "
        "| the planted four among themselves | halving late parcels: report / replay |",
        "|---:|---|---|---|---|---|---|---:|",
    ]
    right = right_share = right_four = 0
    for row in rows:
        worth, true, share = row["worth"], row["true"], row["share_order"][:FIRST]
        ranked = list(worth)[:FIRST]  # the report's rows come ranked
        order = sorted(true, key=lambda d: -true[d])[:FIRST]
        among = [d for d in worth if d in share]  # the share order's four, as the report ranks them
        hits = (ranked == order, ranked == share, among == share)
        right, right_share, right_four = right + hits[0], right_share + hits[1], right_four + hits[2]
        mine = ", ".join(f"{d} {worth[d]:+.2f}" for d in ranked)
        theirs = ", ".join(f"{d} {true[d]:+.2f}" for d in order)
        report, replay = row["halved"]
        verdicts = [("yes" if hit else "NO") for hit in hits]
        out.append(
            f"| {row['seed']} | {mine} | {theirs} | {verdicts[0]} | {', '.join(share)} | {verdicts[1]} "
            f"| {', '.join(among)}: {verdicts[2]} | {report:+.2f} / {replay:+.2f} |"
        )
    first_two = sum(list(r["worth"])[:2] == sorted(r["true"], key=lambda d: -r["true"][d])[:2] for r in rows)
    out.append(
        f"\nThe first four in the true order (NPS won) in {right} of {len(rows)} seeds; in the order "
        f"of their share of the hurt in {right_share}; the first two right in {first_two}; the four "
        f"planted drivers of the largest share in their order among themselves in {right_four} (a "
        "what-if per planted driver read from the full model: 4 of 10)."
    )
    return out


def main() -> None:
    parser = seeds_parser(__doc__)
    args = parser.parse_args()
    rows = [run_seed(args.customers, seed) for seed in range(args.seeds)]
    body = [
        f"{len(rows)} seeds of the generated company at {args.customers:,} customers; the satisfaction "
        "model trained on answers before the report's window (`bench_insight`'s). *Report*: the "
        "`driver_worth` ranking, each driver undone whole and the base re-scored, the NPS change read "
        "from the model without past answers. *True*: `nps_if_removed` of `_truth/summary.json` → "
        "`drivers.effects`. A warranty claim undone takes its outcome's hurt (a rejection) with it, "
        "which the truth counts as `claim_rejected`, so the report's figure for product defects is "
        "the larger.\n",
        *lines(rows),
        *interval_lines(rows),
    ]
    write_section("driver-what-if", "The drivers ranked by what fixing each is worth", "\n".join(body))


if __name__ == "__main__":
    main()
