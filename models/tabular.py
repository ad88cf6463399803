"""Calibrated risk models over a feature frame: churn, and the negative side of a survey metric.

Each is a small scikit-learn style estimator over a feature frame (categoricals as `category`
dtype): `__init__` stores arguments, `fit(X, y, times)` learns state ending in `_` and returns
self. `times` orders the rows for the time slices of `models.boosting`; without it, row order is
taken as time order. Learned state leaves as JSON plus LightGBM text models (`to_state`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from models.boosting import (
    DEFAULT_PARAMS,
    BoosterParams,
    SharedBins,
    booster_from_text,
    lgb_params,
    row_times,
    slice_rows,
    train_booster,
    training_slices,
    undated,
)
from models.calibration import Calibrator, Method, calibrator_from_dict, fit_calibrator
from models.folds import fit_by_folds
from models.schema import EncodedRows, FeatureSchema
from models.tree_tables import TreeTables, tables_of

State = tuple[dict[str, Any], dict[str, str]]  # (JSON-ready metadata, LightGBM text models by name)


class RiskClassifier:
    """Calibrated probability of a bad outcome (churn, a negative survey answer).

    Args:
        monotone: feature -> +1 (never lowers risk) or -1 (never raises it).
        calibration: `isotonic`, `platt` or `auto` (by calibration slice size).
    """

    def __init__(
        self,
        params: BoosterParams = DEFAULT_PARAMS,
        monotone: Mapping[str, int] | None = None,
        calibration: Method = "auto",
        random_state: int = 0,
    ) -> None:
        self.params = params
        self.monotone = monotone
        self.calibration = calibration
        self.random_state = random_state

    def fit(
        self, X: pd.DataFrame, y: ArrayLike, times: ArrayLike | None = None, bins: SharedBins | None = None
    ) -> Self:
        """Grow trees on the earliest rows, stop early on the next, calibrate on the latest.

        Undated rows (one moment for all) are fitted by folds instead (`models.folds`), calibrated
        on their out-of-fold scores. `bins` is shared with the other models grown on the same
        rows, so they are binned once.
        """
        self.schema_ = FeatureSchema.from_frame(X, list(X.columns))
        Xp, labels = self.schema_.prepare(X), np.asarray(y, dtype=int)
        moments = row_times(X, times)
        counts = np.unique(labels, return_counts=True)[1]
        # every fold needs both outcomes to stop on: rarer outcomes keep the slices
        if (
            self.params.folds > 1
            and undated(moments)
            and len(counts) == 2
            and counts.min() >= self.params.folds
        ):
            self.booster_, scores = fit_by_folds(Xp, labels, self.params, self._parameters, self.random_state)
            # Platt by default: the average of five models is smoother than the one each score came
            # from, which two parameters carry across better than isotonic steps; and it ties no
            # scores, so the ranking stays the booster's own (steps cost up to 0.003 AUC on Telco)
            method = "platt" if self.calibration == "auto" else self.calibration
            self.calibrator_: Calibrator = fit_calibrator(scores, labels, method)
            return self
        fit_idx, stop_idx, cal_idx = training_slices(moments, y, self.params.slices, self.random_state)
        # The rare class is up-weighted on both slices, so early stopping judges the very loss the
        # trees minimise (weighting only the trees made the unweighted stop loss rise from the first
        # tree and stopped training at once); the calibrator then undoes the shift in base rate.
        balance = self.params.balance_classes
        self.booster_ = train_booster(
            self._parameters(self.params),
            self.params,
            slice_rows(Xp, labels, fit_idx, balance),
            slice_rows(Xp, labels, stop_idx, balance),
            bins,
        )
        cal_scores = self.booster_.predict(Xp.iloc[cal_idx], raw_score=True)
        self.calibrator_ = fit_calibrator(cal_scores, labels[cal_idx], self.calibration)
        return self

    def _parameters(self, params: BoosterParams) -> dict[str, Any]:
        """LightGBM's parameters for these tree settings."""
        return lgb_params(
            "binary", params, self.random_state, self.schema_.features, self.monotone, metric="binary_logloss"
        )

    def raw_score(self, X: pd.DataFrame | EncodedRows) -> NDArray[np.float64]:
        """The trees' log-odds (before calibration)."""
        return self.tables.outputs(self.schema_.encode(X).matrix)

    def predict_proba(self, X: pd.DataFrame | EncodedRows) -> NDArray[np.float64]:
        """Calibrated probability of the bad outcome, one per row."""
        return self.calibrator_.predict(self.raw_score(X))

    def explain_rows(self, X: pd.DataFrame | EncodedRows) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """(calibrated probability per row, SHAP pushes per row and feature of `explained_features`).

        The same numbers as `predict_proba` and `contribution_matrix`, read from tables of the
        trees (`models.tree_tables`) at a fraction of TreeSHAP's cost per row.
        """
        raw, pushes = self.tables.explain(self.schema_.encode(X).matrix)
        return self.calibrator_.predict(raw), pushes

    @property
    def explained_features(self) -> NDArray[np.intp]:
        """Positions (in the schema's features) of the features any tree splits on."""
        return self.tables.used

    @property
    def tables(self) -> TreeTables:
        """The booster's SHAP tables, built on first use (they are derived, never saved)."""
        return tables_of(self)

    def contribution_matrix(self, X: pd.DataFrame | EncodedRows) -> NDArray[np.float64]:
        """`contributions` as a plain (rows, features + 1) array, the base last."""
        return np.asarray(
            self.booster_.predict(self.schema_.encode(X).matrix, pred_contrib=True), dtype=float
        )

    def contributions(self, X: pd.DataFrame | EncodedRows) -> pd.DataFrame:
        """Per row and feature, the push on the log-odds (SHAP values); column `bias` is the base."""
        index = X.index if isinstance(X, pd.DataFrame) else None
        columns = [*self.schema_.features, "bias"]
        return pd.DataFrame(self.contribution_matrix(X), columns=columns, index=index)

    def to_state(self) -> State:
        """JSON metadata (schema, calibrator) and the booster as LightGBM text."""
        meta = {"schema": self.schema_.to_dict(), "calibrator": self.calibrator_.to_dict()}
        return meta, {"booster": self.booster_.model_to_string()}

    @classmethod
    def from_state(cls, meta: dict[str, Any], texts: Mapping[str, str]) -> Self:
        """A fitted model from `to_state` output; needs no training data."""
        model = cls()
        model.schema_ = FeatureSchema.from_dict(meta["schema"])
        model.calibrator_ = calibrator_from_dict(meta["calibrator"])
        model.booster_ = booster_from_text(texts["booster"])
        return model


class ChurnModel(RiskClassifier):
    """Calibrated probability that a customer churns within the horizon after a cutoff."""
