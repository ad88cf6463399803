from pathlib import Path

import pandas as pd
import pytest

from features.validation import load_workspace
from pipelines.synthetic.company import generate_company


@pytest.fixture(scope="session")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workspace = tmp_path_factory.mktemp("text") / "company"
    generate_company(workspace, customers=400, seed=3)
    return workspace


@pytest.fixture(scope="session")
def tables(company: Path) -> dict[str, pd.DataFrame]:
    return load_workspace(company).tables
