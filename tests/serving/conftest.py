"""Fixtures shared by the service tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.mlflow_config import MlflowConfig
from tests.serving.workspace import build_trained_workspace


@pytest.fixture(scope="session")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, MlflowConfig]:
    """A generated company of 400 customers with both champions registered (shared, never served)."""
    return build_trained_workspace(tmp_path_factory.mktemp("company"), customers=400, seed=1)
