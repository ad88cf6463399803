from __future__ import annotations

import pytest

from training.insight.spread import (
    AHEAD,
    HALVES,
    INTERVAL,
    half_interval,
    standard_error,
    told_apart,
    with_intervals,
)


def test_the_whole_models_error_is_the_halves_spread_over_root_two() -> None:
    # two halves 2 apart: their sd is √2, so the whole model (twice the customers) errs by 1
    assert standard_error([1.0, 3.0]) == pytest.approx(1.0)
    assert standard_error([2.0]) is None
    # one degree of freedom: Student's t of 12.71, not 1.96
    assert half_interval(2.0, [1.0, 3.0]) == [round(2.0 - 12.7062, 2), round(2.0 + 12.7062, 2)]
    assert half_interval(2.0, []) is None


def test_two_drivers_the_halves_move_together_are_told_apart_though_their_intervals_overlap() -> None:
    # given two drivers whose halves swing widely but always one point apart
    first = {"nps_change": 4.0, HALVES: [3.0, 5.0, 2.0, 6.0]}
    second = {"nps_change": 3.0, HALVES: [2.0, 4.0, 1.0, 5.0]}
    lo, hi = half_interval(3.0, second[HALVES]) or (0, 0)
    assert lo < 4.0 < hi  # each alone: the other's change lies inside its interval
    # then the difference, read from the same halves, is sure
    assert told_apart(first, second) is True
    # and two whose difference swings across zero are not
    assert told_apart(first, {"nps_change": 3.5, HALVES: [4.0, 3.0, 3.0, 5.5]}) is False
    # without halves, nothing is said
    assert told_apart(first, {"nps_change": 1.0}) is None


def test_rows_get_their_interval_and_whether_they_are_ahead_and_lose_the_halves() -> None:
    rows = [
        {"driver": "a", "nps_change": 5.0, HALVES: [5.0, 5.2, 4.8, 5.1]},
        {"driver": "b", "nps_change": 1.0, HALVES: [1.0, 1.1, 0.9, 1.2]},
        {"driver": "c", "nps_change": 0.9, HALVES: [1.5, 0.2, 0.9, 1.4]},
    ]
    shown = with_intervals(rows, ranked=True)
    assert [r[AHEAD] for r in shown] == [True, False, None]
    assert all(HALVES not in r for r in shown)
    assert all(r[INTERVAL][0] <= r["nps_change"] <= r[INTERVAL][1] for r in shown)
    # a row without an NPS change (no NPS model) gets neither
    assert with_intervals([{"driver": "d", "churners_change": -1.0}]) == [
        {"driver": "d", "churners_change": -1.0}
    ]
