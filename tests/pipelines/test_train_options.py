"""`cxpredict train` and `score` through the CLI with every documented option, on a small company.

Its surveys carry a custom metric declared in cx.yml, a `cxi_*` metric, and a metric too thin to
fit (CES: a few dozen answers); the workspace variants lack surveys or churn.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from features.config import load_config
from features.training_sets import CHURN_LABEL, CUTOFF, build_churn_set
from features.validation import load_workspace
from pipelines.cli import app
from pipelines.synthetic.company import generate_company
from training.pipeline import HoldoutSpec
from training.workspace import as_training_set

pytestmark = pytest.mark.slow
runner = CliRunner()
CUSTOMERS = 700
CX_YML = 'metrics:\n  effort5: {low: 1, high: 5, negative_min: 4, description: "effort, five-point scale"}\n'


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CUSTOMERS customers, enough for both churn outcomes in the calibration slice.

    Surveys carry 240 `cxi_easy` and 240 `effort5` answers more; CES is cut to 12 answers, too thin to fit.
    """
    folder = tmp_path_factory.mktemp("options") / "company"
    generate_company(folder, customers=CUSTOMERS, seed=4)
    surveys = pd.read_parquet(folder / "surveys.parquet")
    surveys = surveys[(surveys["metric"] != "ces") | (surveys.groupby("metric").cumcount() < 12)]
    rng = np.random.default_rng(4)
    extra = []
    for metric, high in (("cxi_easy", 10), ("effort5", 5)):
        picked = surveys.sample(240, replace=True, random_state=int(rng.integers(1000)))
        extra.append(picked.assign(metric=metric, score=rng.integers(1, high + 1, len(picked)).astype(float)))
    pd.concat([surveys, *extra], ignore_index=True).to_parquet(folder / "surveys.parquet", index=False)
    (folder / "cx.yml").write_text(CX_YML, encoding="utf-8")
    return folder


def _mlflow(tmp_path: Path) -> dict[str, str]:
    return {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db"}


def test_train_with_a_customer_holdout_one_cutoff_a_horizon_and_metrics_out_then_score(
    company: Path, tmp_path: Path
) -> None:
    metrics_out, scores_out = tmp_path / "metrics.json", tmp_path / "scores.parquet"
    command = ["train", str(company), "--holdout-customers", "0.3", "--seed", "1"]
    command += [
        "--churn-cutoffs",
        "2026-01-01",
        "--churn-horizon-days",
        "120",
        "--metrics-out",
        str(metrics_out),
    ]
    trained = runner.invoke(app, command, env=_mlflow(tmp_path))
    assert trained.exit_code == 0, trained.output
    metrics = json.loads(metrics_out.read_text())
    # the custom and cxi metrics are trained; CES, too thin (a few answers), is left out rather than zero
    trained_metrics = set(metrics["satisfaction"])
    assert {"nps", "cxi_easy", "effort5"} <= trained_metrics <= {"nps", "csat", "cxi_easy", "effort5"}
    for figures in metrics["satisfaction"].values():
        assert {
            "n_train",
            "n_test",
            "mae",
            "spearman",
            "auc_negative",
            "brier_negative",
            "ece_negative",
        } <= set(figures)
    # a customer holdout of 0.3 holds out about a third of the churn examples, all at the one cutoff
    churn = metrics["churn"]
    assert 0.2 < churn["n_test"] / (churn["n_train"] + churn["n_test"]) < 0.4
    assert churn["n_train"] + churn["n_test"] <= CUSTOMERS  # one cutoff: at most one example per customer
    scored = runner.invoke(app, ["score", str(company), "--out", str(scores_out)], env=_mlflow(tmp_path))
    assert scored.exit_code == 0, scored.output
    scores = pd.read_parquet(scores_out)
    assert len(scores) == CUSTOMERS
    assert any(c.startswith("effort5") for c in scores.columns) and not any(
        c.startswith("ces") for c in scores.columns
    )


CUTOFFS = ("2026-01-01", "2025-10-01")


def _logged_churn_digests(tracking_uri: str) -> tuple[str, str]:
    """The digests of the (train, holdout) examples the one churn run of a tracking store logged."""
    client = mlflow.MlflowClient(tracking_uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    (run,) = client.search_runs(experiments, "params.kind = 'churn'")
    return run.data.params["data.train.sha256"], run.data.params["data.holdout.sha256"]


def _churn_set(company: Path, horizon: int) -> tuple[pd.DataFrame, tuple[str, str]]:
    """The churn examples of `horizon` days at CUTOFFS, and the digests of their 0.3 customer holdout."""
    config = load_config(company).with_overrides(
        churn={"horizon_days": horizon, "cutoffs": tuple(pd.Timestamp(c).date() for c in CUTOFFS)}
    )
    ts = as_training_set(build_churn_set(load_workspace(company, config).tables, config))
    train, holdout = HoldoutSpec(customers=0.3).split(ts)
    return ts.frame[["customer_id", CUTOFF, CHURN_LABEL]], (train.digest(), holdout.digest())


def test_a_different_horizon_changes_the_churn_labels(company: Path, tmp_path: Path) -> None:
    # given the company without its surveys, so that train fits the churn model alone
    company = Path(
        shutil.copytree(company, tmp_path / "ws", ignore=shutil.ignore_patterns("surveys.*", "cx.yml"))
    )
    # and the churn dates, the labels each horizon must give: churned within it after the cutoff
    churned_at = pd.read_parquet(company / "churn.parquet").groupby("customer_id")["churned_at"].min()
    labels = {}
    for horizon in (180, 90):
        # when train runs with that horizon through the CLI
        out, uri = tmp_path / f"m{horizon}.json", f"sqlite:///{tmp_path}/mlflow{horizon}.db"
        command = ["train", str(company), "--holdout-customers", "0.3"]
        command += ["--churn-cutoffs", CUTOFFS[0], "--churn-cutoffs", CUTOFFS[1]]
        command += ["--churn-horizon-days", str(horizon), "--metrics-out", str(out)]
        result = runner.invoke(app, command, env={"MLFLOW_TRACKING_URI": uri})
        assert result.exit_code == 0, result.output
        # then it trained on exactly the examples of that horizon: the logged digests are theirs
        examples, digests = _churn_set(company, horizon)
        assert _logged_churn_digests(uri) == digests
        when = pd.to_datetime(examples["customer_id"].map(churned_at), utc=True)
        cutoff = pd.to_datetime(examples[CUTOFF], utc=True)
        within = (when > cutoff) & (when <= cutoff + pd.Timedelta(days=horizon))
        assert (examples[CHURN_LABEL].astype(bool) == within).all(), f"labels off the {horizon}-day horizon"
        labels[horizon] = examples.set_index(["customer_id", CUTOFF])[CHURN_LABEL]
    # two cutoffs: up to two examples per customer, the same examples under either horizon, and the
    # labels that change are exactly those of customers who churned 91 to 180 days after a cutoff
    assert len(labels[90]) > CUSTOMERS and labels[90].index.equals(labels[180].index)
    changed = labels[90] != labels[180]
    assert changed.sum() > 0 and (labels[180][changed] == 1).all()


@pytest.mark.parametrize(("table", "trained"), [("surveys", "churn"), ("churn", "satisfaction")])
def test_a_workspace_without_surveys_or_churn_trains_the_other_model_and_says_so(
    company: Path, tmp_path: Path, table: str, trained: str
) -> None:
    workspace = Path(shutil.copytree(company, tmp_path / "ws"))
    (workspace / f"{table}.parquet").unlink()
    if table == "surveys":
        (workspace / "cx.yml").unlink()
    out = tmp_path / "metrics.json"
    result = runner.invoke(
        app,
        ["train", str(workspace), "--holdout-from", "2026-01-01", "--metrics-out", str(out)],
        env=_mlflow(tmp_path),
    )
    assert result.exit_code == 0, result.output
    assert set(json.loads(out.read_text())) == {trained}
    missing = {"surveys": "satisfaction", "churn": "churn"}[table]
    assert f"No {missing} model trained: {missing} needs a {table} table" in result.output
