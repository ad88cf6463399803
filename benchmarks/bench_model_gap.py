"""Why the corrected CSAT misses: the model's error where the answers measure it against its error now.

    python -m benchmarks.bench_model_gap --customers 20000 --seeds 10

The corrected figure is the model's mean now less the model's error as the answers show it
(`training.insight.estimates`): each answer against the prediction at its own moment, weighted
by the inverse response propensity. That carries the model's error to the base only if its error
at the answers' moments is its error now. Per seed and figure this measures both sides against
the generator's truth (every customer's expected answer at the end):

- *at answers*: the model's mean error (prediction − answer) over the window's respondents;
- *carried*: the error the correction takes away (the inverse-propensity-weighted residuals), so
  corrected = model − carried;
- *now*: the model's true mean error over the base at the end, and over the base's quiet customers
  (no event of any dated table in the window);
- *left, from the model alone*: what the corrected figure missed when it started from the
  model's predictions now for every customer (now − carried);
- *read off NPS*: the error of the predictions it starts from now, where beyond a metric's reach
  they are read off the NPS model's (`training.insight.anchor`);
- *left*: corrected − truth = read off NPS − carried.

Reuses `bench_insight`'s companies and models (trains them where missing). Writes the `model-gap`
section of docs/benchmarks.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.bench_insight import seeds_parser, trained_company
from benchmarks.report import write_section
from pipelines.insight import build_population
from training.insight.exposure import SUFFIX
from training.insight.figures import Figure, supported_figures
from training.insight.population import (
    EVENT_DAYS,
    Population,
    answers_of,
    figure_values,
    starting_predictions,
)
from training.insight.propensity import response_propensity
from training.insight.reach import reach

FIGURES = ("nps", "csat_mean", "csat_negative_share")


def true_values(folder: Path, ids: pd.Series) -> dict[str, np.ndarray]:
    """Each figure's per-customer truth (expected answers at the end), in the order of `ids`."""
    hidden = pd.read_parquet(folder / "_truth" / "customers.parquet")
    hidden.index = pd.read_parquet(folder / "customers.parquet")["customer_id"]
    rows = hidden.loc[ids]
    return {
        "nps": 100 * (rows["nps_promoter_p"] - rows["nps_detractor_p"]).to_numpy(),
        "csat_mean": rows["csat_expected"].to_numpy(),
        "csat_negative_share": 100 * rows["csat_negative_p"].to_numpy(),
    }


def gaps(population: Population, figure: Figure, truth: np.ndarray, quiet: np.ndarray) -> dict[str, float]:
    """One figure's errors: at the answers, carried by the correction, now, now among the quiet, left."""
    answers = answers_of(population, figure.metric)
    answered = ~np.isnan(answers)
    current, predicted, values = figure_values(figure, population, answers)
    propensity = response_propensity(population.features, population.feature_columns, answered)
    residual = np.where(answered, values - predicted, 0.0)
    carried = -float((residual / propensity).mean())
    now = current - truth
    anchored = starting_predictions(population, figure.metric, current) - truth
    beyond = reach(answers_of(population, figure.metric, EVENT_DAYS), population.event_days)
    return {
        "beyond": float(beyond["beyond_answers_share"] or 0.0),
        "at_answers": float((predicted - values)[answered].mean()),
        "carried": carried,
        "now": float(now.mean()),
        "quiet": float(now[quiet].mean()),
        "left_plain": float(now.mean()) - carried,
        "read_now": float(anchored.mean()),
        "left": float(anchored.mean()) - carried,
    }


def run_seed(customers: int, seed: int) -> dict[str, Any]:
    """One seed's gaps for every figure."""
    trained = trained_company(customers, seed)
    loaded = trained.loaded
    population = build_population(
        loaded.tables, loaded.config, trained.mlflow, trained.start, trained.moment
    ).population
    events = population.features[[c for c in population.features.columns if c.endswith(SUFFIX)]]
    quiet = (events.sum(axis=1) == 0).to_numpy()
    truth = true_values(trained.folder, population.customer_id)
    figures = supported_figures(loaded.config.scales, population.current, {"nps", "csat"})
    return {
        "seed": seed,
        "quiet_share": float(quiet.mean()),
        **{f.name: gaps(population, f, truth[f.name], quiet) for f in figures if f.name in FIGURES},
    }


def lines(rows: list[dict[str, Any]], name: str) -> list[str]:
    """One figure's per-seed table and the means over seeds."""
    keys = ("at_answers", "carried", "now", "quiet", "left_plain", "read_now", "left")
    out = [
        f"\n**{name}** (model − truth; at answers: prediction − answer)\n",
        "| seed | base beyond the answers | at answers | carried | now, whole base | now, quiet customers "
        "| left, from the model alone | now, read off NPS beyond the reach | left (corrected − truth) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in [*rows, mean_row(rows, name, keys)]:
        errors = " | ".join(f"{row[name][k]:+.3f}" for k in keys)
        out.append(f"| {row['seed']} | {100 * row[name]['beyond']:.0f}% | {errors} |")
    return out


def mean_row(rows: list[dict[str, Any]], name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """A row of the means over seeds, shaped as a seed's."""
    means = {k: sum(r[name][k] for r in rows) / len(rows) for k in ("beyond", *keys)}
    return {"seed": "mean", name: means}


def main() -> None:
    parser = seeds_parser(__doc__)
    args = parser.parse_args()
    rows = [run_seed(args.customers, seed) for seed in range(args.seeds)]
    quiet = sum(r["quiet_share"] for r in rows) / len(rows)
    body = [
        f"{len(rows)} seeds of the generated company at {args.customers:,} customers; the companies, "
        "window and models of `bench:insight`. *At answers*: the model's mean error over the window's "
        "respondents at their answers' moments; *carried*: the error the correction takes away "
        "(corrected = model − carried); *now*: the model's true mean error at the end, over the base and "
        f"over its quiet customers (no event of any dated table in the window: {100 * quiet:.0f}% of the "
        "base on average); *left, from the model alone*: what the corrected figure missed when it started "
        "from the model's predictions for every customer (now − carried); *read off NPS*: the error of "
        "the predictions it starts from now, where a metric's predictions beyond its answers' reach are "
        "read off the NPS model's (`training.insight.anchor`); *left*: what the corrected figure misses "
        "(read off NPS − carried); *base beyond the answers*: the share of the base further past its "
        "latest event now than 95% of the metric's answers were at theirs "
        "(`response.<metric>.beyond_answers_share` of the report's summary).",
    ]
    for name in FIGURES:
        body += lines(rows, name)
    write_section(
        "model-gap", "Where the corrected figure misses: the model's error then and now", "\n".join(body)
    )


if __name__ == "__main__":
    main()
