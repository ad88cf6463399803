"""How training judges a model on the data it has: by time where it can, else by customers, else a sentence."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from features.problems import DataProblem
from tests.training.conftest import churn_set
from training.datasets import TrainingSet
from training.pipeline import HoldoutSpec, split_for_training


def undated(ts: TrainingSet) -> TrainingSet:
    """The same examples, every one at a single placeholder moment (a snapshot)."""
    frame = ts.frame.assign(**{ts.time_column: pd.Timestamp("2024-01-30", tz="UTC")})
    return TrainingSet(frame, ts.features, ts.label, ts.time_column, ts.descriptions, ts.feature_set)


def test_undated_examples_without_a_holdout_option_hold_out_a_fifth_of_customers() -> None:
    ts = undated(churn_set(500))
    train, test = split_for_training("churn", ts, HoldoutSpec())
    held = set(test.frame["customer_id"])
    assert held and not held & set(train.frame["customer_id"])
    assert 0.1 < len(held) / ts.frame["customer_id"].nunique() < 0.3


def test_a_time_split_of_undated_examples_is_refused_in_one_sentence() -> None:
    with pytest.raises(DataProblem) as refused:
        split_for_training("churn", undated(churn_set(300)), HoldoutSpec(holdout_from=dt.date(2024, 1, 1)))
    message = str(refused.value)
    assert "two or more distinct times for a time split; use --holdout-customers" in message
    assert "\n" not in message


def test_a_holdout_date_after_every_example_names_the_dates_to_choose_from() -> None:
    with pytest.raises(DataProblem, match=re.escape("choose --holdout-from between")):
        split_for_training("churn", churn_set(300), HoldoutSpec(holdout_from=dt.date(2100, 1, 1)))


def test_no_examples_at_all_is_a_data_problem() -> None:
    empty = churn_set(300)
    empty = TrainingSet(empty.frame.iloc[:0], empty.features, empty.label, empty.time_column, {}, "churn_v1")
    with pytest.raises(DataProblem, match="churn has no training examples"):
        split_for_training("churn", empty, HoldoutSpec(customers=0.3))
