"""The shadow under load and on Postgres: requests never wait on it, every customer is stored or counted."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from prometheus_client import REGISTRY

from features.validation import ValidationReport
from models.mlflow_config import MlflowConfig
from pipelines.monitoring import shadow_check, validated_workspace
from serving.runtime import Runtime
from serving.scorer import Champions, load_champions
from serving.settings import ServiceSettings
from serving.shadow import COLUMNS, Shadow, shadow_records, shadow_table, stored_shadow
from serving.state import open_database
from tests.serving.databases import own_database
from tests.serving.registry import own_registry, second_version


def aliases(config: MlflowConfig, alias: str) -> dict[str, str]:
    """Model -> the version `alias` points at (other tests add versions to the shared registry)."""
    registry = MlflowClient(config.tracking_uri)
    found = {}
    for name in ("cx-churn", "cx-satisfaction"):
        try:
            found[name] = str(registry.get_model_version_by_alias(name, alias).version)
        except MlflowException:  # no such alias on this model
            continue
    return found


def with_challenger(trained: tuple[Path, MlflowConfig], folder: Path) -> tuple[Path, MlflowConfig]:
    """A copy of the workspace and registry where cx-churn's @challenger is a second version of the champion."""
    config = own_registry(trained[1], folder)
    MlflowClient(config.tracking_uri).set_registered_model_alias(
        "cx-churn", "challenger", second_version(config, "cx-churn")
    )
    workspace = shutil.copytree(trained[0], folder / "ws", ignore=shutil.ignore_patterns("_service"))
    return Path(workspace), config


def counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("cx_shadow_predictions_total", {"outcome": outcome}) or 0.0


def stored(workspace: Path) -> list[dict[str, object]]:
    db = open_database(workspace)
    try:
        return [dict(zip(COLUMNS, row, strict=True)) for row in stored_shadow(db)]
    finally:
        db.close()


def wait_idle(shadow: Shadow) -> None:
    deadline = time.monotonic() + 60
    while not shadow.idle():
        assert time.monotonic() < deadline, "the shadow never finished its queue"
        time.sleep(0.05)


@pytest.fixture
def runtime(trained: tuple[Path, MlflowConfig], tmp_path: Path) -> Iterator[Runtime]:
    workspace, config = with_challenger(trained, tmp_path)
    served = Runtime(ServiceSettings(workspace, config))
    try:
        yield served
    finally:
        served.stop()


def test_a_full_queue_drops_and_counts_and_never_waits(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given a shadow holding 3 rows at most, its thread not started yet
    workspace, config = with_challenger(trained, tmp_path)
    champions = load_champions(config, 90)
    shadow = Shadow(open_database(workspace), capacity=3)
    shadow.challengers = load_champions(config, 90, "challenger")
    rows = [(f"C{n:07d}", 1_700_000_000_000_000, {}) for n in range(1, 6)]
    dropped = counted("dropped")
    # when 5 customers are offered in batches of 2, 2 and 1
    started = time.monotonic()
    for batch in (rows[:2], rows[2:4], rows[4:]):
        shadow.offer(champions, batch)
    assert time.monotonic() - started < 5, "offering never waits on the shadow"
    # then 3 are queued and 2 dropped and counted; the 3 are stored once the thread runs
    assert counted("dropped") - dropped == 2
    shadow.start()
    wait_idle(shadow)
    shadow.stop()
    assert sorted({str(r["customer_id"]) for r in stored(workspace)}) == ["C0000001", "C0000002", "C0000003"]


def test_many_requests_at_once_all_answer_from_the_champions_and_each_customer_is_stored_or_counted(
    runtime: Runtime,
) -> None:
    # given a service whose shadow holds 20 rows at most
    runtime.shadow = Shadow(open_database(runtime.settings.workspace), capacity=20)
    runtime.start()
    champions = aliases(runtime.settings.mlflow, "champion")
    assert runtime.shadow.versions == aliases(runtime.settings.mlflow, "challenger")
    made, dropped = counted("made"), counted("dropped")
    ids = [f"C{n:07d}" for n in range(100, 300)]
    # when 8 threads read 200 customers at once
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(runtime.customer_json, ids))
    # then every answer is the champions', and every customer was stored in shadow or counted as dropped
    assert all(b is not None and json.loads(b)["model_versions"] == champions for b in bodies)
    wait_idle(runtime.shadow)
    shadowed = {str(r["customer_id"]) for r in stored(runtime.settings.workspace)}
    assert counted("made") - made == len(shadowed)
    assert counted("made") - made + counted("dropped") - dropped == len(ids)
    assert shadowed <= set(ids)


def test_on_postgres_the_shadow_rows_land_in_the_state_database_and_monitor_reads_them(
    trained: tuple[Path, MlflowConfig], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace, config = with_challenger(trained, tmp_path)
    with own_database() as url:
        monkeypatch.setenv("CX_DATABASE_URL", url)
        served = Runtime(ServiceSettings(workspace, config))
        try:
            served.start()
            ids = [f"C{n:07d}" for n in range(1, 11)]
            assert all(a is not None for a in served.customers(ids))
            wait_idle(served.shadow)
            checked = validated_workspace(workspace)
            assert isinstance(checked, ValidationReport)
            (comparison,) = shadow_check(checked).comparisons
        finally:
            served.stop()
    assert not (workspace / "_service" / "cx.db").exists(), "nothing went to SQLite"
    expected = (aliases(config, "champion")["cx-churn"], aliases(config, "challenger")["cx-churn"])
    assert (comparison.model, comparison.champion_version, comparison.challenger_version) == (
        "cx-churn",
        *expected,
    )
    assert comparison.rows == len(ids)
    assert comparison.max_abs_diff == 0, "the same model under two versions scores the same"


def test_a_challenger_promoted_to_champion_is_not_compared_with_itself(
    trained: tuple[Path, MlflowConfig],
) -> None:
    champions = load_champions(trained[1], 90)
    rows = [("C0000001", 1_700_000_000_000_000, {})]
    assert shadow_records(champions, champions, rows, time.time()) == []


def test_rows_older_than_the_kept_days_are_deleted_when_a_new_shadow_first_stores(
    trained: tuple[Path, MlflowConfig], tmp_path: Path
) -> None:
    # given a shadow table holding rows scored 91 and 89 days ago, and one of now
    workspace, config = with_challenger(trained, tmp_path)
    champions, challengers = load_champions(config, 90), load_champions(config, 90, "challenger")
    store_one(workspace, champions, challengers, "C0000003")
    day, now = 86400.0, time.time()
    db = open_database(workspace)
    try:
        for cid, age in (("C0000001", 91), ("C0000002", 89)):
            db.insert(
                shadow_table(),
                COLUMNS,
                shadow_records(champions, challengers, [(cid, 0, {})], now - age * day),
            )
        db.commit()
    finally:
        db.close()
    # when the service restarts and its shadow stores a customer
    store_one(workspace, champions, challengers, "C0000004")
    # then the row older than 90 days is gone, the others stay
    assert sorted({str(r["customer_id"]) for r in stored(workspace)}) == ["C0000002", "C0000003", "C0000004"]


def store_one(workspace: Path, champions: Champions, challengers: Champions, customer_id: str) -> None:
    """One customer scored in shadow by a shadow of its own (as a service process would start)."""
    shadow = Shadow(open_database(workspace), keep_days=90)
    shadow.challengers = challengers
    shadow.start()
    shadow.offer(champions, [(customer_id, 0, {})])
    wait_idle(shadow)
    shadow.stop()
