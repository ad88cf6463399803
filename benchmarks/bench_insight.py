"""The whole base's NPS and CSAT three ways against the generated company's truth, over seeds.

    python -m benchmarks.bench_insight --customers 20000 --seeds 10

Per seed: generate a company, train the satisfaction model on answers before the 90-day window
(so its predictions never saw the answers that correct them), run the `report` figures and judge
them against `_truth/`: every active customer's expected answer had they all been asked at the end
(rater habit and answer noise included), over the same customers the estimate covers (those who
existed at the window's start and had not churned). The bar: the corrected figure within 3 points
of the truth (NPS; CSAT negative share in points of %), closer than respondents only, and the truth
inside the 95% interval. Writes the `insight` section of docs/benchmarks.md; rows also to
bench-out/insight/results-CUSTOMERS.jsonl as each seed finishes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.bench_text import company
from benchmarks.report import write_section
from features.training_sets import default_as_of
from features.validation import ValidationReport, load_workspace
from pipelines.insight import WINDOW_DAYS, whole_base
from pipelines.synthetic.planted import planted_order, reported_order
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec
from training.tracking import MlflowConfig
from training.workspace import train_supported

OUT = Path("bench-out") / "insight"
FIGURES = ("nps", "csat_mean", "csat_negative_share")
BAR = {"nps": 3.0, "csat_mean": 0.1, "csat_negative_share": 3.0}
DRIVER_MODELS = ("nps", "csat")
SHOWN_DRIVERS = 4


def truth_on(folder: Path, start: pd.Timestamp) -> dict[str, float]:
    """The true figures over customers who existed at `start` and were still customers at the end."""
    hidden = pd.read_parquet(folder / "_truth" / "customers.parquet")
    created = pd.read_parquet(folder / "customers.parquet")["created_at"]
    rows = hidden[hidden["active_at_end"].to_numpy() & (created < start).to_numpy()]
    return {
        "customers": len(rows),
        "nps": 100 * (rows["nps_promoter_p"].mean() - rows["nps_detractor_p"].mean()),
        "csat_mean": rows["csat_expected"].mean(),
        "csat_negative_share": 100 * rows["csat_negative_p"].mean(),
    }


def runs_folder(customers: int, seed: int) -> Path:
    """The folder of this company's tracked runs and registry."""
    return OUT / f"mlflow-{customers}-{seed}"


def models_of(customers: int, seed: int) -> MlflowConfig:
    """Where the satisfaction model of this company is tracked (`train_before_window`); made if missing."""
    runs = runs_folder(customers, seed)
    runs.mkdir(parents=True, exist_ok=True)
    return MlflowConfig.model_validate(
        {"tracking_uri": f"sqlite:///{runs}/mlflow.db", "artifact_location": str(runs / "artifacts")}
    )


def train_before_window(loaded: ValidationReport, mlflow: MlflowConfig, seed: int) -> pd.Timestamp:
    """Train the satisfaction model on answers before the window; returns the window's start."""
    start = default_as_of(loaded.tables) - pd.Timedelta(days=WINDOW_DAYS)
    satisfaction_only = {k: v for k, v in loaded.tables.items() if k != "churn"}
    holdout = HoldoutSpec(holdout_from=start.date())
    train_supported(satisfaction_only, loaded.config, mlflow, holdout, FitOptions(seed=seed))
    return start


@dataclass(frozen=True)
class Trained:
    """A generated company with its satisfaction model trained before the report's window."""

    folder: Path
    loaded: ValidationReport
    mlflow: MlflowConfig
    start: pd.Timestamp
    moment: pd.Timestamp


def trained_company(customers: int, seed: int) -> Trained:
    """This company and its model (`train_before_window`), each made where missing, and the window."""
    folder = company(customers, seed, OUT)
    loaded = load_workspace(folder)
    mlflow = models_of(customers, seed)
    if not (runs_folder(customers, seed) / "mlflow.db").exists():
        train_before_window(loaded, mlflow, seed)
    moment = default_as_of(loaded.tables)
    return Trained(folder, loaded, mlflow, moment - pd.Timedelta(days=WINDOW_DAYS), moment)


def run_seed(customers: int, seed: int) -> dict[str, Any]:
    """One seed's estimates and truth, with the seconds each stage took."""
    folder = company(customers, seed, OUT)
    loaded = load_workspace(folder)
    mlflow = models_of(customers, seed)
    clock = time.perf_counter()
    start = train_before_window(loaded, mlflow, seed)
    trained = time.perf_counter() - clock
    summary = whole_base(loaded.tables, loaded.config, mlflow)
    truth = truth_on(folder, start)
    base = json.loads((folder / "_truth" / "summary.json").read_text())
    return {
        "seed": seed,
        "customers": summary["customers"],
        "truth": truth,
        "truth_whole_base_nps": base["population"]["nps"],
        "latent_class_nps": base["nps_true"],
        "estimates": {name: summary[name] for name in FIGURES},
        "planted_drivers": planted_order(base),
        "reported_drivers": {m: [k for k, _ in reported_order(summary["drivers"], m)] for m in DRIVER_MODELS},
        "seconds": {"train": round(trained), "report": round(time.perf_counter() - clock - trained)},
    }


def verdict(row: dict[str, Any], name: str) -> dict[str, Any]:
    """How one figure of one seed fares: errors, coverage and the bar."""
    truth, figure = row["truth"][name], row["estimates"][name]
    lo, hi = figure["interval"]
    error, naive = figure["corrected"] - truth, figure["respondents"] - truth
    return {
        "error": error,
        "naive_error": naive,
        "model_error": figure["model"] - truth,
        "covered": lo <= truth <= hi,
        "width": hi - lo,
        "met": abs(error) <= BAR[name] and abs(error) < abs(naive),
    }


def table(rows: list[dict[str, Any]], name: str) -> list[str]:
    """The per-seed table of one figure and its tally."""
    lines = [
        f"\n**{name}** (bar: corrected within {BAR[name]:g} of the truth and closer than respondents only)\n",
        "| seed | customers | respondents (n) | truth | respondents | model | corrected | 95% interval "
        "| width | truth inside | bar met |",
        "|---:|---:|---:|---:|---:|---:|---:|---|---:|---|---|",
    ]
    for row in rows:
        f, v = row["estimates"][name], verdict(row, name)
        lines.append(
            f"| {row['seed']} | {row['customers']:,} | {f['n_respondents']:,} | {row['truth'][name]:.2f} "
            f"| {f['respondents']:.2f} | {f['model']:.2f} | {f['corrected']:.2f} "
            f"| [{f['interval'][0]:.2f}, {f['interval'][1]:.2f}] | {v['width']:.2f} "
            f"| {'yes' if v['covered'] else 'NO'} | {'yes' if v['met'] else 'NO'} |"
        )
    verdicts = [verdict(r, name) for r in rows]
    mean_abs = {
        k: sum(abs(v[k]) for v in verdicts) / len(verdicts) for k in ("error", "naive_error", "model_error")
    }
    covered, met = sum(v["covered"] for v in verdicts), sum(v["met"] for v in verdicts)
    ties = sum(r["estimates"][name]["corrected"] == r["estimates"][name]["respondents"] for r in rows)
    tied = f" ({ties} of the misses: corrected and respondents only equal at two decimals)" if ties else ""
    lines.append(
        f"\nTruth inside the interval in {covered} of {len(rows)} seeds; "
        f"bar met in {met} of {len(rows)}{tied}. "
        f"Mean absolute error: corrected {mean_abs['error']:.2f}, respondents only "
        f"{mean_abs['naive_error']:.2f}, model {mean_abs['model_error']:.2f}."
    )
    return lines


def driver_lines(rows: list[dict[str, Any]]) -> list[str]:
    """Per seed and model: the planted drivers in the order of their true effect beside the report's first."""
    lines = [
        "\n**Drivers** (the report's first driver families, read as the planted driver each records, "
        "`other:` where none; bar: the same as the planted order, first to last)\n",
        "| seed | model | planted, by true effect | report's first | first right | same four | order right |",
        "|---:|---|---|---|---|---|---|",
    ]
    tally: Counter[str] = Counter()
    for row in (r for r in rows if "planted_drivers" in r):
        planted = row["planted_drivers"][:SHOWN_DRIVERS]
        for model, ranked in row["reported_drivers"].items():
            shown = ranked[:SHOWN_DRIVERS]
            marks = {
                "first": shown[:1] == planted[:1],
                "four": set(shown) == set(planted),
                "order": shown == planted,
            }
            tally.update(["all", *(k for k, hit in marks.items() if hit)])
            lines.append(
                f"| {row['seed']} | {model} | {', '.join(planted)} | {', '.join(shown)} | "
                + " | ".join("yes" if marks[k] else "NO" for k in ("first", "four", "order"))
                + " |"
            )
    lines.append(
        f"\nFirst driver right in {tally['first']} of {tally['all']}; the planted four first, in any order, "
        f"in {tally['four']}; in their true order in {tally['order']}."
    )
    return lines


def seeds_parser(doc: str | None) -> argparse.ArgumentParser:
    """A parser with `--customers` and `--seeds`, as every benchmark over generated companies takes."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20000, help="customers per generated company")
    parser.add_argument("--seeds", type=int, default=10, help="companies, seeds 0, 1, …")
    return parser


def main() -> None:
    parser = seeds_parser(__doc__)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument(
        "--write-only", action="store_true", help="Write the section from the seeds results.jsonl holds."
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / f"results-{args.customers}.jsonl"
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in [] if args.write_only else seeds:
        with results.open("a") as handle:
            handle.write(json.dumps(run_seed(args.customers, seed)) + "\n")
    rows = [json.loads(line) for line in results.read_text().splitlines()]
    rows = [r for r in rows if r["seed"] in seeds]
    body = [
        f"{len(rows)} seeds of the generated company at {args.customers:,} customers; window: the last "
        f"{WINDOW_DAYS} days; the satisfaction model trained on answers before it.",
        "Truth: the expected answer of every customer the estimate covers had each been asked at the end "
        "(`_truth/customers.parquet`). Who answers, in the generator: older and premium customers answer "
        "more readily, and older ones are happier (`params.AGE_RESPONSE`, `AGE_SATISFACTION`), which the "
        "`customers` table shows; a ticket brings a CSAT survey that the unhappy-for-now answer "
        "(`respond_after_ticket`), which the window's event counts show; and the very unhappy and very "
        "happy answer a little more (`surveys.readiness`), which no feature shows and no estimate can "
        "correct. The propensity reads the features at the window's start and the window's event counts; "
        "each answer is set against the model's prediction at its own moment (`training.insight.estimates`). "
        "Beyond a metric's reach (customers further past an event than 95% of its answers came: most of "
        "the base for CSAT, asked only after a delivery or a ticket), the corrected figure starts from "
        "predictions read off the NPS model, whose answers reach them (`training.insight.anchor`).",
    ]
    if args.write_only:
        body.append(f"The rows were measured by the same command without `--write-only` ({results}).")
    for name in FIGURES:
        body += table(rows, name)
    body += driver_lines(rows)
    seconds = [r["seconds"] for r in rows]
    body.append(
        f"\nSeconds per seed (2 shared cores): training {sum(s['train'] for s in seconds) / len(rows):.0f}, "
        f"report {sum(s['report'] for s in seconds) / len(rows):.0f}."
    )
    write_section(
        "insight", "The whole base's satisfaction against the truth (generated company)", "\n".join(body)
    )


if __name__ == "__main__":
    main()
