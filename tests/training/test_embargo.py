"""A churn holdout cut by time: no training example's label window reaches into it."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient

from features.training_sets import build_churn_set
from features.validation import load_workspace
from pipelines.synthetic import generate_company
from tests.training.conftest import temporary_mlflow
from training.datasets import TrainingSet
from training.pipeline import HoldoutSpec, split_for_training, train_workspace
from training.tracking import MlflowConfig


@pytest.fixture(scope="module")
def churn(tmp_path_factory: pytest.TempPathFactory) -> tuple[TrainingSet, int]:
    """A generated company's churn examples at its default cutoffs (30 days apart, 90-day horizon)."""
    folder = Path(tmp_path_factory.mktemp("company"))
    generate_company(folder, customers=1500, seed=3)
    loaded = load_workspace(folder)
    horizon = loaded.config.churn.horizon_days
    built = build_churn_set(loaded.tables, loaded.config)
    fields = ("frame", "features", "label", "time_column", "descriptions", "feature_set")
    return TrainingSet(*(getattr(built, f) for f in fields), label_days=horizon), horizon


def test_training_cutoffs_whose_horizon_reaches_the_holdout_are_purged(
    churn: tuple[TrainingSet, int],
) -> None:
    ts, horizon = churn
    train, test = split_for_training("churn", ts, HoldoutSpec())
    start = pd.to_datetime(test.times).min()
    assert (pd.to_datetime(train.times) + pd.Timedelta(days=horizon) <= start).all()
    assert len(train) and len(test) and len(train) + len(test) < len(ts)


def test_no_churner_is_a_positive_on_both_sides_of_the_split(churn: tuple[TrainingSet, int]) -> None:
    # without the purge, a customer who churns early in the holdout is also a positive at the
    # training cutoffs just before it: the holdout would judge the model on churners it fitted
    ts, _ = churn
    train, test = split_for_training("churn", ts, HoldoutSpec())
    positives = [set(side.frame.loc[side.y == 1, "customer_id"]) for side in (train, test)]
    assert positives[1], "the holdout needs churners for this test to mean anything"
    assert not positives[0] & positives[1]
    unpurged, _ = split_for_training("churn", dataclasses.replace(ts, label_days=0), HoldoutSpec())
    shared = set(unpurged.frame.loc[unpurged.y == 1, "customer_id"]) & positives[1]
    assert shared, "the data must hold churners the purge keeps apart, else this test proves nothing"


def test_when_the_purge_leaves_no_churner_the_model_is_fitted_on_the_purged_examples_too(
    churn: tuple[TrainingSet, int], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given churn examples where every churner the purge keeps in training is made a stayer
    ts, horizon = churn
    kept, _ = split_for_training("churn", ts, HoldoutSpec())
    frame = ts.frame.copy()
    frame.loc[frame.index.isin(kept.frame.index), ts.label] = 0
    thin = dataclasses.replace(ts, frame=frame)
    config = temporary_mlflow(tmp_path)
    # when train runs: the purged training set holds one class, so it falls back with a warning
    with caplog.at_level(logging.WARNING, logger="training.pipeline"):
        metrics = train_workspace(None, thin, HoldoutSpec(), config)
    assert "churn" in metrics
    said = [r.getMessage() for r in caplog.records if "purged" in r.getMessage()]
    assert len(said) == 1 and f"{horizon}-day label reaches into the holdout" in said[0]
    assert _purged_days(config) == "0", "the run says its training was not purged"
    # while the same examples with their churners purge as they should, and say so
    purged = temporary_mlflow(tmp_path / "purged")
    train_workspace(None, ts, HoldoutSpec(), purged)
    assert _purged_days(purged) == str(horizon)


def _purged_days(config: MlflowConfig) -> str:
    client = MlflowClient(config.tracking_uri)
    (run,) = client.search_runs([client.get_experiment_by_name(config.experiment).experiment_id])
    return str(run.data.params["purged_label_days"])
