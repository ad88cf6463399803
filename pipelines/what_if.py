"""Wiring of the what-if: each scenario's tables through the same features and @champion models.

The scenarios and their effects live in `training.insight.what_if`; here the rewritten tables are
featurised with the catalogue of the tables as they are (so a removed theme is a feature at zero,
not a missing column) and scored by the same champions as the base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from features.catalogue import Catalogue, Feature
from features.config import WorkspaceConfig
from features.discover import build_catalogue
from features.training_sets import build_scoring_set, build_scoring_sets
from pipelines.scoring import Champions, load_champions, score_features
from training.insight.population import Population
from training.insight.what_if import Scenario, effect, scenarios, value_column
from training.tracking import MlflowConfig


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
    chosen: Sequence[Scenario] | None = None,
) -> dict[str, Any]:
    """The `what_if` rows (one per scenario the tables support) and what they rest on.

    The base as it is comes scored in `population`; each scenario is scored once more, without
    reasons (its figures read probabilities only).

    Args:
        tables: the validated, typed tables of the workspace.
        config: the workspace config the features are computed under.
        mlflow_config: where the champions live (when `champions` is not given).
        moment: the moment the base is scored at.
        population: the base, scored now.
        champions: the champions already loaded.
        now: the population's features at `moment`, when built: a scenario then recomputes only the
            features of the tables it rewrites, and the others are these (the same values).
        chosen: the scenarios to run; None: every one the tables support (`scenarios`).
    """
    champions = load_champions(mlflow_config) if champions is None else champions
    catalogue = build_catalogue(dict(tables), config)
    ids = population.customer_id.tolist()
    column, value = customer_value(tables["customers"], ids)
    rows = []
    for scenario in scenarios(tables) if chosen is None else chosen:
        changed = scenario.change(tables)
        if now is None:
            features = build_scoring_set(changed, config, moment, catalogue=catalogue)
            features = features.set_index("customer_id").loc[ids].reset_index()
        else:
            features = _rebuilt(changed, tables, config, moment, now, catalogue)
        after = score_features(features, mlflow_config, reasons=False, champions=champions)
        rows.append(effect(scenario, population.current, after, value))
    basis = {
        "churners": f"expected churners within {config.churn.horizon_days} days: "
        "the sum of churn probabilities",
        "revenue_kept": f"fewer expected churners × customers.{column}"
        if column is not None
        else "not computed: the customers table has no value column (annual_value, revenue, clv …)",
        "scope": "only the table a scenario names changes; what the driver sets off elsewhere "
        "(tickets, complaints) stays, so each row reads as the driver's direct part",
    }
    return {"what_if": rows, "what_if_basis": basis}


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
