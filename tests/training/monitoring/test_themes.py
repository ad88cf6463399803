"""The mix of negative text themes: judged against the champions' training window."""

from __future__ import annotations

import numpy as np
import pandas as pd

from training.monitoring.themes import MIN_TEXTS, theme_check

END = pd.Timestamp("2025-06-01", tz="UTC")
NOW = pd.Timestamp("2026-01-01", tz="UTC")


def text_scores(before: dict[str, int], after: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """Themed texts in the 90 days before END and before NOW, `counts[theme]` of each."""
    rng = np.random.default_rng(seed)
    rows = []
    for end, counts in ((END, before), (NOW, after)):
        for theme, count in counts.items():
            at = end - pd.to_timedelta(rng.uniform(0, 89, count), unit="D")
            rows += [
                {"customer_id": f"C{i}", "at": t, "negative": 0.9, "theme": theme} for i, t in enumerate(at)
            ]
    unthemed = {"customer_id": "C0", "at": NOW - pd.Timedelta(days=1), "negative": 0.1, "theme": None}
    return pd.DataFrame([*rows, unthemed])


def test_the_same_mix_later_does_not_drift() -> None:
    check = theme_check(
        {"text_scores": text_scores({"late": 60, "bill": 40}, {"late": 58, "bill": 42})}, END, NOW, 0.1
    )
    assert check is not None and not check.drifted and check.distance is not None and check.distance < 0.05
    assert check.texts == (100, 100)


def test_a_new_theme_drifts_and_is_named_first() -> None:
    scores = text_scores({"late": 60, "bill": 40}, {"late": 40, "bill": 30, "app crash": 50})
    check = theme_check({"text_scores": scores}, END, NOW, 0.1)
    assert check is not None and check.drifted
    assert check.grown[0] == "app crash (new)"
    assert "app crash (new)" in check.reason()


def test_a_theme_that_grew_is_named_without_new() -> None:
    check = theme_check(
        {"text_scores": text_scores({"late": 80, "bill": 20}, {"late": 30, "bill": 70})}, END, NOW, 0.1
    )
    assert check is not None and check.drifted and check.grown == ("bill",)


def test_too_few_texts_are_reported_never_judged() -> None:
    few = MIN_TEXTS // 2
    check = theme_check({"text_scores": text_scores({"late": few}, {"bill": few})}, END, NOW, 0.1)
    assert check is not None and check.distance is None and not check.drifted


def test_a_workspace_without_themed_texts_has_no_theme_check() -> None:
    assert theme_check({}, END, NOW, 0.1) is None
    no_theme = text_scores({"late": 50}, {"late": 50}).drop(columns="theme")
    assert theme_check({"text_scores": no_theme}, END, NOW, 0.1) is None
