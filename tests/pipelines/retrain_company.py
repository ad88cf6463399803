"""A small generated company for the retrain tests, with champions a fair challenger beats."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from features.validation import load_workspace
from pipelines.synthetic import generate_company
from tests.serving.workspace import FAST
from training.fitting import FitOptions
from training.pipeline import HoldoutSpec
from training.registry import champion_version, promote_model
from training.tracking import MlflowConfig
from training.workspace import train_supported

FAST_OPTIONS = FitOptions(params=FAST)


def company_with_weak_champions(root: Path, customers: int = 800, seed: int = 3) -> tuple[Path, MlflowConfig]:
    """A company under `root/ws` whose champions learned nothing: trained on its labels shuffled.

    Their features are the company's own (so monitoring and the gate can score them), their AUC is
    chance: any challenger trained on the true labels beats them on the same holdout. A year of
    monthly churn cutoffs gives the challenger churners enough to learn from once training purges
    the cutoffs whose 90-day label reaches into the holdout.
    """
    workspace = root / "ws"
    generate_company(workspace, customers=customers, seed=seed)
    shutil.rmtree(workspace / "_truth")
    (workspace / "cx.yml").write_text("churn:\n  n_cutoffs: 12\n", encoding="utf-8")
    shuffled = Path(shutil.copytree(workspace, root / "shuffled"))
    shuffle_labels(shuffled, seed)
    config = MlflowConfig(
        tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=str(root / "artifacts")
    )
    loaded = load_workspace(shuffled)
    metrics, skipped = train_supported(loaded.tables, loaded.config, config, HoldoutSpec(), FAST_OPTIONS)
    assert set(metrics) == {"churn", "satisfaction"}, skipped
    client = MlflowClient(config.tracking_uri)
    for kind in ("churn", "satisfaction"):  # the gate refuses a model no better than chance: by hand
        name = config.model_name(kind)
        if champion_version(name, client=client) is None:
            promote_model(name, "1", "chance-level champion for the retrain tests", client=client)
    return workspace, config


def shuffle_labels(workspace: Path, seed: int) -> None:
    """Each survey metric's scores permuted among its answers; churn moved to random customers."""
    rng = np.random.default_rng(seed)
    surveys = pd.read_parquet(workspace / "surveys.parquet")
    surveys["score"] = surveys.groupby("metric")["score"].transform(lambda s: rng.permutation(s.to_numpy()))
    surveys.to_parquet(workspace / "surveys.parquet", index=False)
    churn = pd.read_parquet(workspace / "churn.parquet")
    customers = pd.read_parquet(workspace / "customers.parquet")["customer_id"].to_numpy()
    churn["customer_id"] = rng.choice(customers, size=len(churn), replace=False)
    churn.to_parquet(workspace / "churn.parquet", index=False)
