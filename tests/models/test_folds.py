"""Undated rows: fold models averaged into one booster, calibrated and chosen out of fold."""

from __future__ import annotations

import dataclasses

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from models.boosting import DEFAULT_PARAMS, lgb_params
from models.folds import _fold_models, averaged_booster, fit_by_folds, fold_rows
from models.schema import FeatureSchema
from models.tabular import ChurnModel
from models.tree_tables import TreeTables
from tests.models.synthetic import FEATURES, churn_frame

PARAMS = dataclasses.replace(DEFAULT_PARAMS, num_boost_round=60)


def prepared(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    frame = churn_frame(n, seed=seed)
    X = FeatureSchema.from_frame(frame, list(FEATURES)).prepare(frame)
    return X, frame["churned"].to_numpy()


def parameters(params):  # type: ignore[no-untyped-def]
    return lgb_params("binary", params, 0, list(FEATURES), metric="binary_logloss")


def test_the_averaged_booster_outputs_the_mean_of_its_boosters_and_their_mean_shap_values() -> None:
    X, y = prepared(1200, seed=0)
    boosters = [
        lgb.train(
            parameters(PARAMS) | {"seed": k, "bagging_seed": k}, lgb.Dataset(X, y), num_boost_round=20 + k
        )
        for k in range(3)
    ]
    merged = averaged_booster(boosters)
    rows = FeatureSchema.from_frame(X, list(FEATURES)).encode(X.head(300)).matrix
    mean_raw = np.mean([b.predict(rows, raw_score=True) for b in boosters], axis=0)
    np.testing.assert_allclose(merged.predict(rows, raw_score=True), mean_raw, rtol=0, atol=1e-12)
    mean_shap = np.mean([b.predict(rows, pred_contrib=True) for b in boosters], axis=0)
    tables = TreeTables(merged)
    np.testing.assert_allclose(tables.explain(rows)[1], mean_shap[:, tables.used], rtol=0, atol=1e-12)


def test_folds_split_every_row_once_each_outcome_in_its_share() -> None:
    y = np.array([0] * 80 + [1] * 20)
    folds = fold_rows(y, 5, seed=3)
    assert sorted(np.concatenate(folds).tolist()) == list(range(100))
    assert [int(y[f].sum()) for f in folds] == [4] * 5


def test_the_setting_with_the_best_out_of_fold_auc_is_kept() -> None:
    X, y = prepared(1500, seed=1)
    _, scores = fit_by_folds(X, y, PARAMS, parameters, seed=0)
    folds = fold_rows(y, PARAMS.folds, 0)
    each = [
        roc_auc_score(y, _fold_models(X, y, dataclasses.replace(PARAMS, **dict(c)), parameters, folds)[1])
        for c in PARAMS.fold_choices
    ]
    assert roc_auc_score(y, scores) == max(each)


def test_a_churn_model_on_undated_rows_ranks_and_calibrates_new_customers() -> None:
    train, test = churn_frame(3000, seed=2), churn_frame(2000, seed=3)
    train["cutoff"] = pd.Timestamp("2020-01-31")  # an undated snapshot: one moment for every row
    model = ChurnModel(PARAMS).fit(train[list(FEATURES)], train["churned"], train["cutoff"])
    p = model.predict_proba(test[list(FEATURES)])
    assert roc_auc_score(test["churned"], p) > roc_auc_score(test["churned"], test["true_p"]) - 0.02
    assert abs(p.mean() - test["churned"].mean()) < 0.03
