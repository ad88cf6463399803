"""Fixtures shared across the test packages."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from tests.training.conftest import churn_set, satisfaction_set, temporary_mlflow
from training.pipeline import HoldoutSpec, train_workspace
from training.tracking import MlflowConfig


def pytest_configure(config: pytest.Config) -> None:
    """An xdist worker starts with `COLUMNS=80`, which a plain run has not: rich's consoles, made when
    the CLI is imported, would then keep 80 columns and ignore a test's own `COLUMNS`."""
    os.environ.pop("COLUMNS", None)


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> MlflowConfig:
    """A tracking store after one small training of both models on synthetic feature sets.

    Their features (late_deliveries_30d, plan, ...) are not a generated company's; tests only read it.
    """
    config = temporary_mlflow(tmp_path_factory.mktemp("synthetic-store"))
    train_workspace(
        satisfaction_set(600), churn_set(600), HoldoutSpec(holdout_from=dt.date(2024, 10, 1)), config
    )
    return config
