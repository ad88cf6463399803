"""What each theme costs: how its writers answered next, on the survey metric's own scale."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from features.contract import MetricScale


def main_metric(surveys: pd.DataFrame, scales: Mapping[str, MetricScale]) -> str | None:
    """The known metric with the most answers (None when no answer has a known metric)."""
    known = surveys.loc[surveys["metric"].isin(list(scales)), "metric"]
    return None if known.empty else str(known.value_counts().index[0])


def theme_impact(
    scores: pd.DataFrame, labelled: pd.DataFrame, surveys: pd.DataFrame, scales: Mapping[str, MetricScale]
) -> pd.DataFrame:
    """Per theme: texts, customers touched, and their writers' next answer on the main metric.

    Args:
        scores: the scored corpus (`theme`, `customer_id`), row-aligned with `labelled`.
        labelled: the corpus with each text's next answer moment (`answered_at`).
        surveys: the survey answers (`customer_id`, `responded_at`, `metric`, `score`).
        scales: the workspace's metric scales.

    Returns:
        One row per theme: `theme`, `texts`, `customers`, `metric` (e.g. csat), `low` and `high` of
        its scale, `next_answer` (the mean next answer of the theme's labelled texts, on that scale)
        and `moves` (its difference to all labelled texts; below 0 drags the metric down, or, for a
        metric whose high end is bad such as CES, up).
    """
    metric = main_metric(surveys, scales)
    answers = _answers(labelled, surveys, metric)
    themed = scores.assign(answer=answers.to_numpy()).dropna(subset=["theme"])
    grouped = themed.groupby("theme")
    table = pd.DataFrame(
        {
            "texts": grouped.size(),
            "customers": grouped["customer_id"].nunique(),
            "next_answer": grouped["answer"].mean(),
        }
    )
    scale = scales.get(metric) if metric is not None else None
    table["metric"] = metric
    table["low"], table["high"] = (scale.low, scale.high) if scale else (None, None)
    table["moves"] = table["next_answer"] - float(answers.mean())
    return table.reset_index().astype({"theme": int})


def _answers(labelled: pd.DataFrame, surveys: pd.DataFrame, metric: str | None) -> pd.Series:
    """The main metric's score of each text's next answer (NaN where it has none)."""
    if metric is None:
        return pd.Series(float("nan"), index=labelled.index)
    own = surveys[surveys["metric"] == metric]
    own = pd.DataFrame(
        {
            "customer_id": own["customer_id"].astype(str).to_numpy(),
            "answered_at": pd.to_datetime(own["responded_at"], utc=True).to_numpy(),
            "answer": pd.to_numeric(own["score"], errors="coerce").to_numpy(),
        }
    ).drop_duplicates(["customer_id", "answered_at"])
    keys = labelled[["customer_id", "answered_at"]].astype({"customer_id": str})
    keys["answered_at"] = pd.to_datetime(keys["answered_at"], utc=True)
    return keys.merge(own, on=["customer_id", "answered_at"], how="left")["answer"].set_axis(labelled.index)
