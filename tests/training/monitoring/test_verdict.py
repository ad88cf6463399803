"""Which AUC the label-free estimate is held to before `retrain recommended`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pandas as pd

from training.monitoring.monitor import MonitorRule, _reasons

NO_DRIFT = pd.DataFrame({"feature": ["x"], "importance": [1.0], "drifted": [False]})


def _reasons_for(**figures: Any) -> list[str]:
    performance = {"churn": {"rows": 50_000.0, "realised_auc": None} | figures}
    return _reasons(SimpleNamespace(name="cx-churn"), NO_DRIFT, performance, MonitorRule())  # type: ignore[arg-type]


def test_without_newer_labels_the_estimate_is_held_to_the_holdout() -> None:
    assert _reasons_for(estimated_auc=0.63, holdout_auc=0.74) == [
        "cx-churn: churn AUC estimated at 0.630, 0.740 on its holdout"
    ]


def test_a_labelled_base_the_champion_never_saw_sets_the_bar_instead_of_its_holdout() -> None:
    unseen = {"labelled_rows": 50_000.0, "labelled_auc": 0.64}
    assert _reasons_for(estimated_auc=0.63, holdout_auc=0.74, **unseen) == []
    assert _reasons_for(estimated_auc=0.55, holdout_auc=0.74, **unseen) == [
        "cx-churn: churn AUC estimated at 0.550, 0.640 realised on the newest labelled bases"
    ]
    # a few hundred labelled customers are too few to set it
    assert _reasons_for(estimated_auc=0.63, holdout_auc=0.74, labelled_rows=200.0, labelled_auc=0.64)
