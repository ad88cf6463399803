"""The truth of a what-if: the same company replayed with one driver changed.

The replay takes the same customers and runs the same simulation with every carrier's chance of a
late delivery halved; everything a late parcel sets off (tickets, complaints, churn) follows from
it. After the first changed parcel two runs draw different random events, so one difference carries
noise as well as the effect: the truth is the mean over paired runs (each run as it is and halved).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipelines.synthetic.customers import Customers
from pipelines.synthetic.population import expected_answers, figures
from pipelines.synthetic.simulate import History, simulate
from pipelines.synthetic.timegrid import DAY, TimeGrid
from pipelines.synthetic.world import World

HORIZON_DAYS = 90  # the churn model's default horizon
LATE_FACTOR = 0.5
RUN_BUDGET = 20_000  # customers x paired runs: a small company gets more runs, so less noise
MAX_RUNS = 8


def expected_churners(history: History, grid: TimeGrid, days: int = HORIZON_DAYS) -> float:
    """Churners expected within `days` after the end among its active customers, at their final hazard."""
    return churners_at(history.final_hazard[history.alive[-1]], grid, days)


def churners_at(hazard: np.ndarray, grid: TimeGrid, days: int = HORIZON_DAYS) -> float:
    """Churners expected within `days` of customers with these per-step churn hazards."""
    steps = days * DAY / float(np.diff(grid.bounds).mean())
    return float((1.0 - (1.0 - hazard.astype(float)) ** steps).sum())


def base_figures(history: History, grid: TimeGrid, rater_bias: np.ndarray) -> dict[str, float]:
    """Whole-base NPS (expected answers) and expected churners of one run."""
    answers = expected_answers(history.snapshots[-1].astype(float) + rater_bias)
    return {
        "nps": figures(answers, history.alive[-1])["nps"],
        "churners": expected_churners(history, grid),
    }


def replay(customers: Customers, grid: TimeGrid, seed: int, run: int, late_factor: float) -> History:
    """The same customers simulated again on their own random stream, with `late_factor` on lateness."""
    world = World.start(np.random.default_rng([seed, run]), grid, customers)
    world.late_factor = late_factor
    return simulate(world, lambda _: None)


def what_if_truth(seed: int, grid: TimeGrid, customers: Customers) -> dict[str, Any]:
    """The `what_if` section of the truth summary: the expected effect of halving late deliveries.

    Each paired run simulates the same customers on one random stream twice, as they are and with
    half the late deliveries; the mean difference over the runs is the effect (a single run's
    difference also carries the noise of everything else that happened).
    """
    runs = int(np.clip(RUN_BUDGET // len(customers), 1, MAX_RUNS))
    pairs = [
        [
            base_figures(replay(customers, grid, seed, run, f), grid, customers.rater_bias)
            for f in (1.0, LATE_FACTOR)
        ]
        for run in range(runs)
    ]
    row: dict[str, Any] = {
        "definition": f"the same customers simulated {runs} times with every carrier's late-delivery chance "
        "as it is and halved (paired: one random stream per run); nps as in `population`, churners = "
        f"expected churners within {HORIZON_DAYS} days at each customer's final hazard; means over the runs",
        "runs": runs,
    }
    for name in ("nps", "churners"):
        before = float(np.mean([b[name] for b, _ in pairs]))
        after = float(np.mean([a[name] for _, a in pairs]))
        row |= {name: before, f"{name}_after": after, f"{name}_change": after - before}
    return {"late_deliveries_halved": row}
