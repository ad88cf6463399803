"""The service's state for one workspace: online store, champion models, keys, actions and a score cache.

Reads and refreshes use separate connections (SQLite in WAL mode lets a read run beside a write);
each connection has its own lock because a connection runs one statement sequence at a time.
Answers are cached per customer (`serving.answers`) under the models' generation and dropped when the
service refreshes the customer, so a refreshed row or a reload can never serve a stale score; on
Postgres the other processes serving the same state drop theirs too (`serving.changes`).
The models in service and their generation travel as one `Loaded` object, swapped by one assignment: a
request reads it once, so it scores with one set of models and caches under that set's generation.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from features.catalogue import Catalogue
from features.config import WorkspaceConfig, load_config
from features.online import OnlineStore
from features.online_db import StoreUnavailable
from features.validation import load_workspace
from serving.actions import ActionCenter
from serving.answers import Answers
from serving.changes import CUSTOMER, RELOAD, Change, ChangeFeed
from serving.health import StoreWatch, TimedLock, problems, wedged
from serving.ledger import Ledger
from serving.model_watch import ModelWatch
from serving.receipts import Receipts
from serving.schemas import CustomerScores, Freshness, Reloaded
from serving.scorer import Champions, Prediction, RegistryUnavailable, champion_versions, load_champions
from serving.settings import ServiceSettings
from serving.shadow import Shadow
from serving.state import advisory_locks, database_url, open_database

log = logging.getLogger(__name__)
# attribute columns that hold what a customer is worth, first found wins (else every customer counts 1)
VALUE_COLUMNS = ("value", "annual_value", "lifetime_value", "clv")


class NotReady(RuntimeError):
    """The models are not loaded (yet, or they failed to load)."""


class ReloadFailed(RuntimeError):
    """The new champions could not be loaded: the service goes on with the ones it has."""


@dataclass(frozen=True)
class Loaded:
    """The champions in service and their generation (answers cached under another one are ignored)."""

    champions: Champions
    generation: int


class Runtime:
    """Everything a request needs, opened once per service process."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        url = database_url(settings.workspace)
        self.store, self.writer = OnlineStore.open(url), OnlineStore.open(url)
        self.read_lock, self.write_lock = TimedLock("read lock"), TimedLock("write lock")
        self.ledger = Ledger(self.store.db)  # flags are read on the read connection
        self.receipts = Receipts(self.writer.db)  # on the write connection: one commit with the events
        self.actions = ActionCenter.open(open_database(settings.workspace), settings.rules_path)
        self.loaded: Loaded | None = None
        self._reloading = threading.Lock()  # one reload at a time: generations stay distinct
        self.ready = threading.Event()
        self.error: str | None = None
        self.answers = Answers()
        # on Postgres other processes may serve the same state: their changes drop answers here
        self.feed = (
            ChangeFeed(url, self._changed_elsewhere, self.answers.forget_all)
            if self.store.db.postgres
            else None
        )
        self.model_watch = ModelWatch(self.reload, settings.model_poll_s)
        self.shadow = Shadow(open_database(settings.workspace))  # the @challengers, never served
        self.watch = StoreWatch(
            [
                (self.store.db, self.read_lock),
                (self.writer.db, self.write_lock),
                (self.actions.db, self.actions.lock),
            ]
        )

    @functools.cached_property
    def config(self) -> WorkspaceConfig:
        """The workspace config: metric scales, the future's tolerance (read once)."""
        return load_config(self.settings.workspace)

    def problems(self) -> list[str]:
        """What keeps the service from being ready now (empty: ready)."""
        locks = (self.read_lock, self.write_lock, self.actions.lock)
        return problems([self._models_problem, self.watch.problem, wedged(locks, self.settings.wedged_s)])

    def _models_problem(self) -> str | None:
        return None if self.ready.is_set() else self.error or "the models are still loading"

    def start(self) -> None:
        """Materialise the store if empty, load the champions, check them on a canary row, start actions."""
        try:
            if self._catalogue() is None:
                with advisory_locks(self.writer.db, ["cx-materialise"]):  # one replica materialises
                    if self._catalogue() is None:
                        self._materialise()
            if self.feed is not None:
                self.feed.start()
            self._use(self._load())
            self.shadow.follow(self.settings.mlflow, self._load)
            self.shadow.start()
            self.actions.start()
            self.watch.start()
            _settle_heap()
            self.ready.set()
            self.model_watch.start()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the service could not start")

    def stop(self) -> None:
        """Stop delivering actions and close the stores."""
        self.actions.stop()
        self.watch.stop()
        self.model_watch.stop()
        self.shadow.stop()
        if self.feed is not None:
            self.feed.stop()
        self.store.close()
        self.writer.close()

    def _catalogue(self) -> Catalogue | None:
        try:
            return self.store.catalogue
        except LookupError:
            return None

    def _materialise(self) -> None:
        workspace = self.settings.workspace
        loaded = load_workspace(workspace, load_config(workspace))
        if not loaded.ok:
            raise ValueError(f"{workspace} does not pass validation: run `cxpredict validate {workspace}`")
        with self.write_lock:
            count = self.writer.materialise(loaded.tables, loaded.config)
        log.info("online store materialised: %d customers", count)

    def _load(self, alias: str | None = None) -> Champions:
        """The models `alias` (default: the serving alias) points at, checked against the workspace."""
        alias = alias or self.settings.mlflow.serving_alias
        horizon = load_config(self.settings.workspace).churn.horizon_days
        champions = load_champions(self.settings.mlflow, horizon, alias)
        with self.read_lock:
            known = {f.name for f in self.store.catalogue.features}
        missing = [name for name in champions.features if name not in known]
        if missing:  # every customer would be scored on unknowns alone: the same answer for all
            raise ValueError(
                f"the @{alias} models read {len(missing)} feature(s) this workspace does not have "
                f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}): "
                "train them on this workspace (`cxpredict train WORKSPACE`)"
            )
        champions.predict([{}])  # the canary: a row of unknowns must score
        return champions

    def _use(self, champions: Champions) -> None:
        """Put `champions` in service: one reference swap, so a request sees the old or the new set."""
        self.loaded = Loaded(champions, self.generation + 1)

    @property
    def champions(self) -> Champions | None:
        """The champions in service (None before they are loaded)."""
        loaded = self.loaded
        return None if loaded is None else loaded.champions

    @property
    def generation(self) -> int:
        """The generation of the champions in service (0 before they are loaded)."""
        loaded = self.loaded
        return 0 if loaded is None else loaded.generation

    def reload(self, announce: bool = True) -> Reloaded:
        """Load the champions the aliases point at now; requests keep the old ones until the swap.

        Args:
            announce: tell the other processes on the same Postgres to reload too, when the models changed.

        Raises:
            ReloadFailed: when the registry cannot be reached (the models in service stay).
        """
        with self._reloading:  # requests never wait on it: they read `loaded`, swapped whole
            old = self.models().versions
            try:
                changed = champion_versions(self.settings.mlflow) != old
                champions = self._load() if changed else None
            except RegistryUnavailable as exc:
                serving = ", ".join(f"{name} {version}" for name, version in sorted(old.items()))
                log.warning("reload failed, still serving %s: %s", serving, exc)
                raise ReloadFailed(f"reload failed, still serving {serving}: {exc}") from exc
            shadowed = self.shadow.versions
            self.shadow.follow(self.settings.mlflow, self._load)
            if champions is not None or self.shadow.versions != shadowed:
                self._swap(champions or self.models(), announce)
        versions = self.models().versions
        return Reloaded(
            model_versions=versions, changed=versions != old, challenger_versions=self.shadow.versions
        )

    def _swap(self, champions: Champions, announce: bool) -> None:
        """A new generation: answers cached before are scored again (beside a new challenger too)."""
        self._use(champions)
        log.info("now serving %s", champions.versions)
        gc.unfreeze()  # let the old models go: one full collection, once per reload
        _settle_heap()
        if announce:
            self._announce([(RELOAD, None)])

    def models(self) -> Champions:
        """The champions in service.

        Raises:
            NotReady: before they are loaded, or when loading failed.
        """
        return self._loaded().champions

    def _loaded(self) -> Loaded:
        loaded = self.loaded
        if loaded is None:
            raise NotReady(self.error or "the models are still loading")
        return loaded

    def feature_row(self, customer_id: str) -> tuple[int, dict[str, Any]] | None:
        """The stored (as_of, features) of a customer."""
        with self.read_lock:
            return self.store.get_row(customer_id)

    def flags(self, customer_id: str) -> list[str]:
        """The flags rules have set on a customer."""
        with self.read_lock:
            return self.ledger.flags(customer_id)

    def cached_json(self, customer_id: str) -> bytes | None:
        """A customer's answer as JSON when it is cached; never waits on the database or the models."""
        return self.answers.body(customer_id, self.generation)

    def customer_json(self, customer_id: str) -> bytes | None:
        """A customer's answer as JSON (scored on a cache miss); None for an unknown customer."""
        body = self.cached_json(customer_id)
        if body is None:
            scores = self._score([customer_id]).get(customer_id)
            body = None if scores is None else scores.model_dump_json().encode()
        return body

    def customers(self, customer_ids: Sequence[str]) -> list[CustomerScores | None]:
        """Stored customers' scores with flags and freshness; the ones not cached are scored in one batch."""
        ids, generation = list(dict.fromkeys(customer_ids)), self.generation
        found = {cid: s for cid in ids if (s := self.answers.scores(cid, generation)) is not None}
        found |= self._score([cid for cid in ids if cid not in found])
        return [found.get(cid) for cid in customer_ids]

    def _score(self, customer_ids: Sequence[str]) -> dict[str, CustomerScores]:
        """Score stored customers from their feature rows and cache them; unknown ones are left out."""
        loaded, writes = self._loaded(), self.answers.writes
        champions = loaded.champions
        rows = [(cid, row) for cid in customer_ids if (row := self.feature_row(cid)) is not None]
        predictions = champions.predict([row[1] for _, row in rows]) if rows else []
        self.shadow.offer(champions, [(cid, as_of, features) for cid, (as_of, features) in rows])
        found = {}
        for (cid, (as_of, _)), prediction in zip(rows, predictions, strict=True):
            found[cid] = self.with_live_parts(self.compose(cid, prediction, champions, as_of), as_of)
            self.answers.keep(found[cid], as_of, loaded.generation, writes)
        return found

    def with_live_parts(self, scores: CustomerScores, as_of: int) -> CustomerScores:
        """Flags and freshness: not the models' to say, added when scores are composed for an answer."""
        return scores.model_copy(
            update={"flags": self.flags(scores.customer_id), "freshness": _freshness(as_of)}
        )

    def compose(
        self, customer_id: str, prediction: Prediction, champions: Champions, as_of: int | None
    ) -> CustomerScores:
        """The response form of one prediction (flags and freshness filled in on read)."""
        return CustomerScores(
            customer_id=customer_id,
            metrics=prediction.metrics,
            churn=prediction.churn,
            flags=[],
            top_reasons=prediction.top_reasons(),
            model_versions=champions.versions,
        )

    def score_rows(self, rows: Sequence[Mapping[str, Any]]) -> list[CustomerScores]:
        """Scores of feature rows sent by a caller (no flags, no freshness: they are not stored)."""
        champions = self.models()
        predictions = champions.predict(rows) if rows else []
        return [self.compose(f"row-{i}", p, champions, None) for i, p in enumerate(predictions)]

    def forget(self, customer_id: str) -> int:
        """Drop a customer's cached answer (after their features or flags changed here).

        The other processes on the same Postgres are told, and drop theirs: this returns once they can
        read the change (within their poll, `serving.changes.POLL_S`).

        Returns:
            the count of answers dropped so far, for `remember`.

        Raises:
            StoreUnavailable: when the other processes cannot be told (the caller's request fails).
        """
        forgotten = self.answers.forget(customer_id)
        if self.feed is not None:
            self.feed.publish([(CUSTOMER, customer_id)])
        return forgotten

    def _announce(self, changes: Sequence[Change]) -> None:
        if self.feed is not None:
            try:
                self.feed.publish(changes)
            except StoreUnavailable as exc:  # they follow the aliases themselves (CX_MODEL_POLL_S)
                log.warning("could not tell the other service processes to reload: %s", exc)

    def _changed_elsewhere(self, changes: Sequence[Change]) -> None:
        """Another process changed customers (their answers here are stale) or reloaded its models."""
        for kind, customer_id in changes:
            if kind == CUSTOMER and customer_id is not None:
                self.answers.forget(customer_id)
        if any(kind == RELOAD for kind, _ in changes) and self.loaded is not None:
            threading.Thread(target=self._follow_reload, name="cx-reload", daemon=True).start()

    def _follow_reload(self) -> None:
        try:
            self.reload(announce=False)
        except Exception as exc:  # the models in service stay; the next change or poll tries again
            log.warning("could not reload after another service process did: %s", exc)

    def remember(self, scores: CustomerScores, as_of: int, forgotten: int, champions: Champions) -> None:
        """Cache scores `champions` computed after `forget` returned `forgotten`.

        Kept if nothing was forgotten since, and only while `champions` are still in service: scores
        of models a reload replaced meanwhile must not be cached under the new generation.
        """
        loaded = self.loaded
        if loaded is not None and loaded.champions is champions:
            self.answers.keep(scores, as_of, loaded.generation, forgotten)


def _settle_heap() -> None:
    """Collect once, then move what is alive (models, libraries) out of the collector's sight.

    A full collection walks every tracked object: with the models and libraries loaded it took about
    250 ms on a 2-core machine and stalled every request in flight. Frozen objects are never walked.
    """
    gc.collect()
    gc.freeze()


def _freshness(as_of: int) -> Freshness:
    age = dt.datetime.now(dt.UTC).timestamp() - as_of / 1e6
    return Freshness(as_of=dt.datetime.fromtimestamp(as_of / 1e6, dt.UTC), age_seconds=max(age, 0.0))


def customer_value(features: Mapping[str, Any]) -> float:
    """What the customer is worth, from the first value attribute the workspace has (else 1)."""
    for column in VALUE_COLUMNS:
        value = features.get(f"customer_{column}")
        if isinstance(value, int | float) and value == value:  # NaN is not equal to itself
            return float(value)
    return 1.0
