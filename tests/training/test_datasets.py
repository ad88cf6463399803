from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.training.conftest import churn_set
from training.datasets import TrainingSet, split_by_customers, split_by_time, split_latest


def test_a_time_split_puts_every_example_from_the_date_on_in_the_holdout() -> None:
    train, holdout = split_by_time(churn_set(), dt.date(2024, 10, 1))
    assert train.times.max() < pd.Timestamp("2024-10-01") <= holdout.times.min()
    assert len(train) + len(holdout) == 2000


def test_the_default_holdout_is_the_latest_fifth_of_the_time_range() -> None:
    ts = churn_set()
    train, holdout = split_latest(ts)
    span = ts.times.max() - ts.times.min()
    assert holdout.times.min() >= ts.times.min() + span * 0.8 > train.times.max()


def test_a_customer_split_never_shares_a_customer_and_is_seeded() -> None:
    ts = churn_set()
    train, holdout = split_by_customers(ts, 0.25, seed=3)
    assert not set(train.frame["customer_id"]) & set(holdout.frame["customer_id"])
    assert holdout.frame["customer_id"].nunique() == 250
    again = split_by_customers(ts, 0.25, seed=3)[1]
    assert again.frame.index.equals(holdout.frame.index)


@pytest.mark.parametrize("fraction", [0.0, 1.0, 1.5])
def test_a_customer_fraction_outside_zero_to_one_is_refused(fraction: float) -> None:
    with pytest.raises(ValueError, match="fraction"):
        split_by_customers(churn_set(100), fraction, seed=0)


def test_the_digest_changes_with_the_data_and_only_then() -> None:
    ts = churn_set(300)
    assert ts.digest() == churn_set(300).digest()
    assert ts.digest() != churn_set(300, seed=1).digest()


def test_a_training_set_names_the_columns_its_frame_lacks() -> None:
    frame = churn_set(50).frame.drop(columns=["plan"])
    with pytest.raises(KeyError, match="plan"):
        TrainingSet(frame, ("plan",), "churned", "cutoff", {}, "churn_v1")
