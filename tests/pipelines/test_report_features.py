"""The report's features: both moments in one engine pass, a what-if recomputing only what it changes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from features.discover import build_catalogue
from features.training_sets import (
    build_satisfaction_set,
    build_scoring_set,
    build_scoring_sets,
    default_as_of,
)
from features.validation import load_workspace
from pipelines.synthetic.company import generate_company
from pipelines.what_if import _rebuilt, reading
from training.insight.what_if import scenarios


def _same(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Equal values, exactly (category levels may differ: they are read by value)."""
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False, check_categorical=False, rtol=0, atol=0)


def test_one_pass_and_a_scenarios_rebuilt_features_equal_building_each_in_full(tmp_path: Path) -> None:
    generate_company(tmp_path / "company", customers=300, seed=5)
    loaded = load_workspace(tmp_path / "company")
    tables, config = loaded.tables, loaded.config
    moment = default_as_of(tables)
    start = moment - pd.Timedelta(days=90)
    ids = sorted(set(build_scoring_set(tables, config, start)["customer_id"]))[::2]
    before, now = build_scoring_sets(tables, config, ids, (start, moment))
    for built, at in ((before, start), (now, moment)):
        alone = build_scoring_set(tables, config, at).set_index("customer_id").loc[ids].reset_index()
        _same(built, alone)
    catalogue = build_catalogue(dict(tables), config)
    found = scenarios(tables)
    assert [s.key for s in found][:2] == ["late_deliveries_halved", "call_wait_30pct_shorter"]
    for scenario in found:
        changed = scenario.change(tables)
        full = build_scoring_set(changed, config, moment, catalogue=catalogue)
        _same(
            _rebuilt(changed, tables, config, moment, now, catalogue),
            full.set_index("customer_id").loc[ids].reset_index(),
        )
    late = {f.name for f in reading(catalogue, {"deliveries"})}
    assert late and all(f.source in ("deliveries", "*") for f in catalogue.features if f.name in late)
    assert not {f.name for f in catalogue.features if f.source == "calls"} & late


def test_each_answer_of_the_window_is_read_with_the_features_the_model_was_trained_on(tmp_path: Path) -> None:
    # the report sets each answer against the prediction at its own moment: the training row's features
    generate_company(tmp_path / "company", customers=300, seed=6)
    tables, config = (loaded := load_workspace(tmp_path / "company")).tables, loaded.config
    moment = default_as_of(tables)
    start = moment - pd.Timedelta(days=90)
    ids = sorted(set(build_scoring_set(tables, config, start)["customer_id"]))
    surveys = tables["surveys"]
    window = surveys[(surveys["responded_at"] >= start) & surveys["customer_id"].isin(ids)]
    points = window[["customer_id", "responded_at"]].rename(columns={"responded_at": "as_of"})
    assert len(points) > 50 and points.duplicated().any()  # NPS and CSAT answered at one moment
    *_, at_answers = build_scoring_sets(tables, config, ids, (start, moment), points=points)
    trained = build_satisfaction_set(tables, config)
    keys = ["customer_id", "responded_at"]
    rows = trained.frame.drop_duplicates(keys).set_index(keys).loc[pd.MultiIndex.from_frame(window[keys])]
    assert list(at_answers["customer_id"]) == list(window["customer_id"])
    names = list(trained.features)
    _same(at_answers[names], rows[names].reset_index(drop=True))
