"""Wiring of the what-if: each scenario's tables through the same features and @champion models.

The scenarios and their effects live in `training.insight.what_if`; here the rewritten tables are
featurised with the catalogue of the tables as they are (so a removed theme is a feature at zero,
not a missing column) and scored by the same champions as the base.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from features.config import WorkspaceConfig
from features.discover import build_catalogue
from features.training_sets import build_scoring_set
from pipelines.scoring import score_features
from training.insight.population import Population
from training.insight.what_if import effect, scenarios, value_column
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
) -> dict[str, Any]:
    """The `what_if` rows (one per scenario the tables support) and what they rest on."""
    catalogue = build_catalogue(dict(tables), config)
    ids = population.customer_id.tolist()
    column, value = customer_value(tables["customers"], ids)
    rows = []
    for scenario in scenarios(tables):
        features = build_scoring_set(scenario.change(tables), config, moment, catalogue=catalogue)
        features = features.set_index("customer_id").loc[ids].reset_index()
        after = score_features(features, mlflow_config)
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
