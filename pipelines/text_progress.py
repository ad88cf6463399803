"""Progress bars for text work: one bar per stage, with count, rate and time left."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from models.text.progress import Report


class RateColumn(ProgressColumn):
    """Units per second of a task (texts/s, heads/s), once it has a measured speed."""

    def render(self, task: Task) -> Text:
        """The rate, or nothing before the first update."""
        return Text("" if task.speed is None else f"{task.speed:,.1f}/s", style="progress.data.speed")


@contextmanager
def progress_bars(console: Console) -> Iterator[Report]:
    """A `Report` that draws a bar per stage (redacting, encoding, fitting heads) while the block runs.

    Bars are drawn only on a terminal: in a pipe or a log they would be one frozen frame of noise
    between the lines a script reads.
    """
    columns = (
        TextColumn("  {task.description:<14}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
    )
    tasks: dict[str, TaskID] = {}
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal) as bars:

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bars.add_task(stage, total=total)
            bars.update(tasks[stage], completed=done, total=total)

        yield report
