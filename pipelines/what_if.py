"""Wiring of the what-if: each scenario's tables through the same features and @champion models.

The scenarios and their effects live in `training.insight.what_if`; here the rewritten tables are
featurised with the catalogue of the tables as they are (so a removed theme is a feature at zero,
not a missing column) and scored by the same champions as the base. The drivers' worth
(`driver_worth`) runs each driver undone whole (`training.insight.undo`) the same way. Above
`SAMPLE_ROWS` customers both re-score a seeded sample (`sampled`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, Feature
from features.config import WorkspaceConfig
from features.discover import build_catalogue
from features.training_sets import build_scoring_set, build_scoring_sets
from models.predictor import Predictor
from pipelines.scoring import MODEL_KINDS, Champions, load_champions, score_features
from training.fitting import HALF_LEAST
from training.insight.population import Population
from training.insight.spread import HALVES, with_intervals
from training.insight.undo import undo_scenarios
from training.insight.what_if import (
    SEED,
    Scenario,
    effect,
    predicted_nps,
    ranked_worth,
    scaled,
    scenarios,
    value_column,
    worth_row,
)
from training.tracking import MlflowConfig

# above this many customers the scenarios re-score a sample: a dozen of them over a million
# customers would outlast the report's budget, and a mean change needs no million rows
SAMPLE_ROWS = 50_000


def customer_value(customers: pd.DataFrame, ids: list[str]) -> tuple[str | None, np.ndarray | None]:
    """The customers' value column and its values for `ids` (missing values count 0); (None, None) without."""
    column = value_column(customers)
    if column is None:
        return None, None
    return column, customers.set_index("customer_id").loc[ids, column].fillna(0.0).to_numpy(dtype=float)


def what_if(
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    mlflow_config: MlflowConfig,
    moment: pd.Timestamp,
    population: Population,
    champions: Champions | None = None,
    now: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """The `what_if` rows (one per scenario the tables support), the `driver_worth` ranking, and their basis.

    The base as it is comes scored in `population`; each scenario is scored once more, without
    reasons (its figures read probabilities only). The NPS changes are read from the satisfaction
    champion's `experience` model where it has one (`models.predictor.Predictor.experience`).

    Args:
        tables: the validated, typed tables of the workspace.
        config: the workspace config the features are computed under.
        mlflow_config: where the champions live (when `champions` is not given).
        moment: the moment the base is scored at.
        population: the base, scored now.
        champions: the champions already loaded.
        now: the population's features at `moment`, when built: a scenario then recomputes only the
            features of the tables it rewrites, and the others are these (the same values).
    """
    champions = load_champions(mlflow_config) if champions is None else champions
    catalogue = build_catalogue(dict(tables), config)
    ids = population.customer_id.tolist()
    if now is None:
        now = build_scoring_set(tables, config, moment, catalogue=catalogue)
        now = now.set_index("customer_id").loc[ids].reset_index()
    rescore = Rescore(tables, config, mlflow_config, moment, catalogue, champions)
    column, value = customer_value(tables["customers"], ids)
    whole_nps = predicted_nps(population.current)
    chosen, undone = scenarios(tables), undo_scenarios(tables)  # from every row: a median wait is the base's
    rescore, base, scale = sampled(rescore, now, population.current, value)
    rows = [scaled(rescore.effect(s, base), scale, whole_nps) for s in chosen]
    worth = [worth_row(scaled(rescore.effect(s, base), scale)) for s in undone]
    return {
        "what_if": with_intervals(rows),
        "driver_worth": with_intervals(ranked_worth(worth), ranked=True),
        "what_if_basis": _basis(config, column, rescore, len(ids)),
    }


def sampled(
    rescore: Rescore, now: pd.DataFrame, current: pd.DataFrame, value: np.ndarray | None
) -> tuple[Rescore, Base, float]:
    """What the scenarios re-score, and the factor from its churners to the base's.

    The base itself up to `SAMPLE_ROWS` customers; above, a seeded uniform sample of that many,
    from the tables' rows of those customers alone (a customer's features read only their own
    rows). A what-if's NPS change is a mean change, which a sample that size estimates closely.
    """
    rows = sample_rows(len(now))
    scale = len(now) / len(rows) if len(rows) else 1.0
    if len(rows) < len(now):
        rescore = rescore.within(set(now["customer_id"].iloc[rows]))
        now, current = now.iloc[rows], current.iloc[rows]
        value = None if value is None else value[rows]
    return rescore, rescore.base(now, current, value), scale


def sample_rows(n: int) -> np.ndarray:
    """The rows the scenarios re-score: every one up to `SAMPLE_ROWS`, else a seeded uniform sample."""
    if n <= SAMPLE_ROWS:
        return np.arange(n)
    return np.sort(np.random.default_rng(SEED).choice(n, SAMPLE_ROWS, replace=False))


@dataclass(frozen=True)
class Base:
    """Customers to re-score: features and scores now, value (None without), experience NPS now.

    `halves`: the experience NPS now by each of the model's halves (`Predictor.experience_halves`).
    """

    now: pd.DataFrame
    current: pd.DataFrame
    value: np.ndarray | None
    experience: float | None
    halves: list[float]


@dataclass(frozen=True)
class Rescore:
    """The base's scores again, with one scenario's tables: through the same features and champions."""

    tables: Mapping[str, pd.DataFrame]
    config: WorkspaceConfig
    mlflow_config: MlflowConfig
    moment: pd.Timestamp
    catalogue: Catalogue
    champions: Champions

    def base(self, now: pd.DataFrame, current: pd.DataFrame, value: np.ndarray | None) -> Base:
        """The customers whose features are `now` and scores `current`, in the same order."""
        now, current = now.reset_index(drop=True), current.reset_index(drop=True)
        return Base(now, current, value, *self.experience_nps(now))

    def effect(self, scenario: Scenario, base: Base) -> dict[str, object]:
        """`effect`'s row for `base` with the scenario's tables."""
        changed = scenario.change(self.tables)
        features = _rebuilt(changed, self.tables, self.config, self.moment, base.now, self.catalogue)
        later, halves = self.experience_nps(features)
        change = None if later is None or base.experience is None else later - base.experience
        after = self._scores(features, MODEL_KINDS if change is None else ("churn",))
        row = effect(scenario, base.current, after, base.value, change)
        if change is not None and base.halves:
            row[HALVES] = [b - a for a, b in zip(base.halves, halves, strict=True)]
        return row

    def _scores(self, features: pd.DataFrame, kinds: tuple[str, ...]) -> pd.DataFrame:
        """The `kinds` champions' scores of `features`; only `customer_id` where none of them has one.

        With the experience model's NPS change, the satisfaction scores would go unread: churn's alone.
        """
        if all(self.champions.get(kind) is None for kind in kinds):
            return features[["customer_id"]]
        return score_features(features, self.mlflow_config, kinds, reasons=False, champions=self.champions)

    def within(self, customers: set[str]) -> Rescore:
        """The same, over the tables' rows of `customers` alone (the catalogue stays the base's)."""
        kept = {
            name: table[table["customer_id"].isin(customers)] if "customer_id" in table.columns else table
            for name, table in self.tables.items()
        }
        return dataclasses.replace(self, tables=kept)

    def experience_nps(self, features: pd.DataFrame) -> tuple[float | None, list[float]]:
        """The experience model's NPS of these customers (−100..100), and each of its halves'.

        None and no halves without that model. The rows are encoded once for all seven models: the
        halves read the whole model's features.
        """
        predictor = self.experience_predictor
        if predictor is None or predictor.experience is None:
            return None, []
        rows = predictor.experience.schema_.encode(features)
        each = [predictor.experience_nps(rows, k) for k in (None, *range(len(predictor.experience_halves)))]
        whole, *halves = (float(100 * nps.mean()) for nps in each if nps is not None)
        return whole, halves

    @property
    def satisfaction_predictor(self) -> Predictor | None:
        """The satisfaction champion's predictor; None without that champion."""
        model = self.champions.get("satisfaction")
        predictor = getattr(model.unwrap_python_model(), "predictor", None) if model is not None else None
        return predictor if isinstance(predictor, Predictor) else None

    @property
    def experience_predictor(self) -> Predictor | None:
        """The satisfaction champion's predictor when it holds an `experience` model."""
        predictor = self.satisfaction_predictor
        return predictor if predictor is not None and predictor.experience is not None else None


def _basis(config: WorkspaceConfig, column: str | None, rescore: Rescore, n: int) -> dict[str, str]:
    """What the what-if rows and the drivers' worth rest on, in words."""
    sample = (
        "every customer of the base" if n <= SAMPLE_ROWS else f"a seeded uniform sample of {SAMPLE_ROWS:,}"
    )
    return {
        "churners": f"expected churners within {config.churn.horizon_days} days: "
        "the sum of churn probabilities",
        "revenue_kept": f"fewer expected churners × customers.{column}"
        if column is not None
        else "not computed: the customers table has no value column (annual_value, revenue, clv …)",
        "nps": nps_basis(rescore.satisfaction_predictor),
        "scope": "only the table a scenario names changes; what the driver sets off elsewhere "
        "(tickets, complaints) stays, so each row reads as the driver's direct part",
        "sample": f"each scenario re-scores {sample}; churners and revenue are scaled to the base",
        "driver_worth": "each driver undone whole; ranked by the NPS it wins, then the churners it keeps",
        "nps_change_interval": interval_basis(rescore.experience_predictor),
    }


def interval_basis(predictor: Predictor | None) -> str:
    """What the NPS changes' intervals rest on, in words, or why there are none."""
    if predictor is None or predictor.experience is None or not predictor.experience_halves:
        return (
            "not computed: the satisfaction champion holds no model refitted on halves of the customers "
            f"(it is fitted from {2 * HALF_LEAST:,} NPS answers on)"
        )
    return (
        f"95%, from the NPS model without past answers refitted on {len(predictor.experience_halves)} "
        "halves of the customers: it covers which customers' answers trained the model, not a cause no "
        "feature records; `ahead_of_next` says whether a driver is surely worth more than the next one"
    )


def nps_basis(predictor: Predictor | None) -> str:
    """Which model the NPS changes are read from, in words, or that none is.

    Args:
        predictor: the satisfaction champion's predictor; None without one.
    """
    if predictor is not None and predictor.experience is not None:
        return (
            "the satisfaction model without the customers' past answers (an answer given after an "
            "experience carries its hurt, so the full model credits the answer, not the experience); "
            "`nps` is the full model's, `nps_after` adds the change"
        )
    if predictor is None or "nps" not in predictor.metrics:
        return "not computed: the satisfaction champion predicts no NPS (the surveys hold no NPS answers)"
    return "the satisfaction model's NPS (it reads past answers, so an experience's change is understated)"


def _rebuilt(
    changed: Mapping[str, pd.DataFrame],
    tables: Mapping[str, pd.DataFrame],
    config: WorkspaceConfig,
    moment: pd.Timestamp,
    now: pd.DataFrame,
    catalogue: Catalogue,
) -> pd.DataFrame:
    """`now` with the features that read a rewritten table computed again from `changed`."""
    rewritten = {name for name, table in changed.items() if table is not tables.get(name)}
    touched = reading(catalogue, rewritten)
    if not touched:
        return now
    part = catalogue.subset(touched)
    fresh = build_scoring_sets(changed, config, now["customer_id"].tolist(), (moment,), part)[0]
    return now.assign(**{f.name: fresh[f.name] for f in touched})


def reading(catalogue: Catalogue, sources: set[str]) -> tuple[Feature, ...]:
    """The catalogue's features computed from `sources`, with those combining them (`least`)."""
    names: set[str] = set()
    grown = True
    while grown:  # a combination of combinations: until nothing more joins
        found = {f.name for f in catalogue.features if f.source in sources or names & set(f.inputs)}
        grown, names = found != names, found
    return tuple(f for f in catalogue.features if f.name in names)
