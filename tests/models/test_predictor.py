from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.contract import DEFAULT_METRICS
from models.predictor import PARALLEL_ROWS, Predictor
from models.satisfaction import MetricModel, NpsClassifier
from models.tabular import ChurnModel
from tests.models.synthetic import DESCRIPTIONS, FEATURES, churn_frame, satisfaction_frame


def fit_churn(seed: int = 0) -> Predictor:
    train = churn_frame(1500, seed=0)
    model = ChurnModel(random_state=seed).fit(train[list(FEATURES)], train["churned"], train["cutoff"])
    return Predictor("churn", "churn_v1", DESCRIPTIONS, churn=model)


def fit_satisfaction() -> Predictor:
    answers = satisfaction_frame(2000, seed=0)
    metrics = {
        m: MetricModel(DEFAULT_METRICS[m]).fit(rows[list(FEATURES)], rows["score"], rows["responded_at"])
        for m, rows in answers.groupby("metric")
    }
    return Predictor("satisfaction", "satisfaction_v1", DESCRIPTIONS, metrics=metrics)


@pytest.mark.parametrize("fit", [fit_churn, fit_satisfaction])
def test_a_saved_predictor_loads_back_with_identical_outputs(fit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    predictor = fit()
    rows = churn_frame(200, seed=5)[list(FEATURES)]
    loaded = Predictor.load(predictor.save(tmp_path / "predictor"))
    pd.testing.assert_frame_equal(predictor.predict(rows), loaded.predict(rows))
    assert loaded.feature_set == predictor.feature_set and loaded.features == FEATURES


def test_the_experience_model_is_saved_as_text_and_loads_back_with_identical_outputs(tmp_path: Path) -> None:
    # given a satisfaction predictor with an NPS model of the experiences alone (every feature but one)
    predictor = fit_satisfaction()
    answers = satisfaction_frame(2000, seed=0)
    nps = answers[answers["metric"] == "nps"]
    own = list(FEATURES[:-1])
    predictor.experience = NpsClassifier().fit(nps[own], nps["score"], nps["responded_at"])
    # and the same model on two halves of the answers
    halves = (nps.iloc[::2], nps.iloc[1::2])
    predictor.experience_halves = [NpsClassifier().fit(h[own], h["score"], h["responded_at"]) for h in halves]
    # when it is saved and loaded
    folder = predictor.save(tmp_path / "predictor")
    loaded = Predictor.load(folder)
    # then each is LightGBM text beside the others, and gives the same figures from the same rows
    for name in ("experience.classes.txt", "experience.half0.classes.txt", "experience.half1.classes.txt"):
        assert (folder / name).read_text().startswith("tree\n")
    rows = churn_frame(200, seed=5)[list(FEATURES)]
    for half in (None, 0, 1):
        before, after = predictor.experience_nps(rows, half), loaded.experience_nps(rows, half)
        assert before is not None and after is not None
        np.testing.assert_array_equal(before, after)
    assert loaded.experience is not None and loaded.experience.schema_.features == tuple(own)
    assert len(loaded.experience_halves) == 2


def test_a_saved_predictor_is_lightgbm_text_and_json_without_pickles(tmp_path: Path) -> None:
    folder = fit_satisfaction().save(tmp_path / "predictor")
    names = sorted(p.name for p in folder.iterdir())
    assert names == [
        "csat.negative.txt",
        "csat.score.txt",
        "manifest.json",
        "nps.classes.txt",
        "nps.negative.txt",
        "nps.score.txt",
    ]
    assert (folder / "nps.score.txt").read_text().startswith("tree\n")


def test_satisfaction_output_has_score_risk_classes_and_reasons_per_metric() -> None:
    out = fit_satisfaction().predict(churn_frame(50, seed=5)[list(FEATURES)])
    expected = {"csat_score", "csat_negative_probability", "csat_reasons", "nps_score"}
    assert expected | {"nps_detractor", "nps_passive", "nps_promoter", "nps_reasons"} <= set(out.columns)
    assert out["nps_score"].between(0, 10).all() and out["csat_score"].between(1, 5).all()


def test_a_missing_feature_column_is_named_in_the_error() -> None:
    with pytest.raises(KeyError, match="late_deliveries_30d"):
        fit_churn().predict(churn_frame(5, seed=5)[["tickets_90d", "tenure_days", "plan", "noise"]])


def test_the_same_seed_grows_the_same_trees() -> None:
    first, second = fit_churn(seed=7), fit_churn(seed=7)
    assert first.churn is not None and second.churn is not None
    assert first.churn.booster_.model_to_string() == second.churn.booster_.model_to_string()


@pytest.mark.parametrize("fit", [fit_churn, fit_satisfaction])
def test_boosters_read_encoded_rows_as_they_read_the_cast_frame(fit) -> None:  # type: ignore[no-untyped-def]
    predictor = fit()
    frame = churn_frame(100, seed=6)[list(FEATURES)]
    frame.loc[::7, "plan"] = None  # missing levels and numbers too
    frame.loc[::5, "tickets_90d"] = np.nan
    records = [dict(row) for row in frame.astype(object).to_dict("records")]
    records[3]["plan"] = "platinum"  # a level never seen in training is missing, as in `prepare`
    frame.loc[3, "plan"] = None
    schema = predictor._schema
    encoded = predictor.encode(records)
    np.testing.assert_array_equal(encoded.matrix, predictor.encode(frame).matrix)
    boosters = [predictor.churn] if predictor.churn else [m.negative_ for m in predictor.metrics.values()]
    for model in boosters:
        assert model is not None
        via_pandas = model.booster_.predict(schema.prepare(frame), pred_contrib=True)
        np.testing.assert_allclose(model.contribution_matrix(encoded), via_pandas, rtol=0, atol=1e-12)


def test_predicting_plain_rows_gives_what_predicting_their_frame_gives() -> None:
    predictor = fit_satisfaction()
    frame = churn_frame(20, seed=7)[list(FEATURES)]
    outputs = predictor.outputs(predictor.encode(frame.astype(object).to_dict("records")))
    expected = predictor.predict(frame)
    np.testing.assert_allclose(outputs["nps_score"], expected["nps_score"])
    assert [[r.to_dict() for r in rs] for rs in outputs["csat_reasons"]] == [
        json.loads(text) for text in expected["csat_reasons"]
    ]


@pytest.mark.parametrize("rows", [1, 5, 600])  # a few cells read one by one; a batch past the lookup's
def test_predict_gives_lightgbms_probabilities_and_treeshaps_strongest_reasons(rows: int) -> None:
    predictor = fit_churn()
    assert predictor.churn is not None
    frame = churn_frame(600, seed=8)[list(FEATURES)].head(rows)
    frame.index = frame.index + 100  # a caller's own index is kept
    frame.loc[frame.index[::3], "plan"] = None
    frame.loc[frame.index[::4], "tickets_90d"] = np.nan
    out = predictor.predict(frame)
    model = predictor.churn
    raw = model.booster_.predict(model.schema_.prepare(frame), raw_score=True)
    np.testing.assert_allclose(out["churn_probability"], model.calibrator_.predict(raw), rtol=0, atol=1e-12)
    reference = predictor.explain(frame)  # LightGBM's pred_contrib, sorted per row
    got = [json.loads(text) for text in out["churn_reasons"]]
    assert [[r.to_dict() | {"log_odds": None} for r in rs] for rs in reference] == [
        [r | {"log_odds": None} for r in rs] for rs in got
    ]  # the same features, sentences and values, in the same order
    pushes = [r["log_odds"] for rs in got for r in rs]
    np.testing.assert_allclose(pushes, [r.log_odds for rs in reference for r in rs], rtol=0, atol=1e-12)
    assert out.index.equals(frame.index)


def test_a_row_alone_gets_the_scores_and_reasons_it_gets_in_a_batch() -> None:
    predictor = fit_satisfaction()
    frame = churn_frame(40, seed=9)[list(FEATURES)]
    batch = predictor.predict(frame)
    for i in (0, 17, 39):  # a few rows write their reasons one by one, a batch through Arrow
        alone = predictor.predict(frame.iloc[[i]])
        for column in batch.columns:
            if column.endswith("_reasons"):
                assert json.loads(alone[column].iloc[0]) == json.loads(batch[column].iloc[i])
            else:
                assert alone[column].iloc[0] == pytest.approx(batch[column].iloc[i], abs=1e-12)


def test_a_batch_scored_on_threads_equals_it_scored_metric_after_metric(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    predictor = fit_satisfaction()
    frame = churn_frame(PARALLEL_ROWS, seed=10)[list(FEATURES)]
    threaded = predictor.predict(frame)
    monkeypatch.setattr("models.predictor.PARALLEL_ROWS", len(frame) + 1)
    pd.testing.assert_frame_equal(threaded, predictor.predict(frame), check_exact=True)


@pytest.mark.parametrize("fit", [fit_churn, fit_satisfaction])
def test_scores_without_reasons_are_the_scores_with_reasons(fit) -> None:  # type: ignore[no-untyped-def]
    predictor = fit()
    frame = churn_frame(PARALLEL_ROWS, seed=11)[list(FEATURES)]  # a batch scored on threads
    frame.loc[frame.index[::5], "tickets_90d"] = np.nan
    full = predictor.predict(frame)
    plain = predictor.predict(frame, reasons=False)
    assert not [c for c in plain.columns if c.endswith("_reasons")]
    pd.testing.assert_frame_equal(plain, full.drop(columns=[c for c in full if c.endswith("_reasons")]))
