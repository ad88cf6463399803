"""Who answers: each customer's chance of answering a survey in the window, from their features.

A logistic regression on the features known at the window's start, so the answers it is fitted on
cannot leak into the features it reads. Probabilities are clipped away from 0: a respondent the
model thought all but certain not to answer would otherwise weigh thousands of times more than the
others and make the corrected figure the answer of one customer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

CLIP_LOW = 0.02


def propensity_model(features: pd.DataFrame, columns: Sequence[str]) -> Pipeline:
    """An unfitted pipeline: numbers imputed and scaled, categories one-hot, then a logistic regression."""
    numeric = [c for c in columns if pd.api.types.is_numeric_dtype(features[c])]
    categorical = [c for c in columns if c not in numeric]
    encode = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
                numeric,
            ),
            ("categorical", OneHotEncoder(handle_unknown="ignore", max_categories=20), categorical),
        ]
    )
    return make_pipeline(encode, LogisticRegression(C=1.0, max_iter=500))


def response_propensity(
    features: pd.DataFrame, columns: Sequence[str], answered: NDArray[np.bool_], clip: float = CLIP_LOW
) -> NDArray[np.float64]:
    """Each row's clipped probability of answering, fitted on whether it did.

    Args:
        features: one row per customer, the features known at the window's start.
        columns: the feature columns to read.
        answered: whether each row's customer answered in the window.
        clip: the least probability any customer is given.
    """
    if answered.all() or not answered.any():  # one class: everyone shares the observed rate
        return np.full(len(answered), max(float(answered.mean()), clip))
    frame = _plain(features[list(columns)])
    model = propensity_model(frame, columns).fit(frame, answered)
    return np.clip(model.predict_proba(frame)[:, 1], clip, 1.0)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categories as strings with an explicit `missing` level; numbers as floats."""
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_numeric_dtype(out[column]) and not pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].astype("float64")
        else:
            out[column] = out[column].astype("string").fillna("missing").astype(object)
    return out
