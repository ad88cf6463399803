"""The challenger in shadow: scored beside the champion on live traffic, stored, never served.

When a registered model has a `@challenger` alias (`shadow_alias` in mlflow.yml) the service loads
that version beside the champion. Each batch of customers the service scores (for an answer, an event
or the dashboard's overview) is handed to a queue bounded in rows; one background thread scores the
same feature rows with the champion and the challenger (scores only: no reasons) and stores one row
per customer and model output in `cx_shadow_predictions`: customer id, when, the moment the features
describe, both versions and both values. No feature value, no text. What does not fit in the queue
is dropped and counted: a request never waits on the shadow. `cxpredict monitor` compares the two.
Rows older than `KEEP_DAYS` are deleted by the same thread, at most once an hour, so the table stays
the size of a few months of traffic.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from features.online_db import Database
from models.mlflow_config import MlflowConfig
from models.predictor import Predictor
from serving import metrics
from serving.scorer import Champions, RegistryUnavailable, champion_versions
from serving.state import LazyTable, checked_prefix

log = logging.getLogger(__name__)
# feature rows waiting for the shadow at most (about 10 kB each): more are dropped and counted
QUEUE_ROWS = 10_000
COLUMNS = (
    "scored_at",
    "customer_id",
    "features_at",
    "model",
    "output",
    "champion_version",
    "challenger_version",
    "champion",
    "challenger",
)
KEEP_DAYS = 90  # shadow rows kept this long: a challenger is judged on recent traffic
PRUNE_EVERY_S = 3600.0
# the outputs compared: a churn probability, each metric's score and the probability of its negative side
OUTPUT_SUFFIXES = ("_probability", "_score")

ShadowRow = tuple[str, int, Mapping[str, Any]]  # (customer id, as_of in microseconds, feature row)


def shadow_table(prefix: str = "cx_") -> str:
    """The table's name in the service database."""
    return f"{checked_prefix(prefix)}shadow_predictions"


@dataclass(frozen=True)
class _Job:
    champions: Champions
    rows: Sequence[ShadowRow]


class Shadow:
    """The challengers in shadow and the thread that scores and stores what the champions answered."""

    def __init__(
        self, db: Database, capacity: int = QUEUE_ROWS, prefix: str = "cx_", keep_days: float = KEEP_DAYS
    ) -> None:
        """Keep the rows in `db`: a connection of the shadow's own (its thread alone writes on it)."""
        self.db, self.table = db, shadow_table(prefix)
        self._table = LazyTable(
            db,
            f"CREATE TABLE IF NOT EXISTS {self.table} (scored_at DOUBLE PRECISION, customer_id TEXT, "
            "features_at DOUBLE PRECISION, model TEXT, output TEXT, champion_version TEXT, "
            "challenger_version TEXT, champion DOUBLE PRECISION, challenger DOUBLE PRECISION)",
        )
        self.challengers: Champions | None = None  # swapped whole by the runtime, read once per batch
        self._queue: queue.Queue[_Job | None] = queue.Queue()  # bounded by `_queued` rows, not batches
        self._capacity, self._queued, self._count_lock = capacity, 0, threading.Lock()
        self._thread: threading.Thread | None = None
        self._failing = False  # a failure is logged once, not once per batch
        self._aliases: dict[str, str] | None = None  # where the shadow alias pointed when last looked
        self._keep_s = keep_days * 86400
        self._pruned_at: float | None = None  # monotonic time of the last prune; the first store prunes

    @property
    def versions(self) -> dict[str, str]:
        """Registered model name -> the challenger version in shadow."""
        challengers = self.challengers
        return {} if challengers is None else challengers.versions

    def follow(self, config: MlflowConfig, load: Callable[[str], Champions]) -> None:
        """Load the versions the shadow alias points at, when it moved; one line when they cannot load.

        Args:
            config: where the registry is and the alias's name.
            load: loads and checks the models an alias points at, as the champions are.

        A failed load is not retried until the alias moves again: a broken challenger is logged once,
        and the champions are served alone meanwhile.
        """
        alias = config.shadow_alias
        try:
            wanted = champion_versions(config, alias)
        except RegistryUnavailable as exc:
            log.warning("the @%s aliases could not be read, the shadow stays as it was: %s", alias, exc)
            return
        if wanted == self._aliases:
            return
        self._aliases, challengers = wanted, None
        try:
            challengers = load(alias) if wanted else None
        except Exception as exc:  # the champions are served whatever the challenger does
            log.warning(
                "the @%s models could not be loaded, serving the champions alone: %s", alias, _line(exc)
            )
        self.challengers = challengers
        if challengers is not None:
            log.info("scoring %s in shadow beside the champions (never served)", challengers.versions)
        elif not wanted:
            log.info("no model has a @%s: nothing is scored in shadow", alias)

    def start(self) -> None:
        """Score and store offered batches in the background until stopped."""
        self._thread = threading.Thread(target=self._loop, name="cx-shadow", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5) -> None:
        """Store what is queued (for `timeout_s` at most), then stop and close the connection."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout_s)  # past it, the daemon thread is left with its batches
        self.db.close()

    def offer(self, champions: Champions, rows: Sequence[ShadowRow]) -> None:
        """Hand the rows `champions` scored to the shadow: those that fit in the queue; never waits."""
        if self.challengers is None or not rows:
            return
        with self._count_lock:
            taken = max(min(len(rows), self._capacity - self._queued), 0)
            self._queued += taken
        if taken:
            self._queue.put_nowait(_Job(champions, list(rows[:taken])))
        if taken < len(rows):
            metrics.count_shadow("dropped", len(rows) - taken)

    def idle(self) -> bool:
        """Whether every offered row has been stored (or counted as dropped or failed)."""
        with self._count_lock:
            return self._queued == 0

    def _loop(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self._store(job)
            finally:
                with self._count_lock:
                    self._queued -= len(job.rows)

    def _store(self, job: _Job) -> None:
        challengers = self.challengers
        if challengers is None:  # the alias was removed meanwhile
            metrics.count_shadow("dropped", len(job.rows))
            return
        try:
            now = time.time()
            records = shadow_records(job.champions, challengers, job.rows, now)
            self._table.ensure()
            self.db.insert(self.table, COLUMNS, records)
            self._prune(now)
            self.db.commit()
        except Exception as exc:  # a bad row, a lost database: the answers went out already
            metrics.count_shadow("failed", len(job.rows))
            if not self._failing:
                log.warning("shadow predictions could not be stored (counted as failed): %s", _line(exc))
            self._failing = True
            self.db.rollback()
            return
        self._failing = False
        metrics.count_shadow("made", len(job.rows))

    def _prune(self, now: float) -> None:
        """Delete the rows older than the kept days, at most once every `PRUNE_EVERY_S`."""
        if self._pruned_at is not None and time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return
        self.db.execute(f"DELETE FROM {self.table} WHERE scored_at < ?", (now - self._keep_s,))
        self._pruned_at = time.monotonic()


def shadow_records(
    champions: Champions, challengers: Champions, rows: Sequence[ShadowRow], now: float
) -> list[tuple[Any, ...]]:
    """The table's rows: each output of each model with a challenger, per customer."""
    features = [row for _, _, row in rows]
    records = []
    for kind, challenger in challengers.models.items():
        champion = champions.models.get(kind)
        if champion is None or champion.version == challenger.version:
            continue  # nothing served to compare with, or the challenger was promoted
        ours, theirs = _scores(champion.predictor, features), _scores(challenger.predictor, features)
        for output in sorted(ours.keys() & theirs.keys()):
            versions = (champion.name, output, champion.version, challenger.version)
            records += [
                (now, cid, as_of / 1e6, *versions, float(ours[output][i]), float(theirs[output][i]))
                for i, (cid, as_of, _) in enumerate(rows)
            ]
    return records


def _scores(predictor: Predictor, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    columns = predictor.scores(predictor.encode(rows))
    return {name: values for name, values in columns.items() if name.endswith(OUTPUT_SUFFIXES)}


def _line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def stored_shadow(db: Database, prefix: str = "cx_") -> list[tuple[Any, ...]]:
    """Every row the service scored in shadow, in `COLUMNS` order (none when it never did).

    Raises:
        StoreUnavailable: when the database cannot be reached.
    """
    table = shadow_table(prefix)
    if db.postgres:
        present = db.scalar("SELECT to_regclass(?::text) IS NOT NULL", (table,))
    else:
        present = db.scalar("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,))
    if not present:
        return []
    names = ", ".join(COLUMNS)
    return db.query(f"SELECT {names} FROM {table} ORDER BY scored_at")
