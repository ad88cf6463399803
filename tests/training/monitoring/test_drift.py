from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from training.monitoring.drift import DriftRule, drifted_share, feature_drift, psi
from training.monitoring.profile import OTHER, build_profile, reference_rows


def _frame(rows: int, seed: int, late_mean: float = 1.0, region_p: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    amount = rng.lognormal(3, 1, rows)
    amount[rng.random(rows) < 0.1] = np.nan
    return pd.DataFrame(
        {
            "late_count": rng.poisson(late_mean, rows).astype("float32"),
            "amount": amount.astype("float32"),
            "region": pd.Categorical(np.where(rng.random(rows) < region_p, "north", "south")),
        }
    )


IMPORTANCE = {"late_count": 3.0, "amount": 1.0, "region": 0.0}


def _profile(seed: int = 0) -> dict:
    return build_profile(_frame(5000, seed), list(IMPORTANCE), IMPORTANCE)


def test_a_sample_of_the_same_population_does_not_drift() -> None:
    table = feature_drift(_profile(), _frame(5000, 1), DriftRule())
    assert not table["drifted"].any(), table
    assert drifted_share(table) == 0


def test_a_shifted_numeric_feature_drifts_and_carries_its_importance_share() -> None:
    table = feature_drift(_profile(), _frame(5000, 1, late_mean=2.5), DriftRule()).set_index("feature")
    assert table.loc["late_count", "drifted"] and table.loc["late_count", "method"] == "psi"
    assert not table.loc[["amount", "region"], "drifted"].any()
    assert drifted_share(table) == pytest.approx(0.75)


def test_a_shifted_category_and_an_unseen_level_drift_by_jensen_shannon() -> None:
    table = feature_drift(_profile(), _frame(5000, 1, region_p=0.9), DriftRule()).set_index("feature")
    assert table.loc["region", "drifted"] and table.loc["region", "method"] == "jensen_shannon"
    unseen = _frame(5000, 2).assign(region=pd.Categorical(["east"] * 5000))
    assert (
        feature_drift(_profile(), unseen, DriftRule()).set_index("feature").loc["region", "statistic"] > 0.9
    )


def test_missing_values_appearing_count_as_drift() -> None:
    current = _frame(5000, 1).assign(amount=np.float32(np.nan))
    table = feature_drift(_profile(), current, DriftRule()).set_index("feature")
    assert table.loc["amount", "drifted"]


def test_the_profile_is_small_json_with_shares_that_sum_to_one() -> None:
    profile = build_profile(_frame(5000, 0), list(IMPORTANCE), IMPORTANCE)
    amount, region = profile["features"]["amount"], profile["features"]["region"]
    assert len(amount["edges"]) == 9 and sum(amount["shares"]) == pytest.approx(1)
    assert amount["shares"][-1] == pytest.approx(0.1, abs=0.02)  # the missing bin
    assert set(region["levels"]) == {"north", "south"} and OTHER not in region["levels"]


def test_psi_of_identical_shares_is_zero() -> None:
    shares = np.array([0.2, 0.3, 0.5])
    assert psi(shares, shares) == pytest.approx(0)


def test_reference_rows_are_the_latest_cutoff_or_the_latest_ninety_days() -> None:
    cutoffs = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-02-01"], utc=True)
    assert len(reference_rows(pd.DataFrame({"cutoff": cutoffs}), "cutoff")) == 2
    answers = pd.date_range("2025-01-01", "2025-12-31", freq="D", tz="UTC")
    assert len(reference_rows(pd.DataFrame({"at": answers}), "at")) == 91
