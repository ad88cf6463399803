"""The simulation's clock: `months` calendar months ending at `end`, each cut into four steps.

Times are int64 seconds since the Unix epoch (UTC) throughout the generator; they become Arrow
timestamps only when a table is written.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from dataclasses import dataclass

import numpy as np

STEPS_PER_MONTH = 4
DAY = 86_400


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _seconds(day: dt.date) -> int:
    return int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp())


@dataclass(frozen=True)
class TimeGrid:
    """Step boundaries in seconds; step `k` covers `[bounds[k], bounds[k + 1])`.

    Attributes:
        bounds: int64 seconds, one more than the number of steps; the last is midnight at the
            start of the end date, so no generated moment lies after `end`.
        month_steps: for each month, the index of its last step (where a truth snapshot is taken).
    """

    bounds: np.ndarray
    month_steps: np.ndarray
    start_date: dt.date
    end_date: dt.date

    @property
    def steps(self) -> int:
        """Number of steps."""
        return len(self.bounds) - 1

    @property
    def start(self) -> int:
        """First second of the window."""
        return int(self.bounds[0])

    @property
    def end(self) -> int:
        """The window's exclusive upper bound in seconds."""
        return int(self.bounds[-1])

    def step_of(self, seconds: np.ndarray) -> np.ndarray:
        """The step holding each moment; `steps` (one past the last) for moments at or after the end."""
        return np.searchsorted(self.bounds, seconds, side="right") - 1

    def step_nearest(self, seconds: int) -> int:
        """The step whose end lies closest to a moment."""
        return int(np.abs(self.bounds[1:] - seconds).argmin())


def build_grid(end: dt.date, months: int) -> TimeGrid:
    """Split `months` months before `end` into steps of a quarter month."""
    if months < 1:
        raise ValueError(f"months must be at least 1, got {months}")
    days = [_seconds(_add_months(end, -months + i)) for i in range(months + 1)]
    parts = [
        np.linspace(a, b, STEPS_PER_MONTH, endpoint=False).astype(np.int64)
        for a, b in itertools.pairwise(days)
    ]
    bounds = np.concatenate([*parts, [days[-1]]]).astype(np.int64)
    month_steps = np.arange(1, months + 1) * STEPS_PER_MONTH - 1
    return TimeGrid(bounds, month_steps, _add_months(end, -months), end)
