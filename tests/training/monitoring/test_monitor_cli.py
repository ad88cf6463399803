"""`cxpredict monitor` on a trained company: untouched, with deliveries turned late, and broken."""

from __future__ import annotations

import dataclasses
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from typer.testing import CliRunner, Result

from features.discover import build_catalogue
from features.engine import compute_features
from features.validation import load_workspace
from models.mlflow_config import MlflowConfig, activate
from pipelines.cli import app
from pipelines.synthetic.company import generate_company
from serving.scorer import load_champions
from serving.shadow import Shadow
from serving.state import open_database
from tests.serving.workspace import FAST
from tests.training.conftest import temporary_mlflow
from training.fitting import FitOptions, fit_churn
from training.monitoring.shadow import NO_CHALLENGER
from training.pipeline import HoldoutSpec
from training.tracking import log_predictor
from training.workspace import prepared, train_supported

pytestmark = pytest.mark.slow
runner = CliRunner()
LATE_FROM = pd.Timestamp("2026-03-01", tz="UTC")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A company of 500 customers and an MLflow store where its champions were trained (fast trees)."""
    root = tmp_path_factory.mktemp("monitor")
    company, mlflow_config = root / "company", temporary_mlflow(root)
    generate_company(company, customers=500, seed=6)
    loaded = load_workspace(company)
    metrics, skipped = train_supported(
        loaded.tables, loaded.config, mlflow_config, HoldoutSpec(), FitOptions(params=FAST)
    )
    assert set(metrics) == {"churn", "satisfaction"}, skipped
    return company, {"MLFLOW_TRACKING_URI": mlflow_config.tracking_uri}


def _copy(company: Path, folder: Path) -> Path:
    shutil.copytree(company, folder, ignore=shutil.ignore_patterns("_truth"))
    return folder


def make_deliveries_late(workspace: Path, start: pd.Timestamp, seed: int = 0) -> None:
    """Every delivery ordered from `start` on arrives 4 to 12 days after its promise (never past the data's end)."""
    path = workspace / "deliveries.parquet"
    deliveries = pd.read_parquet(path)
    end = deliveries[["ordered_at", "promised_at", "delivered_at"]].max().max()
    shifted = (deliveries["ordered_at"] >= start) & deliveries["delivered_at"].notna()
    days = np.random.default_rng(seed).integers(4, 13, int(shifted.sum()))
    late = deliveries.loc[shifted, "promised_at"] + pd.to_timedelta(days, unit="D")
    deliveries.loc[shifted, "delivered_at"] = late.clip(upper=end)
    deliveries.to_parquet(path, index=False)


def test_an_untouched_company_is_ok_and_exits_0(trained: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    company, env = trained
    out = tmp_path / "monitor.json"
    result = runner.invoke(app, ["monitor", str(company), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "ok:" in result.output
    assert NO_CHALLENGER in [line.strip() for line in result.output.splitlines()]
    report = json.loads(out.read_text())
    assert report["verdict"] == "ok"
    assert {m["name"] for m in report["models"]} == {"cx-churn", "cx-satisfaction"}
    churn = next(m for m in report["models"] if m["name"] == "cx-churn")
    assert 0.5 < churn["performance"]["churn"]["estimated_auc"] < 1
    client = MlflowClient(env["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("cxpredict")
    assert experiment is not None
    query = f"tags.`monitor.model` = 'cx-churn' and tags.`monitor.version` = '{churn['version']}'"
    logged = client.search_runs([experiment.experiment_id], f"{query} and tags.`monitor.verdict` = 'ok'")
    assert logged and logged[0].data.tags["monitor.model_run_id"] == churn["run_id"]
    assert logged[0].data.metrics["churn.estimated_auc"] == pytest.approx(
        churn["performance"]["churn"]["estimated_auc"]
    )


@pytest.fixture(scope="module")
def late_run(
    trained: tuple[Path, dict[str, str]], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Result, Path]:
    """`monitor --out` once on a copy whose deliveries turn late after `LATE_FROM`: its output and JSON file."""
    company, env = trained
    root = tmp_path_factory.mktemp("late")
    late = _copy(company, root / "late")
    make_deliveries_late(late, LATE_FROM)
    out = root / "monitor.json"
    result = runner.invoke(app, ["monitor", str(late), "--out", str(out)], env={**env, "COLUMNS": "250"})
    return result, out


def test_deliveries_late_after_a_date_recommend_a_retrain_naming_them(late_run: tuple[Result, Path]) -> None:
    result, out = late_run
    assert result.exit_code == 1, result.output
    verdict = result.output.splitlines()[-1]
    assert verdict.startswith("retrain recommended") and "deliveries_late" in verdict
    drifted = {
        d["feature"] for m in json.loads(out.read_text())["models"] for d in m["drift"] if d["drifted"]
    }
    assert any(name.startswith("deliveries_late_count") for name in drifted)
    assert not any(name.startswith(("tickets_", "calls_", "customer_")) for name in drifted)


def test_a_broken_table_is_broken_input_and_exits_2(
    trained: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    company, env = trained
    broken = _copy(company, tmp_path / "broken")
    (broken / "deliveries.parquet").unlink()
    (broken / "deliveries.csv").write_text(
        "customer_id,order_id,ordered_at,promised_at\nC0000001,O1,yesterday,2026-01-01\n", encoding="utf-8"
    )
    result = runner.invoke(app, ["monitor", str(broken)], env={**env, "COLUMNS": "250"})
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines()[-1].startswith("broken input: 1 problem(s)")
    assert "deliveries.csv, row 2, column ordered_at" in result.output


def test_a_table_the_champion_read_now_missing_is_broken_input(
    trained: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    company, env = trained
    lacking = _copy(company, tmp_path / "lacking")
    (lacking / "deliveries.parquet").unlink()
    result = runner.invoke(app, ["monitor", str(lacking)], env=env)
    assert result.exit_code == 2, result.output
    assert "broken input: cx-" in result.output and "no longer gives" in result.output


class _Page(HTMLParser):
    """The text of each element with an id, every table cell, and the SVG shapes."""

    def __init__(self) -> None:
        super().__init__()
        self.by_id: dict[str, str] = {}
        self.cells: list[str] = []
        self.bars, self.open, self._current = 0, [], None  # type: int, list[str], str | None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._current = dict(attrs).get("id") or ("td" if tag == "td" else None)
        self.bars += tag == "rect"
        self.open += [name for name, _ in attrs if name in ("src", "href")]

    def handle_data(self, data: str) -> None:
        if self._current == "td":
            self.cells.append(data.strip())
        elif self._current is not None:
            self.by_id[self._current] = self.by_id.get(self._current, "") + data
        self._current = None


def test_the_out_file_has_an_offline_html_page_with_the_verdict_drifted_features_and_cbpe(
    late_run: tuple[Result, Path],
) -> None:
    result, out = late_run
    assert result.exit_code == 1, result.output
    report, page = json.loads(out.read_text()), _Page()
    page.feed(out.with_suffix(".html").read_text(encoding="utf-8"))
    page.close()
    assert page.by_id["verdict"] == "retrain recommended" and page.by_id["reason"] == report["reason"]
    drifted = [d["feature"] for m in report["models"] for d in m["drift"] if d["drifted"]]
    assert drifted and set(drifted) <= set(page.cells)
    for model in report["models"]:
        for figures in model["performance"].values():
            assert f"{figures['estimated_auc']:.3f}" in page.cells
            assert figures["holdout_auc"] is None or f"{figures['holdout_auc']:.3f}" in page.cells
    assert page.bars >= len(report["models"]) and page.open == [], "charts inline, nothing fetched"


def add_themed_texts(workspace: Path, later: dict[str, int], seed: int = 0) -> None:
    """Negative texts over the whole history in a steady mix, then `later[theme]` in the month after it."""
    customers = pd.read_parquet(workspace / "customers.parquet")["customer_id"]
    answered = pd.read_parquet(workspace / "surveys.parquet")["responded_at"].max()
    end = max(answered, pd.read_parquet(workspace / "deliveries.parquet")["ordered_at"].max())
    rng = np.random.default_rng(seed)

    def texts(count: int, start: pd.Timestamp, days: float, theme: str) -> pd.DataFrame:
        at = start + pd.to_timedelta(rng.uniform(0, days, count), unit="D")
        ids = rng.choice(customers.to_numpy(), count)
        return pd.DataFrame({"customer_id": ids, "at": at, "source": "verbatims", "theme": theme})

    steady = [
        texts(n, end - pd.Timedelta(days=540), 540, t) for t, n in (("late parcel", 300), ("bill", 200))
    ]
    recent = [texts(n, end, 30, t) for t, n in later.items()]
    frame = pd.concat([*steady, *recent], ignore_index=True).assign(satisfaction=2.0, negative=0.9)
    frame.to_parquet(workspace / "text_scores.parquet", index=False)


@pytest.mark.parametrize(
    ("later", "drifted"),
    [({"late parcel": 60, "bill": 40}, False), ({"late parcel": 40, "bill": 30, "app crash": 80}, True)],
)
def test_a_new_text_theme_is_named_and_a_steady_mix_is_not(
    trained: tuple[Path, dict[str, str]], tmp_path: Path, later: dict[str, int], drifted: bool
) -> None:
    company, env = trained
    texts = _copy(company, tmp_path / "texts")
    add_themed_texts(texts, later)
    out = tmp_path / "monitor.json"
    result = runner.invoke(app, ["monitor", str(texts), "--out", str(out)], env={**env, "COLUMNS": "250"})
    assert result.exit_code in (0, 1), result.output
    themes = json.loads(out.read_text())["themes"]
    assert themes["drifted"] is drifted, themes
    if drifted:
        assert result.exit_code == 1 and themes["grown"][0] == "app crash (new)"
        assert "app crash (new)" in result.output.splitlines()[-1]


def shadow_a_challenger(workspace: Path, config: MlflowConfig, moment: pd.Timestamp) -> None:
    """Fit another churn model as @challenger and shadow it beside the champion at `moment`.

    Every customer's features at `moment` go through `serving.shadow.Shadow`, as they would have in a
    service that scored them then.
    """
    loaded = load_workspace(workspace)
    options = FitOptions(seed=7, params=dataclasses.replace(FAST, num_boost_round=30))
    churn_set, fit_options = prepared("churn", loaded.tables, loaded.config, options)
    predictor = fit_churn(churn_set, fit_options)
    activate(config)
    with mlflow.start_run():
        info = log_predictor(predictor, churn_set.X.head(5), config.model_name("churn"))
    MlflowClient(config.tracking_uri).set_registered_model_alias(
        "cx-churn", "challenger", str(info.registered_model_version)
    )
    keys = loaded.tables["customers"][["customer_id"]].assign(as_of=moment)
    rows = compute_features(loaded.tables, keys, build_catalogue(loaded.tables, loaded.config))
    shadow = Shadow(open_database(workspace))
    shadow.challengers = load_champions(config, loaded.config.churn.horizon_days, "challenger")
    micros = int(moment.timestamp() * 1e6)
    records = rows.drop(columns=["customer_id", "as_of"]).to_dict(orient="records")
    offered = [(str(cid), micros, r) for cid, r in zip(rows["customer_id"], records, strict=True)]
    shadow.offer(load_champions(config, loaded.config.churn.horizon_days), offered)
    shadow.start()
    shadow.stop(timeout_s=120)


def test_monitor_compares_a_challenger_in_shadow_with_the_churn_that_followed(
    trained: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    # given a workspace whose service shadowed a @challenger on every customer 120 days before the data's end
    company, env = trained
    workspace = _copy(company, tmp_path / "shadowed")
    shutil.copy(env["MLFLOW_TRACKING_URI"].removeprefix("sqlite:///"), tmp_path / "mlflow.db")
    config = temporary_mlflow(tmp_path)
    moment = pd.Timestamp(load_workspace(workspace).tables["churn"]["churned_at"].max()) - pd.Timedelta(
        days=120
    )
    shadow_a_challenger(workspace, config, moment)
    # when monitor runs
    out = tmp_path / "monitor.json"
    result = runner.invoke(
        app, ["monitor", str(workspace), "--out", str(out)], env={"MLFLOW_TRACKING_URI": config.tracking_uri}
    )
    assert result.exit_code in (0, 1), result.output
    # then it compares both on the same customers, with the AUC each reached on the churn since
    shadow = json.loads(out.read_text())["shadow"]
    (churn,) = shadow["comparisons"]
    assert (churn["model"], churn["output"], churn["champion_version"]) == (
        "cx-churn",
        "churn_probability",
        "1",
    )
    assert churn["rows"] == 500 and churn["labelled_rows"] > 400
    assert 0 < churn["mean_abs_diff"] <= churn["max_abs_diff"] and 0.5 < churn["rank_correlation"] <= 1
    assert 0.5 < churn["champion_auc"] < 1 and 0.5 < churn["challenger_auc"] < 1
    assert shadow["summary"] in result.output
    page = _Page()
    page.feed(out.with_suffix(".html").read_text(encoding="utf-8"))
    assert page.by_id["shadow"] == shadow["summary"] and f"{churn['challenger_auc']:.3f}" in page.cells
    # and the monitoring run of cx-churn carries the figures and the challenger's version
    client = MlflowClient(config.tracking_uri)
    experiment = client.get_experiment_by_name("cxpredict")
    assert experiment is not None
    run = client.search_runs(  # the newest: the registry was copied with the other tests' runs
        [experiment.experiment_id],
        "tags.`monitor.model` = 'cx-churn'",
        order_by=["attributes.start_time DESC"],
    )[0]
    assert run.data.tags["monitor.challenger_version"] == churn["challenger_version"]
    assert run.data.metrics["shadow.churn_probability.challenger_auc"] == pytest.approx(
        churn["challenger_auc"]
    )
