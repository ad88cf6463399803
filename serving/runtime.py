"""The service's state for one workspace: online store, champion models, keys, actions and a score cache.

Reads and refreshes use separate connections (SQLite in WAL mode lets a read run beside a write);
each connection has its own lock because a connection runs one statement sequence at a time.
Scores are cached per customer under the `as_of` of the feature row they were computed from and the
models' generation, so a refreshed row or a reload can never serve a stale score.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from features.catalogue import Catalogue
from features.config import load_config
from features.online import OnlineStore
from features.validation import load_workspace
from serving.actions import ActionCenter
from serving.ledger import Ledger
from serving.schemas import CustomerScores, Freshness, Reloaded
from serving.scorer import Champions, Prediction, champion_versions, load_champions
from serving.settings import ServiceSettings
from serving.state import database_url, open_database

log = logging.getLogger(__name__)
CACHE_SIZE = 100_000
# attribute columns that hold what a customer is worth, first found wins (else every customer counts 1)
VALUE_COLUMNS = ("value", "annual_value", "lifetime_value", "clv")


# (as_of of the feature row, models generation, scores, their JSON without flags and freshness)
Entry = tuple[int, int, CustomerScores, bytes]


class NotReady(RuntimeError):
    """The models are not loaded (yet, or they failed to load)."""


class Runtime:
    """Everything a request needs, opened once per service process."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        url = database_url(settings.workspace)
        self.store, self.writer = OnlineStore.open(url), OnlineStore.open(url)
        self.read_lock, self.write_lock, self.cache_lock = (
            threading.Lock(),
            threading.Lock(),
            threading.Lock(),
        )
        self.ledger = Ledger(self.store.db)  # flags are read on the read connection
        self.actions = ActionCenter.open(open_database(settings.workspace), settings.rules_path)
        self.champions: Champions | None = None
        self.generation = 0
        self.ready = threading.Event()
        self.error: str | None = None
        self._cache: OrderedDict[str, Entry] = OrderedDict()

    def start(self) -> None:
        """Materialise the store if empty, load the champions, check them on a canary row, start actions."""
        try:
            if self._catalogue() is None:
                self._materialise()
            self._use(self._load())
            self.actions.start()
            self.ready.set()
        except Exception as exc:
            self.error = f"{type(exc).__name__}: {exc}"
            log.exception("the service could not start")

    def stop(self) -> None:
        """Stop delivering actions and close the stores."""
        self.actions.stop()
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

    def _load(self) -> Champions:
        horizon = load_config(self.settings.workspace).churn.horizon_days
        champions = load_champions(self.settings.mlflow, horizon)
        champions.predict([{}])  # the canary: a row of unknowns must score
        return champions

    def _use(self, champions: Champions) -> None:
        self.champions, self.generation = champions, self.generation + 1

    def reload(self) -> Reloaded:
        """Load the champions the aliases point at now; requests keep the old ones until the swap."""
        old = self.models().versions
        if champion_versions(self.settings.mlflow) != old:
            self._use(self._load())  # one reference swap: a request sees the old or the new set
        versions = self.models().versions
        return Reloaded(model_versions=versions, changed=versions != old)

    def models(self) -> Champions:
        """The champions in service.

        Raises:
            NotReady: before they are loaded, or when loading failed.
        """
        if self.champions is None:
            raise NotReady(self.error or "the models are still loading")
        return self.champions

    def feature_row(self, customer_id: str) -> tuple[int, dict[str, Any]] | None:
        """The stored (as_of, features) of a customer."""
        with self.read_lock:
            return self.store.get_row(customer_id)

    def flags(self, customer_id: str) -> list[str]:
        """The flags rules have set on a customer."""
        with self.read_lock:
            return self.ledger.flags(customer_id)

    def customer(self, customer_id: str) -> CustomerScores | None:
        """A stored customer's scores (cached per feature row), or None for an unknown customer."""
        entry = self._entry(customer_id)
        return None if entry is None else self.with_live_parts(entry[2], entry[0])

    def customer_json(self, customer_id: str) -> bytes | None:
        """`customer` as JSON bytes: the cached part is serialised once per feature row, not per read."""
        entry = self._entry(customer_id)
        if entry is None:
            return None
        live = {"flags": self.flags(customer_id), "freshness": _freshness(entry[0]).model_dump(mode="json")}
        return entry[3][:-1] + b"," + json.dumps(live).encode()[1:]

    def customers(self, customer_ids: Sequence[str]) -> list[CustomerScores | None]:
        """`customer` for many: the ones not cached are scored in one batch."""
        entries = self._entries(customer_ids)
        return [None if e is None else self.with_live_parts(e[2], e[0]) for e in entries]

    def _entry(self, customer_id: str) -> Entry | None:
        return self._entries([customer_id])[0]

    def _entries(self, customer_ids: Sequence[str]) -> list[Entry | None]:
        """Cache entries, computed for customers whose row changed (or after a reload)."""
        champions, generation = self.models(), self.generation
        with self.read_lock:  # cheap: a row's JSON is parsed only on a miss
            times = [self.store.as_of(cid) for cid in customer_ids]
        found: dict[str, Entry] = {}
        for cid, as_of in zip(customer_ids, times, strict=True):
            cached = self._cache.get(cid)
            if cached is not None and cached[:2] == (as_of, generation):
                found[cid] = cached
        missing = [cid for cid, as_of in zip(customer_ids, times, strict=True) if as_of and cid not in found]
        rows = [(cid, row) for cid in dict.fromkeys(missing) if (row := self.feature_row(cid)) is not None]
        predictions = champions.predict([row[1] for _, row in rows]) if rows else []
        for (cid, row), prediction in zip(rows, predictions, strict=True):
            scores = self.compose(cid, prediction, champions, row[0])
            found[cid] = (
                row[0],
                generation,
                scores,
                scores.model_dump_json(exclude={"flags", "freshness"}).encode(),
            )
            self._remember(cid, found[cid])
        return [found.get(cid) for cid in customer_ids]

    def _remember(self, customer_id: str, entry: Entry) -> None:
        with self.cache_lock:
            self._cache[customer_id] = entry
            if len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)

    def with_live_parts(self, scores: CustomerScores, as_of: int) -> CustomerScores:
        """Flags and freshness change without the features changing: added on every read."""
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

    def forget(self, customer_id: str) -> None:
        """Drop a customer's cached scores (after their features were refreshed here)."""
        with self.cache_lock:
            self._cache.pop(customer_id, None)


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
