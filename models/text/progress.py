"""How long text work reports its progress: a stage name, units done and units in all.

The library calls a `Report` after each chunk of work; the CLI turns the calls into progress bars
with count, rate and time left, and a library caller that wants silence passes `quiet`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Report = Callable[[str, int, int], None]
T = TypeVar("T")

REDACTING, ENCODING, FITTING = "redacting", "encoding", "fitting heads"


def quiet(stage: str, done: int, total: int) -> None:
    """A report that says nothing."""


def chunks(items: Sequence[T], size: int, stage: str, report: Report) -> Iterator[Sequence[T]]:
    """`items` in slices of `size`, reporting each slice as done once the caller has handled it."""
    report(stage, 0, len(items))
    for lo in range(0, len(items), size):
        yield items[lo : lo + size]
        report(stage, min(lo + size, len(items)), len(items))
