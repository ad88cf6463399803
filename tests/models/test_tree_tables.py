"""The table-lookup booster reads every row as LightGBM itself does: scores, leaves and SHAP values."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from models.tree_splits import ZERO
from models.tree_tables import TreeTables, share_ranks


def awkward_rows(n: int, seed: int) -> np.ndarray:
    """Codes and numbers with every case LightGBM treats specially: NaN, zero, values within its zero,
    negative and fractional codes, codes never seen in training."""
    rng = np.random.default_rng(seed)
    rows = np.column_stack(
        [
            rng.integers(0, 6, n).astype(float),
            rng.normal(size=n),
            rng.integers(0, 3, n).astype(float),
            np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n)),
        ]
    )
    rows[rng.random(n) < 0.2, 0] = np.nan
    rows[rng.random(n) < 0.2, 1] = np.nan
    for column, value in enumerate([9.0, -3.0, 2.7, -0.5]):
        rows[column * 10 : column * 10 + 10, 0] = value
    rows[40:50, 1] = ZERO / 2
    rows[50:60, 1] = -ZERO
    rows[60:70, 3] = -ZERO / 3
    return rows


def trained(objective: str, zero_as_missing: bool, rounds: int = 25, **extra: object) -> lgb.Booster:
    X = awkward_rows(3000, seed=0)
    signal = (np.nan_to_num(X[:, 0], nan=1) % 2 == 0) ^ (np.nan_to_num(X[:, 1]) > 0) ^ (X[:, 3] == 0)
    y = signal.astype(int) + (X[:, 2] == 1) if objective == "multiclass" else signal.astype(float)
    params = {
        "objective": objective,
        "num_leaves": 7,
        "min_data_in_leaf": 5,
        "min_data_per_group": 5,
        "cat_smooth": 1,
        "zero_as_missing": zero_as_missing,
        "verbosity": -1,
        "num_threads": 1,
        "seed": 0,
        **extra,
    }
    return lgb.train(params, lgb.Dataset(X, y, categorical_feature=[0, 2]), num_boost_round=rounds)


@pytest.mark.parametrize("zero_as_missing", [False, True])
def test_scores_and_shap_values_are_lightgbms_own(zero_as_missing: bool) -> None:
    booster = trained("binary", zero_as_missing)
    tables = TreeTables(booster)
    rows = awkward_rows(1500, seed=1)
    raw, pushes = tables.explain(rows)
    np.testing.assert_allclose(raw, booster.predict(rows, raw_score=True), rtol=0, atol=1e-12)
    expected = np.asarray(booster.predict(rows, pred_contrib=True))[:, tables.used]
    np.testing.assert_allclose(pushes, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("objective", ["regression", "multiclass"])
def test_raw_outputs_of_other_objectives_are_lightgbms_own(objective: str) -> None:
    booster = trained(objective, False, **({"num_class": 3} if objective == "multiclass" else {}))
    rows = awkward_rows(800, seed=2)
    got = TreeTables(booster).outputs(np.asfortranarray(rows))
    np.testing.assert_allclose(got, booster.predict(rows, raw_score=True), rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch", [700, 300])  # the batch and the small-batch lookup paths
def test_a_row_alone_reads_bit_for_bit_as_it_does_in_a_batch(batch: int) -> None:
    """The service answers one customer from its cache or from a batch: both must be the same bits."""
    # hundreds of trees, as the project trains: enough terms for the order of a sum to show in its bits
    tables = TreeTables(trained("binary", False, rounds=400, learning_rate=0.03))
    multiclass = TreeTables(trained("multiclass", False, rounds=200, num_class=3))
    rows = awkward_rows(batch, seed=3)
    raw, pushes = tables.explain(rows)
    classes = multiclass.outputs(rows)
    for i in range(0, batch, 7):
        alone_raw, alone_pushes = tables.explain(rows[i : i + 1])
        np.testing.assert_array_equal(alone_raw, raw[i : i + 1])
        np.testing.assert_array_equal(alone_pushes, pushes[i : i + 1])
        np.testing.assert_array_equal(multiclass.outputs(rows[i : i + 1]), classes[i : i + 1])


def test_boosters_sharing_one_ranking_of_the_rows_read_them_as_lightgbm_does() -> None:
    boosters = [
        trained("binary", False),
        trained("regression", False, num_leaves=5),
        trained("multiclass", True, num_class=3, min_data_in_leaf=40),
    ]
    tables = [TreeTables(b) for b in boosters]
    share_ranks(tables)
    rows = np.asfortranarray(awkward_rows(1500, seed=4))
    raw, pushes = tables[0].explain(rows)
    np.testing.assert_allclose(raw, boosters[0].predict(rows, raw_score=True), rtol=0, atol=1e-12)
    expected = np.asarray(boosters[0].predict(rows, pred_contrib=True))[:, tables[0].used]
    np.testing.assert_allclose(pushes, expected, rtol=0, atol=1e-12)
    for booster, table in zip(boosters[1:], tables[1:], strict=True):
        np.testing.assert_allclose(
            table.outputs(rows), booster.predict(rows, raw_score=True), rtol=0, atol=1e-12
        )
