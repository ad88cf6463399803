"""Who answers: each customer's chance of answering a survey in the window, from their features.

A logistic regression on the features known at the window's start, so the answers it is fitted on
cannot leak into the features it reads. Probabilities are clipped away from 0: a respondent the
model thought all but certain not to answer would otherwise weigh thousands of times more than the
others and make the corrected figure the answer of one customer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

CLIP_LOW = 0.02
# Past this many customers the regression is fitted on a seeded random sample of them (and still
# predicts everyone): a few hundred coefficients are as well pinned by 100,000 rows, and the fit's cost
# grows with the rows (at a million, three metrics' fits alone would take most of the report's minutes).
FIT_ROWS = 100_000
SEED = 0
Design: TypeAlias = "NDArray[np.float64] | sparse.spmatrix"  # dense or sparse, as the encoder gives


def propensity_model(features: pd.DataFrame, columns: Sequence[str]) -> Pipeline:
    """An unfitted pipeline: numbers imputed and scaled, categories one-hot, then a logistic regression.

    `_plain` codes a frame's categories by the values that frame holds, so the fitted pipeline scores
    the rows it was fitted on (as the report does: every customer of the base), not another frame.
    """
    return make_pipeline(FunctionTransformer(_plain), _encoder(features, columns), _regression())


def design_matrix(features: pd.DataFrame, columns: Sequence[str]) -> Design:
    """The features as the regression reads them (imputed, scaled, one-hot), for `response_propensity`.

    The encoding never looks at who answered: built once, it serves every metric's fit.
    """
    frame = features[list(columns)]
    return _encoder(frame, columns).fit_transform(_plain(frame))


def _regression() -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=500)


def _encoder(features: pd.DataFrame, columns: Sequence[str]) -> ColumnTransformer:
    """Numbers imputed and scaled, categories one-hot (at most 20 levels each), as `_plain` gives them."""
    numeric = [c for c in columns if _is_number(features[c])]
    categorical = [c for c in columns if c not in numeric]
    return ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(MedianImputer(), StandardScaler()),
                numeric,
            ),
            ("categorical", OneHotEncoder(handle_unknown="ignore", max_categories=20), categorical),
        ]
    )


class MedianImputer(TransformerMixin, BaseEstimator):
    """Missing numbers filled with their column's median (0 for a column with none at all).

    `SimpleImputer(strategy="median")` takes the median through NumPy's masked arrays, which sort
    every column whole: at a million customers that alone took 43 of the report's seconds, where
    `nanmedian`'s partial sort of each column's present values takes a few.
    """

    def fit(self, X: NDArray[np.float64], y: object = None) -> MedianImputer:
        """Learn each column's median."""
        values = np.asarray(X, dtype=np.float64)
        present = ~np.isnan(values).all(axis=0)
        medians = np.zeros(values.shape[1])
        if present.any():
            medians[present] = np.nanmedian(values[:, present], axis=0)
        self.medians_ = medians
        return self

    def transform(self, X: NDArray[np.float64]) -> NDArray[np.float64]:
        """The rows with each missing value replaced by its column's median."""
        values = np.asarray(X, dtype=np.float64)
        filled: NDArray[np.float64] = np.where(np.isnan(values), self.medians_, values)
        return filled


def response_propensity(
    features: pd.DataFrame,
    columns: Sequence[str],
    answered: NDArray[np.bool_],
    clip: float = CLIP_LOW,
    design: Design | None = None,
) -> NDArray[np.float64]:
    """Each row's clipped probability of answering, fitted on whether it did.

    Args:
        features: one row per customer, the features known at the window's start.
        columns: the feature columns to read.
        answered: whether each row's customer answered in the window.
        clip: the least probability any customer is given.
        design: `design_matrix(features, columns)` when already built (the same fit, without re-encoding).
    """
    if answered.all() or not answered.any():  # one class: everyone shares the observed rate
        return np.full(len(answered), max(float(answered.mean()), clip))
    matrix = design_matrix(features, columns) if design is None else design
    rows = fit_rows(answered)
    model = _regression().fit(matrix[rows], answered[rows])
    return np.clip(model.predict_proba(matrix)[:, 1], clip, 1.0)


def fit_rows(answered: NDArray[np.bool_], most: int | None = None) -> NDArray[np.intp]:
    """The rows the regression is fitted on: all of them up to `most`, else a seeded sample of `most`.

    A sample without both answerers and others (a rate of a few in 100,000) falls back to every row.
    `most` defaults to `FIT_ROWS`.
    """
    most = FIT_ROWS if most is None else most
    everyone = np.arange(len(answered))
    if len(answered) <= most:
        return everyone
    sample = np.sort(np.random.default_rng(SEED).choice(len(answered), most, replace=False))
    return sample if 0 < answered[sample].sum() < most else everyone


def _is_number(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers as floats; anything else as integer codes of its values, -1 where missing.

    Codes rather than strings: one-hot encoding a million text values checks each for NaN in
    Python, which took a quarter of the report's propensity at a million customers.
    """
    out = {}
    for column in frame.columns:
        values = frame[column]
        out[column] = values.astype("float64") if _is_number(values) else pd.factorize(values, sort=True)[0]
    return pd.DataFrame(out, index=frame.index)
