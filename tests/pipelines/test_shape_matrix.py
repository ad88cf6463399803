"""Every command on every workspace shape: it works, or it stops at once with exit 2 and one sentence.

The shapes keep any subset of the optional tables and columns of a generated company, or make its
data degenerate (undated, one customer, one class). No command may print a traceback on any of them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner, Result

from features import spark_validation
from pipelines.cli import app
from pipelines.cli_errors import LOG_DIR_VARIABLE
from pipelines.synthetic import generate_company
from tests.pipelines.shapes import (
    NAMED_SHAPES,
    OPTIONAL_TABLES,
    Tables,
    keep,
    optional_columns,
    read_company,
    write_shape,
)
from tests.spark import DriverRows, local_session

runner = CliRunner()
MODEL_COMMANDS = ("train", "score", "monitor", "report", "survey-plan", "retrain")
SERVED_SHAPES = ("surveys without comments, deliveries",)
SAMPLE_ROWS = 40  # rows per table that Spark's validation checks in the driver, here
MOST_DRIVER_ROWS = 150  # that sample, or a table profile: at most 21 values per text column


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Tables:
    folder = tmp_path_factory.mktemp("company") / "ws"
    generate_company(folder, customers=200, seed=3)
    return read_company(folder)


@pytest.fixture(scope="module")
def empty_registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow database migrated once; each shape trains into a copy (migrations take seconds)."""
    import mlflow

    path = tmp_path_factory.mktemp("registry") / "mlflow.db"
    mlflow.MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


class Steps:
    """Runs commands on one workspace with its own registry, checking the outcome of each."""

    def __init__(self, root: Path, registry: Path) -> None:
        self.root = root
        shutil.copy(registry, root / "mlflow.db")
        (root / "mlflow.yml").write_text(
            f"tracking_uri: sqlite:///{root / 'mlflow.db'}\nartifact_location: {root / 'artifacts'}\n"
        )
        # set per command: MLflow exports the URI it last used, which would win over the file
        self.env = {
            "COLUMNS": "1000",
            LOG_DIR_VARIABLE: str(root / "logs"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        }

    def run(self, *args: object) -> Result:
        """Run one command; it must succeed, or exit 2 with one sentence, and never show a traceback."""
        argv = [str(a) for a in args]
        if argv[0] in MODEL_COMMANDS:
            argv += ["--mlflow-config", str(self.root / "mlflow.yml")]
        result = runner.invoke(app, argv, env=self.env)
        shown = f"cxpredict {' '.join(argv)} → exit {result.exit_code}:\n{result.output}"
        assert "Traceback" not in result.output, shown
        # monitor's exit 1 means "retrain recommended", a verdict rather than a failure
        assert result.exit_code in ((0, 1, 2) if argv[0] == "monitor" else (0, 2)), shown
        lines = [line for line in result.output.splitlines() if line.strip()]
        if result.exit_code == 2 and argv[0] == "retrain":  # its steps as they went, then why it stopped
            assert lines[-1].startswith("failed: "), shown
        elif result.exit_code == 2 and argv[0] != "validate":
            assert len(lines) == 1, shown
        return result


def run_every_command(folder: Path, steps: Steps) -> dict[str, int]:
    """validate, text train, features, train (customer holdout, then time split), score, then the
    commands that read the trained models: monitor, report, survey-plan and retrain."""
    codes = {"validate": steps.run("validate", folder).exit_code}
    assert codes["validate"] == 0, "every shape is valid data"
    codes["text"] = steps.run(
        "text", "train", folder, "--no-encoder", "--head", "tfidf", "--write-events"
    ).exit_code
    out = steps.root / "features.parquet"
    codes["features"] = steps.run("features", folder, "--out", out).exit_code
    if codes["features"] == 0:
        customers = pd.read_parquet(folder / "customers.parquet")
        assert set(pd.read_parquet(out)["customer_id"]) <= set(customers["customer_id"])
    codes["train customers"] = steps.run("train", folder, "--holdout-customers", "0.3").exit_code
    codes["train time"] = steps.run("train", folder).exit_code
    codes["score"] = steps.run("score", folder, "--out", steps.root / "scores.parquet").exit_code
    codes["monitor"] = steps.run("monitor", folder, "--out", steps.root / "monitor.json").exit_code
    codes["report"] = steps.run("report", folder, "--out", steps.root / "report").exit_code
    plan = steps.root / "plan.csv"
    codes["survey-plan"] = steps.run("survey-plan", folder, "--budget", 20, "--out", plan).exit_code
    codes["retrain"] = steps.run("retrain", folder, "--out", steps.root / "retrain.json").exit_code
    return codes


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(NAMED_SHAPES))
def test_every_command_works_or_says_what_the_data_lacks(
    spark: None,
    company: Tables,
    empty_registry: Path,
    tmp_path: Path,
    shape: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_shape(NAMED_SHAPES[shape](company), tmp_path / "ws")
    steps = Steps(tmp_path, empty_registry)
    codes = run_every_command(folder, steps)
    trained = codes["train customers"] == 0 or codes["train time"] == 0
    assert codes["score"] == (0 if trained else 2), codes
    monkeypatch.setattr(spark_validation, "SAMPLE_ROWS", SAMPLE_ROWS)
    spark_agrees_with_duckdb(folder, steps, shape, trained, DriverRows(monkeypatch))
    if not trained:  # nothing to compare, aggregate or be uncertain about without a model
        assert (codes["monitor"], codes["report"], codes["survey-plan"]) == (2, 2, 2), codes
    assert codes["retrain"] == (0 if trained else 2), codes  # it trains what `train` could, no more
    if shape == "one timestamp for everything":  # undated: a time split is refused, a customer one works
        assert codes["train time"] == 0, codes
        dated = steps.run("train", folder, "--holdout-from", "2025-03-01")
        assert dated.exit_code == 2 and "two or more distinct times for a time split" in dated.output
        report = steps.run("report", folder, "--out", tmp_path / "undated-report")
        assert report.exit_code == 2 and "as in an undated export" in report.output
    if not trained:  # with a model, serve would start serving: the served shapes check that instead
        assert steps.run("serve", folder, "--port", "0").exit_code == 2
    if shape in SERVED_SHAPES:
        assert trained, codes
        read_a_customer_from_the_service(folder, tmp_path)
        other = write_shape(keep(company, []), tmp_path / "customers-only")
        refused = steps.run("score", other, "--out", tmp_path / "other.parquet")
        assert refused.exit_code == 2 and "this workspace lacks" in refused.output


def read_a_customer_from_the_service(folder: Path, root: Path) -> None:
    """`cxpredict serve` in its own process answers a customer's scores with this shape's models."""
    import httpx

    from models.mlflow_config import MlflowConfig
    from tests.serving.server_process import free_port, start_server, stop_server, wait_ready

    created = runner.invoke(app, ["keys", "create", str(folder), "--role", "agent", "--name", "matrix"])
    assert created.exit_code == 0, created.output
    key, port, log = created.output.strip().splitlines()[-1], free_port(), root / "serve.log"
    server = start_server(folder, MlflowConfig(tracking_uri=f"sqlite:///{root / 'mlflow.db'}"), port, log)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, log)
        customer = str(pd.read_parquet(folder / "customers.parquet")["customer_id"].iloc[0])
        answer = httpx.get(
            f"http://127.0.0.1:{port}/customers/{customer}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["metrics"] or answer.json()["churn"]
    finally:
        stop_server(server)
    assert "Traceback" not in log.read_text()


@pytest.fixture(scope="module")
def spark() -> Iterator[None]:
    """One local Spark session for every Spark case (`--engine spark` finds it and reuses it)."""
    session = local_session("cxpredict-shapes")
    yield
    session.stop()


def spark_agrees_with_duckdb(folder: Path, steps: Steps, shape: str, scored: bool, rows: DriverRows) -> None:
    """`features` and `score` with `--engine spark` write the DuckDB path's rows, cell for cell, as
    Parquet datasets, while no Spark action brings more than `MOST_DRIVER_ROWS` rows to the driver."""
    runs = [("features", "features.parquet")] + ([("score", "scores.parquet")] if scored else [])
    for command, name in runs:
        out = steps.root / f"spark-{name}"
        assert steps.run(command, folder, "--engine", "spark", "--out", out).exit_code == 0, shape
        assert out.is_dir() and list(out.glob("part-*.parquet")), "Spark writes a folder of part files"
        got, want = plain(pd.read_parquet(out)), plain(pd.read_parquet(steps.root / name))
        if shape == "one timestamp for everything":  # the latest of events at one moment is any of them
            tied = [c for c in want.columns if c.endswith(("_last", "_trend", "_reasons"))]
            got, want = got.drop(columns=tied), want.drop(columns=tied)
        # the bound below must be smaller than the data, or it would prove nothing
        assert len(want) > MOST_DRIVER_ROWS or shape == "a single customer", len(want)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-5, atol=1e-6, check_dtype=False)
    assert 0 < rows.most <= MOST_DRIVER_ROWS, rows.counts


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by customer, text as Python strings: Spark writes categories as plain text, in any order."""
    texts = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c]) and c != "as_of"]
    out = frame.astype({c: object for c in texts}).sort_values("customer_id", ignore_index=True)
    return out.where(out.notna(), None) if texts else out


@st.composite
def subsets(draw: st.DrawFn) -> tuple[tuple[str, ...], dict[str, list[str]]]:
    """Any subset of the optional tables, each without any subset of its optional columns."""
    tables = tuple(sorted(draw(st.sets(st.sampled_from(OPTIONAL_TABLES)))))
    drop = {
        t: sorted(draw(st.sets(st.sampled_from(optional_columns(t))))) for t in tables if optional_columns(t)
    }
    return tables, drop


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subset=subsets())
def test_any_subset_of_tables_and_columns_validates_and_builds_features(
    company: Tables,
    empty_registry: Path,
    tmp_path_factory: pytest.TempPathFactory,
    subset: tuple[tuple[str, ...], dict[str, list[str]]],
) -> None:
    tables, drop = subset
    root = tmp_path_factory.mktemp("subset")
    folder = write_shape(keep(company, tables, drop), root / "ws")
    steps = Steps(root, empty_registry)
    assert steps.run("validate", folder).exit_code == 0
    steps.run("features", folder, "--out", root / "features.parquet")
    steps.run("train", folder, "--holdout-customers", "0.3")
