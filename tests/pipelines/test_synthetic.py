"""The synthetic company: contract conformity, determinism, realism figures and safe writing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sklearn.metrics import roc_auc_score

from features.contract import DEFAULT_METRICS, DERIVED_TABLES, TABLES, nps_class
from features.validation import validate_workspace
from pipelines.synthetic import generate_company
from pipelines.synthetic import world as world_module
from pipelines.synthetic.customers import draw_customers
from pipelines.synthetic.params import DRIVERS
from pipelines.synthetic.simulate import simulate
from pipelines.synthetic.surveys import read_scores
from pipelines.synthetic.timegrid import build_grid
from pipelines.synthetic.world import World

END = dt.date(2025, 12, 31)
END_TS = pd.Timestamp(END, tz="UTC")
GENERATED = {name: spec for name, spec in TABLES.items() if name not in DERIVED_TABLES}  # no text scores
EVENT_TABLES = [name for name, spec in GENERATED.items() if spec.time_column and name != "churn"]


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    workspace = tmp_path_factory.mktemp("company")
    truth = generate_company(workspace, customers=2500, seed=7, end=END, months=18)
    return workspace, truth


@pytest.fixture(scope="module")
def tables(company: tuple[Path, dict[str, Any]]) -> dict[str, pd.DataFrame]:
    workspace, _ = company
    return {name: pd.read_parquet(workspace / f"{name}.parquet") for name in GENERATED}


def read_truth(workspace: Path, name: str) -> pd.DataFrame:
    return pd.read_parquet(workspace / "_truth" / f"{name}.parquet")


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if 2 * d > 9 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


# --- determinism -------------------------------------------------------------------------------


def test_the_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    generate_company(tmp_path / "a", customers=400, seed=3, end=END, months=6)
    generate_company(tmp_path / "b", customers=400, seed=3, end=END, months=6)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")


def test_another_seed_writes_different_tables(tmp_path: Path) -> None:
    generate_company(tmp_path / "a", customers=400, seed=3, end=END, months=6)
    generate_company(tmp_path / "b", customers=400, seed=4, end=END, months=6)
    first, second = digests(tmp_path / "a"), digests(tmp_path / "b")
    assert all(first[f"{name}.parquet"] != second[f"{name}.parquet"] for name in GENERATED)


# --- the contract ------------------------------------------------------------------------------


def test_the_workspace_passes_the_contracts_validation(company: tuple[Path, dict[str, Any]]) -> None:
    workspace, _ = company
    report = validate_workspace(workspace)
    assert report.ok, report.problems[:5]
    assert set(report.tables) == set(GENERATED)


def test_every_table_has_its_required_columns(tables: dict[str, pd.DataFrame]) -> None:
    for name, spec in GENERATED.items():
        assert set(spec.required) <= set(tables[name].columns), name
        assert len(tables[name]) > 0, name


def test_keys_are_unique_and_customer_ids_follow_the_pattern(tables: dict[str, pd.DataFrame]) -> None:
    for name, spec in GENERATED.items():
        if spec.key:
            assert tables[name][spec.key].is_unique, name
    assert tables["customers"]["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert tables["deliveries"]["order_id"].str.fullmatch(r"ORD-\d{8}").all()


def test_every_event_belongs_to_a_known_customer(tables: dict[str, pd.DataFrame]) -> None:
    known = set(tables["customers"]["customer_id"])
    for name in [*EVENT_TABLES, "churn"]:
        assert set(tables[name]["customer_id"]) <= known, name


def test_scores_lie_inside_their_metric_scales(tables: dict[str, pd.DataFrame]) -> None:
    surveys = tables["surveys"]
    assert set(surveys["metric"]) == {"nps", "csat", "ces"}
    for metric, scores in surveys.groupby("metric")["score"]:
        scale = DEFAULT_METRICS[str(metric)]
        assert scores.between(scale.low, scale.high).all(), metric
        assert (scores == scores.round()).all(), metric


def test_timestamps_are_utc_aware_and_none_lies_after_the_end(company: tuple[Path, dict[str, Any]]) -> None:
    workspace, _ = company
    for name, spec in GENERATED.items():
        table = pq.read_table(workspace / f"{name}.parquet")
        for column in (
            c.name for c in spec.columns if c.kind == "timestamp" and c.name in table.column_names
        ):
            assert table.schema.field(column).type == pa.timestamp("us", tz="UTC"), (name, column)
            values = table.column(column).to_pandas()
            assert (values.dropna() < END_TS).all(), (name, column)


def test_later_timestamps_never_precede_earlier_ones(tables: dict[str, pd.DataFrame]) -> None:
    for name, spec in GENERATED.items():
        for later, earlier in spec.later_than:
            frame = tables[name].dropna(subset=[later])
            assert (frame[later] >= frame[earlier]).all(), (name, later)


def test_a_few_recent_orders_are_not_delivered_yet_and_some_parcels_are_lost(
    tables: dict[str, pd.DataFrame],
) -> None:
    deliveries = tables["deliveries"]
    undelivered = deliveries[deliveries["delivered_at"].isna()]
    assert 0 < len(undelivered) / len(deliveries) < 0.03
    assert {"lost", "in_transit"} <= set(undelivered["status"])
    assert deliveries.groupby("carrier")["status"].apply(lambda s: (s == "lost").mean()).nunique() > 1


def test_churned_customers_churn_once_and_have_no_later_events(tables: dict[str, pd.DataFrame]) -> None:
    churn = tables["churn"].set_index("customer_id")["churned_at"]
    assert churn.index.is_unique
    for name in EVENT_TABLES:
        time = GENERATED[name].time_column
        frame = tables[name].join(churn, on="customer_id", how="inner")
        assert (frame[time] <= frame["churned_at"]).all(), name


# --- realism against the ground truth ----------------------------------------------------------


def test_response_rates_per_metric_lie_between_8_and_35_percent(company: tuple[Path, dict[str, Any]]) -> None:
    _, truth = company
    assert set(truth["response_rates"]) == {"nps", "csat", "ces"}
    for metric, rate in truth["response_rates"].items():
        assert 0.08 <= rate <= 0.35, metric


def test_older_customers_answer_more_readily_and_are_happier(company: tuple[Path, dict[str, Any]]) -> None:
    # the part of the response bias a propensity model can see: the customers table shows the age band
    workspace, _ = company
    customers = pd.read_parquet(workspace / "customers.parquet").set_index("customer_id")
    answers = pd.read_parquet(workspace / "surveys.parquet")["customer_id"].value_counts()
    per_customer = answers.reindex(customers.index, fill_value=0).groupby(customers["age_band"]).mean()
    assert per_customer["65+"] > 2.5 * per_customer["18-24"]
    readiness = json.loads((workspace / "_truth" / "summary.json").read_text())["response_bias"]
    assert readiness["readiness_by_age_band"]["65+"] > readiness["readiness_by_age_band"]["18-24"]
    baseline = read_truth(workspace, "customers").set_index("customer_id")["baseline"]
    by_age = baseline.groupby(customers["age_band"]).mean()
    assert by_age["65+"] > by_age["18-24"] + 1.0


def test_the_very_unhappy_and_very_happy_answer_more_often(company: tuple[Path, dict[str, Any]]) -> None:
    workspace, _ = company
    base = read_truth(workspace, "latent")["latent"]
    respondents = read_truth(workspace, "surveys")["latent"]

    def extreme(latent: pd.Series) -> float:
        return float(((latent < 5.5) | (latent > 9.0)).mean())

    assert extreme(respondents) > 1.2 * extreme(base)


def test_the_oracle_auc_for_detractors_is_realistic_and_reproducible(
    company: tuple[Path, dict[str, Any]],
) -> None:
    workspace, truth = company
    nps = pd.read_parquet(workspace / "surveys.parquet").query("metric == 'nps'")
    answers = nps.merge(read_truth(workspace, "surveys"), on="response_id")
    auc = roc_auc_score(answers["score"] <= 6, -answers["latent"])
    assert 0.80 <= auc <= 0.92
    assert auc == pytest.approx(truth["oracle_auc_detractor"], abs=1e-9)
    assert 0.70 <= truth["oracle_auc_churn"] <= 0.90


def test_true_nps_is_the_latent_truth_at_the_end_and_differs_from_the_surveyed(
    company: tuple[Path, dict[str, Any]],
) -> None:
    workspace, truth = company
    latent = read_truth(workspace, "latent")
    last = latent[latent["period_end"] == latent["period_end"].max()]
    classes = last["latent"].round().clip(0, 10).map(nps_class)
    assert (classes == last["nps_class"]).all()
    expected = 100 * ((classes == "promoter").mean() - (classes == "detractor").mean())
    assert truth["nps_true"] == pytest.approx(expected, abs=1e-6)
    assert truth["nps_surveyed"] != pytest.approx(truth["nps_true"], abs=0.5)


def test_summary_counts_rows_and_names_the_drivers(company: tuple[Path, dict[str, Any]]) -> None:
    workspace, truth = company
    on_disk = json.loads((workspace / "_truth" / "summary.json").read_text())
    assert on_disk["rows"] == truth["rows"]
    assert truth["rows"]["deliveries"] == len(pd.read_parquet(workspace / "deliveries.parquet"))
    effects = truth["drivers"]["effects"]
    assert effects["lost_order"]["mean_effect"] < effects["late_delivery"]["mean_effect"] < 0
    assert effects["on_time_delivery"]["mean_effect"] > 0
    # what is left at the end: a hurt taken out raises NPS and lowers churners; a help the other way
    late, on_time = effects["late_delivery"], effects["on_time_delivery"]
    assert late["latent_now"] < 0 and late["nps_if_removed"] > 0 and late["churners_if_removed"] < 0
    assert on_time["latent_now"] > 0 and on_time["nps_if_removed"] < 0 and on_time["churners_if_removed"] > 0


def test_what_is_left_of_every_experience_adds_up_to_the_latent_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # without the drift's noise, the latent at the end is the baseline, the start's own offset as far
    # as it has not recovered, and what is left of each experience: nothing else moves it
    monkeypatch.setattr(world_module, "DRIVERS", dataclasses.replace(DRIVERS, drift_sd=0.0))
    grid = build_grid(END, 12)
    rng = np.random.default_rng(5)
    world = World.start(rng, grid, draw_customers(rng, 1500, grid))
    offset = world.latent.astype(float) - world.customers.baseline
    simulate(world, lambda _: None)
    last = grid.steps - 1
    parts = sum(world.tally.remaining(name, last) for name in world.tally.lasting)
    expected = world.customers.baseline + offset * (1 - DRIVERS.recovery) ** (last + 1) + parts
    assert len(world.tally.lasting) >= 10
    np.testing.assert_allclose(world.latent, expected, atol=2e-3)


def test_every_planted_pii_value_appears_literally_in_its_text(
    company: tuple[Path, dict[str, Any]], tables: dict[str, pd.DataFrame]
) -> None:
    workspace, _ = company
    pii = read_truth(workspace, "pii")
    assert {"name", "email", "phone", "card", "order"} <= set(pii["pii_type"])
    texts = {
        "calls": tables["calls"].set_index("call_id")["transcript"],
        "tickets": tables["tickets"].set_index("ticket_id")["text"],
        "verbatims": tables["verbatims"].set_index("verbatim_id")["text"],
    }
    for table, rows in pii.groupby("table"):
        text = texts[str(table)].loc[rows["key"]].to_numpy()
        assert all(value in body for value, body in zip(rows["value"], text, strict=True)), table
    assert all(luhn_valid(card) for card in pii.loc[pii["pii_type"] == "card", "value"])


def test_negative_texts_carry_a_planted_theme_and_tone_follows_latent(
    company: tuple[Path, dict[str, Any]],
) -> None:
    workspace, _ = company
    texts = read_truth(workspace, "texts")
    verbatims = texts[texts["table"] == "verbatims"]
    negative = verbatims[verbatims["tone"] == "negative"]
    assert negative["theme"].notna().all() and negative["theme"].nunique() >= 8
    assert verbatims.loc[verbatims["tone"] == "positive", "theme"].isna().all()
    assert negative["latent"].mean() < verbatims.loc[verbatims["tone"] == "positive", "latent"].mean() - 1
    assert 0.02 < (verbatims["language"] != "en").mean() < 0.12


# --- safe writing ------------------------------------------------------------------------------


def test_generating_over_existing_tables_raises_and_changes_nothing(
    company: tuple[Path, dict[str, Any]],
) -> None:
    workspace, _ = company
    before = digests(workspace)
    with pytest.raises(ValueError, match="already holds tables"):
        generate_company(workspace, customers=200, seed=1)
    assert digests(workspace) == before


def test_a_failure_midway_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> pa.Table:
        raise RuntimeError("disk full")

    monkeypatch.setattr("pipelines.synthetic.company.build_churn", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_company(tmp_path, customers=200, seed=1, end=END, months=3)
    assert list(tmp_path.iterdir()) == []


def test_csv_workspaces_hold_iso_utc_timestamps_and_validate(tmp_path: Path) -> None:
    generate_company(tmp_path, customers=300, seed=2, fmt="csv", end=END, months=4)
    deliveries = pd.read_csv(tmp_path / "deliveries.csv", dtype=str)
    assert deliveries["ordered_at"].str.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").all()
    calls = pd.read_csv(tmp_path / "calls.csv", dtype=str)
    assert calls["transcript"].str.contains("\nCustomer: ").all()
    assert validate_workspace(tmp_path).ok


def test_progress_names_each_step_as_it_starts(tmp_path: Path) -> None:
    steps: list[str] = []
    generate_company(tmp_path, customers=200, seed=1, end=END, months=3, progress=steps.append)
    named = [s for s in steps if not s.startswith("simulation")]
    assert named[0] == "customers" and named[-1] == "truth"
    assert {"deliveries", "tickets", "calls", "verbatims", "surveys", "churn"} <= set(named)


def test_too_few_customers_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 100"):
        generate_company(tmp_path, customers=10)
    assert list(tmp_path.iterdir()) == []


def test_population_truth_is_what_every_active_customer_would_answer_if_asked(
    company: tuple[Path, dict[str, Any]],
) -> None:
    workspace, truth = company
    hidden = read_truth(workspace, "customers")
    active = hidden[hidden["active_at_end"]]
    last = read_truth(workspace, "latent").pipe(lambda t: t[t["period_end"] == t["period_end"].max()])
    reading = active["customer_id"].map(last.set_index("customer_id")["latent"]) + active["rater_bias"]
    rng = np.random.default_rng(0)
    answers = [read_scores(rng, reading.to_numpy(dtype=float)) for _ in range(40)]  # every customer asked
    nps = np.concatenate([a["nps"] for a in answers])
    population = truth["population"]
    assert population["customers"] == len(active) == len(last)
    assert population["nps"] == pytest.approx(100 * ((nps >= 9).mean() - (nps <= 6).mean()), abs=0.6)
    csat = np.concatenate([a["csat"] for a in answers])
    assert population["csat_mean"] == pytest.approx(csat.mean(), abs=0.01)
    assert population["csat_negative_share"] == pytest.approx(100 * (csat <= 2).mean(), abs=0.4)
    # answer noise spreads passives to both sides: the answered NPS is not the latent classes' NPS
    assert abs(population["nps"] - truth["nps_true"]) > 1.0


def test_population_truth_per_segment_adds_up_to_the_whole_base(company: tuple[Path, dict[str, Any]]) -> None:
    _, truth = company
    population = truth["population"]
    for column in ("segment", "region"):
        rows = population["by"][column].values()
        assert sum(r["customers"] for r in rows) == population["customers"]
        weighted = sum(r["customers"] * r["nps"] for r in rows) / population["customers"]
        assert weighted == pytest.approx(population["nps"], abs=1e-9)


def test_the_replayed_what_if_with_half_the_late_deliveries_raises_nps_and_lowers_churners(
    tmp_path: Path,
) -> None:
    truth = generate_company(tmp_path, customers=1000, seed=3)["what_if"]["late_deliveries_halved"]
    assert truth["runs"] == 8
    assert truth["nps_change"] > 1.0 and truth["churners_change"] < 0
    assert truth["nps_after"] == pytest.approx(truth["nps"] + truth["nps_change"])
