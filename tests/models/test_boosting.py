from __future__ import annotations

import dataclasses

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models.boosting import (
    LARGE_SET,
    BoosterParams,
    SharedBins,
    balanced_weights,
    lgb_params,
    time_slices,
    training_slices,
)
from tests.models.synthetic import FEATURES, churn_frame


@pytest.mark.parametrize("rows", [100, 5_000, 199_999])
def test_a_set_below_large_rows_keeps_every_setting(rows: int) -> None:
    params = BoosterParams()
    assert params.for_rows(rows) == params


@pytest.mark.parametrize("rows", [200_000, 5_000_000])
def test_a_large_set_swaps_in_the_large_set_settings_and_nothing_else(rows: int) -> None:
    chosen = BoosterParams().for_rows(rows)
    assert (chosen.learning_rate, chosen.early_stopping_rounds, chosen.refit) == (0.1, 20, False)
    changed = {k for k, v in dataclasses.asdict(chosen).items() if v != getattr(BoosterParams(), k)}
    assert changed == {*LARGE_SET, "large_rows"}


def test_the_large_set_settings_are_chosen_once() -> None:
    chosen = BoosterParams().for_rows(1_000_000)
    assert chosen.large_rows is None
    assert chosen.for_rows(1_000_000) == chosen


def test_large_rows_none_keeps_the_settings_at_every_size() -> None:
    params = BoosterParams(learning_rate=0.02, large_rows=None)
    assert params.for_rows(10_000_000) == params


def _rows(labels: np.ndarray, weighted: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray | None]:
    frame = churn_frame(1000, seed=0)[list(FEATURES)]
    return frame, labels, balanced_weights(labels) if weighted else None


@pytest.mark.parametrize("weighted_first", [False, True])
def test_a_booster_on_shared_bins_grows_the_trees_it_grows_on_its_own_bins(weighted_first: bool) -> None:
    # given bins already used by a booster with other labels (weighted or not)
    frame = churn_frame(1000, seed=0)
    churned, late = frame["churned"].to_numpy(), (frame["late_deliveries_30d"] > 1).to_numpy().astype(int)
    parameters = lgb_params("binary", BoosterParams(), 0, FEATURES)
    bins = SharedBins()
    lgb.train(parameters, bins.dataset(_rows(late, weighted_first), parameters), num_boost_round=5)
    # when an unweighted booster is grown on the shared bins and on bins of its own
    shared = lgb.train(parameters, bins.dataset(_rows(churned, False), parameters), num_boost_round=5)
    alone = lgb.train(parameters, SharedBins().dataset(_rows(churned, False), parameters), num_boost_round=5)
    # then both hold the same trees
    assert shared.model_to_string() == alone.model_to_string()


def test_undated_rows_are_sliced_at_random_with_each_label_in_its_share() -> None:
    labels = np.array([1] * 200 + [0] * 800)  # a file sorted by outcome: row order would put churners first
    fit, stop, calibrate = training_slices(np.full(1000, 7), labels, (0.8, 0.1, 0.1), seed=3)
    assert sorted(np.concatenate([fit, stop, calibrate]).tolist()) == list(range(1000))
    assert [len(s) for s in (fit, stop, calibrate)] == [800, 100, 100]
    assert [labels[s].mean() for s in (fit, stop, calibrate)] == [0.2, 0.2, 0.2]


def test_dated_rows_keep_their_time_slices() -> None:
    times = np.arange(100)[::-1]
    slices = training_slices(times, np.zeros(100), (0.8, 0.1, 0.1))
    assert [s.tolist() for s in slices] == [s.tolist() for s in time_slices(times, (0.8, 0.1, 0.1))]
