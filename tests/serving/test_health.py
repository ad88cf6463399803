"""Readiness checks: a lock held past its limit says the worker is wedged; a lost state database says so."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from features.online_db import StoreUnavailable
from models.mlflow_config import MlflowConfig
from serving.health import TimedLock, wedged
from serving.runtime import Runtime
from serving.settings import ServiceSettings
from serving.state import URL_VARIABLE
from tests.serving.databases import private_cluster
from tests.serving.server_process import free_port


def test_a_lock_held_past_the_limit_makes_the_worker_wedged_and_free_again_when_released() -> None:
    lock = TimedLock("write lock")
    check = wedged([lock], limit_s=0.2)
    assert check() is None
    release = threading.Event()

    def hold() -> None:
        with lock:
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.1)
    assert check() is None  # held, but not for long yet
    time.sleep(0.3)
    assert check() is not None and "write lock" in str(check())
    release.set()
    holder.join(10)
    assert check() is None and lock.acquire(timeout=1)


def test_a_reentrant_lock_counts_from_its_first_acquire() -> None:
    lock = TimedLock("actions lock", reentrant=True)
    with lock, lock:
        assert lock.held_for() >= 0
    assert lock.held_for() == 0.0


def test_a_runtime_whose_write_lock_is_held_past_the_limit_is_not_ready_saying_why(tmp_path: Path) -> None:
    settings = ServiceSettings(
        tmp_path, MlflowConfig(tracking_uri=f"sqlite:///{tmp_path}/m.db"), wedged_s=0.2
    )
    runtime = Runtime(settings)
    try:
        assert not any("wedged" in p for p in runtime.problems())
        with runtime.write_lock:
            time.sleep(0.4)
            assert any("wedged: a request has held the write lock" in p for p in runtime.problems())
        assert not any("wedged" in p for p in runtime.problems())
    finally:
        runtime.stop()


def test_a_runtime_whose_state_database_is_unreachable_is_not_ready_until_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with private_cluster(free_port()) as cluster:
        monkeypatch.setenv(URL_VARIABLE, cluster.server)
        runtime = Runtime(ServiceSettings(tmp_path, MlflowConfig(tracking_uri=f"sqlite:///{tmp_path}/m.db")))
        try:
            assert not any("state database" in p for p in runtime.problems())
            cluster.stop()
            with pytest.raises(StoreUnavailable):  # a request meets the outage: /readyz must say so
                runtime.writer.db.execute("CREATE TABLE IF NOT EXISTS t (a INTEGER)")
            assert any("unreachable" in p for p in runtime.problems()), runtime.problems()
            runtime.watch.probe()  # the background watch's probe: still away, still not ready
            assert any("unreachable" in p for p in runtime.problems())
            cluster.start()
            runtime.writer.db.retry_now()
            runtime.watch.probe()
            assert not any("unreachable" in p for p in runtime.problems()), runtime.problems()
        finally:
            runtime.stop()
