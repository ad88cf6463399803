"""Problems found in a workspace, each pinned to a file, row, column and rule."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One broken rule of the data contract.

    Attributes:
        file: the file's name inside the workspace (`surveys.csv`).
        row: 1-based row as a spreadsheet shows it (the header is row 1), or None for the file.
        column: the column concerned, or None for the whole row or file.
        rule: the rule that was broken, in words.
        value: the offending value, as text, if there is one.
    """

    file: str
    row: int | None
    column: str | None
    rule: str
    value: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        got = f" (got {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.rule}{got}"


class WorkspaceError(Exception):
    """A workspace that breaks the contract; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sort_problems(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the workspace:\n{shown}{more}")


class DataProblem(ValueError):
    """The data cannot support a step: the message is one sentence that names what it lacks.

    A `ValueError`, so callers that already stop on bad input stop on this too; the CLI prints
    the sentence and exits 2.
    """


def sort_problems(problems: list[Problem]) -> list[Problem]:
    """By file, then row (file-level problems first), then column and rule."""
    return sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or "", p.rule))
