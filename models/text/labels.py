"""Weak labels for texts: the customer's next survey answer after the text says how they felt.

A text is labelled by the first survey response of its customer at or after the text's moment and
within a horizon (a survey comment is labelled by its own response). A response is negative when
any of its metrics falls on that metric's negative side; its satisfaction is the mean of its
metrics' scores on a 0-1 scale where 1 is best (CES is reversed, as high effort is bad).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from features.contract import MetricScale


def _unit_score(surveys: pd.DataFrame, scales: Mapping[str, MetricScale]) -> pd.Series:
    low = surveys["metric"].map({m: s.low for m, s in scales.items()})
    high = surveys["metric"].map({m: s.high for m, s in scales.items()})
    unit = (surveys["score"] - low) / (high - low)
    reversed_ = surveys["metric"].map({m: s.negative_min is not None for m, s in scales.items()})
    return unit.where(~reversed_.fillna(False).astype(bool), 1.0 - unit)


def survey_responses(surveys: pd.DataFrame, scales: Mapping[str, MetricScale]) -> pd.DataFrame:
    """One row per response (customer and moment): whether it is negative and its 0-1 satisfaction.

    Metrics the scales do not know are left out.
    """
    known = surveys[surveys["metric"].isin(list(scales))].copy()
    known["negative"] = [
        scales[m].is_negative(s) for m, s in zip(known["metric"], known["score"], strict=True)
    ]
    known["satisfaction"] = _unit_score(known, scales)
    known["customer_id"] = known["customer_id"].astype(str)
    known["answered_at"] = pd.to_datetime(known["responded_at"], utc=True)
    grouped = known.groupby(["customer_id", "answered_at"], sort=False)
    return grouped.agg(negative=("negative", "max"), satisfaction=("satisfaction", "mean")).reset_index()


def weak_labels(
    corpus: pd.DataFrame,
    surveys: pd.DataFrame,
    scales: Mapping[str, MetricScale],
    horizon_days: int = 60,
) -> pd.DataFrame:
    """The corpus with `answered_at`, `negative` and `satisfaction` of each text's next answer.

    Texts with no answer within `horizon_days` keep missing labels (NaN / NaT).
    """
    responses = survey_responses(surveys, scales).sort_values("answered_at")
    ordered = corpus.reset_index(names="_row").sort_values("at")
    merged = pd.merge_asof(
        ordered,
        responses,
        left_on="at",
        right_on="answered_at",
        by="customer_id",
        direction="forward",
        tolerance=pd.Timedelta(days=horizon_days),
    )
    merged = merged.set_index("_row").sort_index()
    labelled = corpus.copy()
    labelled["answered_at"] = merged["answered_at"].to_numpy()
    labelled["negative"] = merged["negative"].astype(float).to_numpy()
    labelled["satisfaction"] = merged["satisfaction"].to_numpy(dtype=np.float64)
    return labelled
