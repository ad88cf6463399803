"""The simulation's mutable state: latent satisfaction, pending consequences and the growing event log."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from pipelines.synthetic.customers import Customers
from pipelines.synthetic.params import DRIVERS
from pipelines.synthetic.timegrid import TimeGrid

# An experience's effect lands in the step its moment falls in, up to this many steps ahead
# (a delivery ordered now may arrive late next week; a claim is filed weeks after delivery).
HORIZON = 16
NEVER = np.iinfo(np.int64).max


class EventLog:
    """Column chunks per table, appended step by step and concatenated once at the end."""

    def __init__(self) -> None:
        self._chunks: dict[str, dict[str, list[np.ndarray]]] = defaultdict(lambda: defaultdict(list))
        self._rows: dict[str, int] = defaultdict(int)

    def add(self, table: str, **columns: np.ndarray) -> np.ndarray:
        """Append rows; returns their row numbers in the table (stable ids for cross-references)."""
        n = len(next(iter(columns.values())))
        for name, values in columns.items():
            self._chunks[table][name].append(values)
        first = self._rows[table]
        self._rows[table] += n
        return np.arange(first, first + n, dtype=np.int64)

    def rows(self, table: str) -> int:
        """Rows appended to a table so far."""
        return self._rows[table]

    def take(self, table: str) -> dict[str, np.ndarray]:
        """Every column of a table as one array each, plus `row` numbers; the log forgets the table."""
        chunks = self._chunks.pop(table, {})
        columns = {name: np.concatenate(parts) for name, parts in chunks.items()}
        columns["row"] = np.arange(self._rows[table], dtype=np.int64)
        return columns


@dataclass
class DriverTally:
    """How often each experience happened, how far it moved latent satisfaction, and what is left of it.

    Attributes:
        events: experiences per name.
        impact: their summed effect when each landed (churned customers' included).
        lasting: per name and customer, each effect grown by the recovery ahead of its step,
            `(1 - recovery) ** -step`: what is left of it after step k is `lasting * (1 - recovery) ** k`
            (`remaining`), since every step closes the same share of the gap to baseline.
    """

    events: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    impact: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    lasting: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, name: str, amounts: np.ndarray, cust: np.ndarray, landed: np.ndarray, n: int) -> None:
        """Count `len(amounts)` events, their summed effect and each customer's lasting part.

        Args:
            name: the experience.
            amounts: each event's effect on latent satisfaction.
            cust: whose it was.
            landed: the step each effect lands in.
            n: customers in the world.
        """
        self.events[name] += len(amounts)
        self.impact[name] += float(amounts.sum(dtype=np.float64))
        grown = amounts * (1.0 - DRIVERS.recovery) ** -landed.astype(np.float64)
        np.add.at(self.lasting.setdefault(name, np.zeros(n)), cust, grown)

    def remaining(self, name: str, step: int) -> np.ndarray:
        """Per customer, what is left of `name`'s effects on latent satisfaction after `step`."""
        return np.asarray(self.lasting[name] * (1.0 - DRIVERS.recovery) ** step)


LATENT_BANDS = np.array([4.0, 5.0, 6.0, 7.0, 8.0, 9.0])  # edges of the bands that show response bias


@dataclass
class SurveyTally:
    """Invitations and answers per metric, and per latent band (to show who answers)."""

    invited: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    answered: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    band_invited: np.ndarray = field(default_factory=lambda: np.zeros(len(LATENT_BANDS) + 1, np.int64))
    band_answered: np.ndarray = field(default_factory=lambda: np.zeros(len(LATENT_BANDS) + 1, np.int64))


@dataclass
class World:
    """Everything the step functions read and move.

    Attributes:
        latent: current latent satisfaction per customer (0-10 scale, unbounded in principle).
        churned_at: seconds of churn, `NEVER` while active.
        last_issue: the issue code of the customer's latest bad experience, -1 if none yet.
        last_issue_step: the step it happened in.
        pending: (HORIZON, n) satisfaction shocks waiting for the step their moment falls in.
        pending_issue: (HORIZON, n) issue codes arriving with those shocks, -1 for none.
        late_factor: scales every carrier's chance of a late delivery (0.5 replays the company with
            half the late deliveries; the truth of the report's what-if).
    """

    rng: np.random.Generator
    grid: TimeGrid
    customers: Customers
    latent: np.ndarray
    churned_at: np.ndarray
    last_issue: np.ndarray
    last_issue_step: np.ndarray
    pending: np.ndarray
    pending_issue: np.ndarray
    log: EventLog = field(default_factory=EventLog)
    tally: DriverTally = field(default_factory=DriverTally)
    surveys: SurveyTally = field(default_factory=SurveyTally)
    invites: dict[int, list[dict[str, np.ndarray]]] = field(default_factory=lambda: defaultdict(list))
    step: int = 0
    late_factor: float = 1.0

    @classmethod
    def start(cls, rng: np.random.Generator, grid: TimeGrid, customers: Customers) -> World:
        """A world where everyone sits at their baseline and nothing has happened yet."""
        n = len(customers)
        return cls(
            rng=rng,
            grid=grid,
            customers=customers,
            latent=(customers.baseline + rng.normal(0.0, 0.4, n)).astype(np.float32),
            churned_at=np.full(n, NEVER, dtype=np.int64),
            last_issue=np.full(n, -1, dtype=np.int8),
            last_issue_step=np.full(n, -(10**6), dtype=np.int32),
            pending=np.zeros((HORIZON, n), dtype=np.float32),
            pending_issue=np.full((HORIZON, n), -1, dtype=np.int8),
        )

    def moments(self, cust: np.ndarray, t0: int, t1: int) -> np.ndarray:
        """Uniform moments in `[t0, t1)`, never before each customer joined."""
        low = np.maximum(self.customers.created[cust], t0)
        return low + (self.rng.random(len(cust)) * (t1 - low)).astype(np.int64)

    def recent_issue(self, cust: np.ndarray, within: int = 8) -> np.ndarray:
        """Each customer's latest bad experience if it is at most `within` steps old, else -1."""
        recent = self.step - self.last_issue_step[cust] <= within
        return np.where(recent, self.last_issue[cust], -1).astype(np.int8)

    def shock(
        self,
        name: str,
        group: int,
        cust: np.ndarray,
        at: np.ndarray,
        amount: float | np.ndarray,
        issue: int = -1,
    ) -> None:
        """Queue an experience's effect (scaled by each customer's sensitivity) for the step of `at`."""
        if len(cust) == 0:
            return
        effect = amount * self.customers.sensitivity[cust, group]
        steps = self.grid.step_of(at)
        keep = steps < self.grid.steps
        landed = np.clip(steps[keep], self.step, self.step + HORIZON - 1)
        slot = landed % HORIZON
        np.add.at(self.pending, (slot, cust[keep]), effect[keep])
        if issue >= 0:
            self.pending_issue[slot, cust[keep]] = issue
        self.tally.add(name, effect[keep], cust[keep], landed, len(self.customers))

    def settle(self) -> None:
        """Apply this step's queued shocks, then drift each customer part-way back to baseline."""
        slot = self.step % HORIZON
        issue = self.pending_issue[slot]
        hit = issue >= 0
        self.last_issue[hit] = issue[hit]
        self.last_issue_step[hit] = self.step
        gap = self.customers.baseline - self.latent
        noise = self.rng.normal(0.0, DRIVERS.drift_sd, len(gap)).astype(np.float32)
        self.latent += self.pending[slot] + DRIVERS.recovery * gap + noise
        self.pending[slot] = 0.0
        issue[:] = -1
