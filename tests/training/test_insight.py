"""Population estimates: respondents only, model-based and AIPW, on data with planted response bias."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer

from features.contract import DEFAULT_METRICS
from models.reasons import pick_strongest
from training.insight.drivers import drivers_of, joined_hits, picked_pushes, population_drivers, reason_pushes
from training.insight.estimates import aipw, estimate
from training.insight.population import Population, population_figures
from training.insight.propensity import (
    MedianImputer,
    design_matrix,
    fit_rows,
    propensity_model,
    response_propensity,
)
from training.insight.survey_plan import (
    PlanRules,
    draw_plan,
    inclusion_probabilities,
    uncertainty,
    under_sampled,
)


def biased_base(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Features, every customer's true answer, and who answered: the unhappy answer far more often."""
    rng = np.random.default_rng(seed)
    late = rng.poisson(1.0, n).astype(float)
    plan = rng.choice(["basic", "premium"], n)
    truth = 8.0 - 1.0 * late + 0.8 * (plan == "premium") + rng.normal(0, 1.0, n)
    answers_p = 1 / (1 + np.exp(-(-2.0 + 0.9 * late)))  # answering depends on what features see
    answered = rng.random(n) < answers_p
    return pd.DataFrame({"late": late, "plan": pd.Categorical(plan)}), truth, answered


def test_aipw_recovers_the_mean_that_respondents_and_a_biased_model_miss() -> None:
    features, truth, answered = biased_base(20_000, seed=1)
    model = truth.mean() + 0.0 * truth + 0.6  # a model biased by +0.6 that knows nothing
    answers = np.where(answered, truth, np.nan)
    propensity = response_propensity(features, ["late", "plan"], answered)
    result = estimate(model, model, answers, propensity)
    assert abs(result.respondents - truth.mean()) > 0.5
    assert abs(result.model - truth.mean()) == pytest.approx(0.6)
    assert result.corrected == pytest.approx(truth.mean(), abs=0.08)
    assert result.interval[0] < truth.mean() < result.interval[1]
    assert result.n_respondents == answered.sum()


def test_an_answer_that_reads_a_passing_dip_carries_only_the_models_own_error_to_the_base() -> None:
    # after a ticket customers answer more, and lower for a while; by the window's end the dip is gone
    rng = np.random.default_rng(5)
    n = 20_000
    truth = rng.normal(7.0, 1.0, n)  # each customer's answer had they been asked at the end
    ticket = rng.random(n) < 0.3
    propensity = np.where(ticket, 0.6, 0.1)
    answered = rng.random(n) < propensity
    dip = np.where(ticket, -1.5, 0.0)
    answers = np.where(answered, truth + dip + rng.normal(0.0, 0.5, n), np.nan)
    now = truth + 0.4 + rng.normal(0.0, 0.5, n)  # the model is 0.4 too kind to everyone
    at_answer = now + dip  # ... and at the answer's moment it sees the ticket, as it was trained to
    corrected = estimate(now, at_answer, answers, propensity)
    naive = estimate(now, now, answers, propensity)  # as if the answer read the customer at the end
    assert corrected.corrected == pytest.approx(truth.mean(), abs=0.05)
    assert corrected.interval[0] < truth.mean() < corrected.interval[1]
    assert naive.corrected < truth.mean() - 0.3  # the dip, read as lasting


def test_one_design_matrix_serves_every_fit_as_the_whole_pipeline_would() -> None:
    # the report encodes the features once for all metrics: each fit must equal the pipeline's own
    features, _, answered = biased_base(3_000, seed=4)
    features.loc[::7, "late"] = np.nan
    design = design_matrix(features, ["late", "plan"])
    for who in (answered, ~answered):
        shared = response_propensity(features, ["late", "plan"], who, design=design)
        pipeline = propensity_model(features, ["late", "plan"]).fit(features, who)
        expected = np.clip(pipeline.predict_proba(features)[:, 1], 0.02, 1.0)
        np.testing.assert_allclose(shared, expected, rtol=0, atol=1e-12)


def test_the_median_imputer_fills_as_scikit_learns_does_an_empty_column_with_zero() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=(2_001, 6))
    values[rng.random(values.shape) < 0.3] = np.nan
    values[:, 4] = np.nan
    ours = MedianImputer().fit(values[:1_000]).transform(values)
    theirs = SimpleImputer(strategy="median", keep_empty_features=True).fit(values[:1_000]).transform(values)
    np.testing.assert_array_equal(ours, theirs)
    assert not np.isnan(ours).any() and (ours[:, 4] == 0).all()


def test_the_95_interval_covers_the_truth_about_95_times_in_200() -> None:
    covered = []
    for seed in range(200):
        features, truth, answered = biased_base(2_000, seed)
        propensity = 1 / (1 + np.exp(-(-2.0 + 0.9 * features["late"].to_numpy())))  # the planted one
        model = np.full(len(truth), 7.0)
        result = estimate(model, model, np.where(answered, truth, np.nan), propensity)
        lo, hi = result.interval
        covered.append(lo <= truth.mean() <= hi)
    assert 0.91 <= np.mean(covered) <= 0.98


def test_with_a_perfect_model_the_correction_adds_nothing() -> None:
    truth = np.linspace(0, 10, 101)
    answers = np.where(np.arange(101) % 3 == 0, truth, np.nan)
    value, se = aipw(truth, truth, answers, np.full(101, 0.3))
    assert value == pytest.approx(truth.mean())
    assert se == pytest.approx(truth.std(ddof=1) / np.sqrt(101))


def test_propensities_are_clipped_away_from_zero() -> None:
    features = pd.DataFrame({"x": np.r_[np.zeros(500), np.ones(500)]})
    answered = np.r_[np.zeros(500, bool), np.arange(500) % 2 == 0]
    propensity = response_propensity(features, ["x"], answered, clip=0.05)
    assert propensity.min() == pytest.approx(0.05)
    assert propensity[500:].mean() == pytest.approx(0.5, abs=0.05)


def small_population(seed: int = 0, n: int = 3000) -> Population:
    rng = np.random.default_rng(seed)
    ids = pd.Series([f"C{i}" for i in range(n)])
    segment = rng.choice(["consumer", "smb"], n)
    p_promoter = np.where(segment == "smb", 0.5, 0.3)
    p_detractor = np.full(n, 0.2)
    scores = pd.DataFrame(
        {
            "nps_promoter": p_promoter,
            "nps_detractor": p_detractor,
            "nps_score": 7.5,
            "nps_negative_probability": p_detractor,
        }
    )
    u = rng.random(n)
    answer = np.where(u < p_detractor, 3.0, np.where(u < p_detractor + p_promoter, 10.0, 8.0))
    asked = rng.random(n) < 0.4
    answers = pd.DataFrame({"customer_id": ids[asked], "metric": "nps", "score": answer[asked]})
    answers = pd.concat([answers.reset_index(drop=True), scores[asked].reset_index(drop=True)], axis=1)
    features = pd.DataFrame({"tenure": rng.normal(0, 1, n)})
    groups = pd.DataFrame({"segment": segment})
    return Population(ids, scores, features, ["tenure"], answers, groups)


def test_population_figures_give_every_figure_whole_and_per_segment_with_assumptions() -> None:
    summary = population_figures(small_population(), DEFAULT_METRICS)
    nps = summary["nps"]
    assert set(nps) >= {"respondents", "n_respondents", "model", "corrected", "interval"}
    assert nps["model"] == pytest.approx(20.0, abs=1.5)  # half consumer (+10), half smb (+30)
    assert nps["interval"][0] < nps["corrected"] < nps["interval"][1]
    assert {"nps_mean", "nps_negative_share"} <= set(summary)
    rows = {row["level"]: row for row in summary["by"]["segment"]}
    assert set(rows) == {"consumer", "smb"}
    assert rows["smb"]["nps"]["model"] == pytest.approx(30.0)
    assert rows["consumer"]["customers"] + rows["smb"]["customers"] == 3000
    assert "window" in summary["assumptions"]["corrected"]
    assert summary["response"]["nps"]["rate"] == pytest.approx(0.4, abs=0.03)


def test_a_metric_nobody_answered_gives_no_figure() -> None:
    population = small_population()
    population = Population(
        population.customer_id,
        population.current,
        population.features,
        ["tenure"],
        population.answers.iloc[0:0],
        population.groups,
    )
    summary = population_figures(population, DEFAULT_METRICS)
    assert "nps" not in summary


def test_drivers_rank_by_push_per_customer_of_the_base_and_say_whom_they_reach() -> None:
    late = {"feature": "late_deliveries", "sentence": "", "value": 2, "log_odds": 0.3}
    lost = {"feature": "lost_orders", "sentence": "", "value": 1, "log_odds": 1.2}
    helps = {"feature": "tenure_days", "sentence": "", "value": 900, "log_odds": -0.5}
    cells = [json.dumps([late, helps])] * 8 + [json.dumps([lost])] * 1 + [json.dumps([])]
    groups = pd.DataFrame({"segment": ["consumer"] * 5 + ["smb"] * 5})
    rows = population_drivers(pd.Series(cells), groups, "nps")
    assert [r["feature"] for r in rows] == ["late_deliveries", "lost_orders"]  # 8 × 0.3 beats 1 × 1.2
    first = rows[0]
    assert first["customers"] == 8 and first["push_per_customer"] == pytest.approx(0.24)
    assert first["share_by"]["segment"] == {"consumer": 1.0, "smb": 0.6}
    assert rows[1]["share_by"]["segment"] == {"consumer": 0.0, "smb": 0.2}


def test_a_driver_sums_its_windows_per_customer_and_past_answers_and_attributes_are_not_drivers() -> None:
    def reason(feature: str, push: float) -> dict[str, object]:
        return {"feature": feature, "sentence": "", "value": 1, "log_odds": push}

    late = [reason("deliveries_days_late_sum_30d", 0.2), reason("deliveries_days_late_sum_all", 0.3)]
    answered = reason("surveys_nps_score_mean_all", 2.0)
    young = reason("customer_age_band", 1.5)  # who the customer is: a segment, not a driver
    wait = reason("calls_wait_s_mean_90d", 0.4)
    cells = [json.dumps([*late, answered, young])] * 4 + [json.dumps([wait, answered])] * 4
    rows = population_drivers(pd.Series(cells), pd.DataFrame({"segment": ["a"] * 8}), "nps")
    assert [r["feature"] for r in rows] == ["deliveries_days_late_sum", "calls_wait_s_mean"]
    assert rows[0]["customers"] == 4 and rows[0]["mean_push"] == pytest.approx(0.5)


def test_inclusion_probabilities_sum_to_the_budget_keep_an_audit_floor_and_skip_the_ineligible() -> None:
    rng = np.random.default_rng(0)
    weights = rng.gamma(1.0, 1.0, 5000)
    eligible = rng.random(5000) < 0.9
    rules = PlanRules(budget=400, audit_share=0.3)
    pi = inclusion_probabilities(weights, eligible, rules)
    assert pi.sum() == pytest.approx(400, rel=1e-6)
    assert (pi[~eligible] == 0).all()
    assert pi[eligible].min() >= 0.3 * 400 / eligible.sum() - 1e-12  # everyone eligible may be audited
    assert pi[eligible][weights[eligible].argmax()] > pi[eligible][weights[eligible].argmin()]


def test_a_drawn_plan_weights_answers_back_to_the_base() -> None:
    rng = np.random.default_rng(1)
    n = 20_000
    weights = np.where(rng.random(n) < 0.2, 5.0, 0.5)  # a fifth of the base is favoured tenfold
    value = np.where(weights > 1, 1.0, 0.0)  # ... and differs: a plain mean of the plan is biased
    ids = pd.Series([f"C{i}" for i in range(n)])
    plan = draw_plan(ids, weights, np.ones(n, bool), PlanRules(budget=2000, per_day=300, seed=3))
    picked = value[plan["customer_id"].str[1:].astype(int)]
    assert len(plan) == pytest.approx(2000, rel=0.06)
    assert picked.mean() > 0.4  # far from the base's 0.2
    weighted = (picked * plan["weight"]).sum() / plan["weight"].sum()
    assert weighted == pytest.approx(value.mean(), abs=0.03)
    assert plan["day"].max() == (len(plan) - 1) // 300 and plan["day"].value_counts().max() <= 300
    assert set(plan["reason"]) == {"audit", "targeted"}


def test_uncertainty_is_highest_where_the_nps_classes_are_even() -> None:
    scores = pd.DataFrame(
        {
            "nps_detractor": [1 / 3, 0.9, 0.0],
            "nps_passive": [1 / 3, 0.05, 0.0],
            "nps_promoter": [1 / 3, 0.05, 1.0],
        }
    )
    u = uncertainty(scores)
    assert u[0] == pytest.approx(1.0) and u[2] == pytest.approx(0.0, abs=1e-6) and 0 < u[1] < 1


def test_an_under_answered_segment_weighs_more() -> None:
    groups = pd.Series(["a"] * 50 + ["b"] * 50)
    answered = np.r_[np.ones(50, bool), np.arange(50) < 10]  # b answers five times less
    factor = under_sampled(groups, answered)
    assert factor[0] < 1 < factor[-1]


def test_a_large_base_fits_on_a_seeded_sample_and_still_predicts_everyone() -> None:
    features, _, answered = biased_base(5_000, seed=5)
    design = design_matrix(features, ["late", "plan"])
    assert len(fit_rows(answered)) == len(answered)  # up to FIT_ROWS: every row, as before
    sample = fit_rows(answered, most=2_000)
    assert len(sample) == len(np.unique(sample)) == 2_000
    np.testing.assert_array_equal(sample, fit_rows(answered, most=2_000))
    full = response_propensity(features, ["late", "plan"], answered, design=design)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("training.insight.propensity.FIT_ROWS", 2_000)
        sampled = response_propensity(features, ["late", "plan"], answered, design=design)
    assert len(sampled) == len(answered)
    assert not np.array_equal(sampled, full)
    assert np.abs(sampled - full).max() < 0.05  # the same model, pinned a little less tightly


def test_drivers_from_numeric_picks_equal_those_read_back_from_the_json_reasons() -> None:
    # the report sums the picks as numbers; `cxpredict score` writes them as JSON: same drivers, same bits
    features = ["deliveries_days_late_sum_30d", "deliveries_days_late_sum_all", "surveys_nps_score_mean_all"]
    features += ["calls_wait_s_mean_90d", "tenure_days", "theme_billing_count_90d", "deliveries_status_last"]
    rng = np.random.default_rng(3)
    pushes = rng.normal(0, 0.4, (500, len(features))) * (rng.random((500, len(features))) < 0.6)
    status = rng.choice(np.array(["damaged", "lost", None], dtype=object), 500)  # a category, some missing
    picks = pick_strongest(pushes, np.arange(len(features)), top=3)
    cells = [
        json.dumps(
            [
                {"feature": features[c], "value": status[row] if c == 6 else 1.0, "log_odds": p}
                for c, p in zip(cs, ps, strict=True)
                if c >= 0
            ]
        )
        for row, (cs, ps) in enumerate(zip(picks.columns.tolist(), picks.pushes.tolist(), strict=True))
    ]
    groups = pd.DataFrame({"segment": rng.choice(["a", "b", "c"], 500)})
    from_json = reason_pushes(cells)
    chunks = [
        (
            picked_pushes(
                picks.columns[a : a + 70], picks.pushes[a : a + 70], features, {6: status[a : a + 70]}
            ),
            a,
        )
        for a in range(0, 500, 70)
    ]
    from_picks = joined_hits(chunks)
    assert list(from_picks) == list(from_json) and "deliveries_days_late_sum" in from_picks
    # each level of the category is a driver of its own; a missing level reads as the family
    assert {"deliveries_status_last=damaged", "deliveries_status_last=lost", "deliveries_status_last"} <= set(
        from_picks
    )
    for family, (rows, sums) in from_json.items():
        np.testing.assert_array_equal(from_picks[family][0], rows)
        np.testing.assert_array_equal(from_picks[family][1], sums)  # bit for bit: same additions in order
    assert drivers_of(from_picks, 500, groups, "nps", 100) == population_drivers(
        pd.Series(cells), groups, "nps", 100
    )


def test_picks_that_are_all_past_answers_or_attributes_give_no_driver() -> None:
    features = ["surveys_nps_score_mean_all", "customer_age_band"]
    columns = np.array([[0, 1], [1, -1]], dtype=np.intp)
    pushes = np.array([[0.8, 0.3], [0.5, 0.0]])
    assert picked_pushes(columns, pushes, features) == {}
