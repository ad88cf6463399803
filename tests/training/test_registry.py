from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from tests.training.conftest import churn_set, temporary_mlflow
from training.datasets import TrainingSet
from training.pipeline import HoldoutSpec, train_workspace
from training.registry import Score, champion_version, decide_promotion, rollback_model
from training.tracking import MlflowConfig, PromotionRule

RULE = PromotionRule(min_auc_gain=0.002, max_ece_increase=0.005)


@pytest.mark.parametrize(
    ("candidate", "champion", "promote"),
    [
        (Score(0.70, 0.05), None, True),
        (Score(0.75, 0.05), Score(0.74, 0.05), True),
        (Score(0.741, 0.05), Score(0.74, 0.05), False),
        (Score(0.80, 0.06), Score(0.74, 0.05), False),
        (Score(0.80, 0.054), Score(0.74, 0.05), True),
        (Score(0.70, 0.01), Score(0.74, 0.05), False),
        (Score(None, 0.01), Score(0.74, 0.05), False),
    ],
)
def test_the_gate_needs_an_auc_gain_without_worse_calibration(
    candidate: Score, champion: Score | None, promote: bool
) -> None:
    assert decide_promotion(candidate, champion, RULE).promote is promote


def with_shuffled_training_labels(ts: TrainingSet, share: float, before: dt.date) -> TrainingSet:
    """The same set whose labels before `before` are partly shuffled: a worse model, same holdout."""
    frame = ts.frame.copy()
    rng = np.random.default_rng(1)
    rows = np.flatnonzero((frame["cutoff"] < str(before)).to_numpy() & (rng.uniform(size=len(frame)) < share))
    frame.loc[frame.index[rows], "churned"] = rng.permutation(frame["churned"].to_numpy()[rows])
    return TrainingSet(frame, ts.features, ts.label, ts.time_column, ts.descriptions, ts.feature_set)


def test_the_gate_refuses_a_worse_model_promotes_a_better_one_and_rollback_restores(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # the AUC margin is wide so that only real differences count; calibration gets slack for a
    # near-constant first model, whose ECE is tiny by construction
    config = temporary_mlflow(tmp_path, promotion={"min_auc_gain": 0.02, "max_ece_increase": 0.05})
    cut = dt.date(2024, 10, 1)
    holdout = HoldoutSpec(holdout_from=cut)
    clean = churn_set(2000)
    client = MlflowClient(config.tracking_uri)

    # given a weak first model, which becomes champion
    train_workspace(churn=with_shuffled_training_labels(clean, 0.8, cut), holdout=holdout, config=config)
    assert champion_version("cx-churn", client=client) == "1"
    # when a model trained on noise comes, then it is refused and the alias stays
    train_workspace(churn=with_shuffled_training_labels(clean, 1.0, cut), holdout=holdout, config=config)
    assert champion_version("cx-churn", client=client) == "1"
    assert client.get_model_version("cx-churn", "2").tags["gate.decision"] == "refused"
    # when a model trained on clean labels comes, then it is promoted
    train_workspace(churn=clean, holdout=holdout, config=config)
    assert champion_version("cx-churn", client=client) == "3"
    assert client.get_model_version("cx-churn", "3").tags["champion.previous"] == "1"
    # when rolled back, then the previous champion returns and the reason is on both versions
    assert rollback_model("cx-churn", "complaints from the call centre", client=client) == "1"
    assert champion_version("cx-churn", client=client) == "1"
    assert (
        client.get_model_version("cx-churn", "3").tags["champion.rolled_back_reason"]
        == "complaints from the call centre"
    )
    assert (
        client.get_model_version("cx-churn", "1").tags["champion.restored_reason"]
        == "complaints from the call centre"
    )


def test_promoting_by_hand_records_the_reason_and_rollback_needs_a_previous_champion(
    mlflow_config: MlflowConfig,
) -> None:
    from training.registry import promote_model

    holdout = HoldoutSpec(holdout_from=dt.date(2024, 10, 1))
    train_workspace(churn=churn_set(1000), holdout=holdout, config=mlflow_config)
    client = MlflowClient(mlflow_config.tracking_uri)
    with pytest.raises(ValueError, match="replaced no earlier champion"):
        rollback_model("cx-churn", "oops", client=client)
    train_workspace(churn=churn_set(1000, seed=4), holdout=holdout, config=mlflow_config)
    promote_model("cx-churn", "2", "approved by the CX lead after review", client=client)
    tags = client.get_model_version("cx-churn", "2").tags
    assert champion_version("cx-churn", client=client) == "2"
    assert tags["champion.reason"] == "approved by the CX lead after review"
    assert tags["champion.previous"] == "1"
