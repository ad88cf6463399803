"""Reading `rules.yml`: every problem at once, each with the line and column it is at in the file.

Problems come from three places: the YAML itself, the shape of the rules (pydantic, whose error
locations are walked back to YAML nodes) and the conditions (whose positions inside the expression
are moved to the file, for plain, quoted and block scalars).
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from serving.conditions import ConditionError, compile_condition
from serving.rules import Rule, RulesSpec

RULES_FILE = "rules.yml"
MAX_BYTES = 1_000_000
Known = Mapping[str, Collection[str]]


@dataclass(frozen=True)
class RuleProblem:
    """One problem in a rules file, at a 1-based line and column."""

    line: int
    column: int
    message: str


class RulesError(ValueError):
    """A rules file that cannot be used; `problems` holds every problem found."""

    def __init__(self, path: Path, problems: list[RuleProblem]) -> None:
        self.path, self.problems = path, problems
        super().__init__("\n".join(f"{path}:{p.line}:{p.column}: {p.message}" for p in problems))


def load_rules(path: Path, known: Known | None = None) -> list[Rule]:
    """Read and check a rules file; a missing file means no rules.

    Args:
        path: the rules file.
        known: the names each context field has in this workspace (`{"features": {...}, ...}`); a
            condition reading any other name of those fields is a problem (it could never fire).

    Raises:
        RulesError: naming every problem with its line and column.
    """
    if not path.exists():
        return []
    text = _read(path)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        why = " ".join(str(getattr(exc, "problem", None) or exc).split())  # one line, however YAML words it
        raise RulesError(path, [RuleProblem(line, column, f"not valid YAML: {why}")]) from exc
    problems = _condition_problems(data, root, text.splitlines(), known or {})
    try:
        spec = RulesSpec.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(root, err) for err in exc.errors()]
    if problems:
        raise RulesError(path, sorted(problems, key=lambda p: (p.line, p.column)))
    return [Rule(rule, compile_condition(rule.when)) for rule in spec.rules]


def _read(path: Path) -> str:
    """The file's text.

    Raises:
        RulesError: for a file too large to be a rules file, or one that is not UTF-8 text.
    """
    data = path.read_bytes()
    if len(data) > MAX_BYTES:
        raise RulesError(path, [RuleProblem(1, 1, f"larger than {MAX_BYTES} bytes: not a rules file")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise RulesError(path, [RuleProblem(line, column, "not UTF-8 text: save the file as UTF-8")]) from exc


def _problem(root: yaml.Node | None, err: Any) -> RuleProblem:
    loc = tuple(err["loc"])
    line, column = _mark(_node_at(root, loc, key=err["type"] == "extra_forbidden"))
    where = ".".join(str(p) for p in loc) or "(top level)"
    problem = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    return RuleProblem(line, column, f"{where}: {problem}")


def _condition_problems(
    data: Any, root: yaml.Node | None, lines: list[str], known: Known
) -> list[RuleProblem]:
    """Problems of the conditions and names, found even where the rest of a rule is broken."""
    rules = data.get("rules") if isinstance(data, dict) else None
    problems, seen = [], set()
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name, when = (rule.get("name"), rule.get("when")) if isinstance(rule, dict) else (None, None)
        if isinstance(name, str) and name in seen:
            line, column = _mark(_node_at(root, ("rules", index, "name")))
            problems.append(RuleProblem(line, column, f"rule {name!r}: name used twice"))
        seen.add(name)
        for exc in _condition_errors(when, known) if isinstance(when, str) else []:
            line, column = _condition_mark(_node_at(root, ("rules", index, "when")), exc, lines)
            problems.append(RuleProblem(line, column, f"rule {name!r}: when: {exc.message}"))
    return problems


def _condition_errors(when: str, known: Known) -> list[ConditionError]:
    try:
        fields = compile_condition(when).fields()
    except ConditionError as exc:
        return [exc]
    errors = []
    for field in (f for f in fields if f.root in known and f.name not in known[f.root]):
        close = difflib.get_close_matches(field.name, sorted(known[field.root]), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        message = f"{field.root} has no {field.name!r} in this workspace{hint}"
        errors.append(ConditionError(message, field.line, field.column))
    return errors


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...], key: bool = False) -> yaml.Node | None:
    """The deepest YAML node that `loc` (a pydantic error location) reaches; the key's node if `key`."""
    for depth, part in enumerate(loc, 1):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if str(k.value) == str(part)), None)
            match = None if pair is None else pair[0 if key and depth == len(loc) else 1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            match = node.value[part]
        else:
            match = None
        if match is None:
            break
        node = match
    return node


def _mark(node: yaml.Node | None) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1) if node is not None else (1, 1)


def _condition_mark(node: yaml.Node | None, exc: ConditionError, lines: list[str]) -> tuple[int, int]:
    """Where in the file a position inside a condition is, for plain, quoted and block scalars."""
    if node is None:
        return 1, 1
    line, column = _mark(node)
    style = getattr(node, "style", None)
    if style in ("|", ">"):  # the text starts on the next line, at that line's indentation
        first = lines[line] if line < len(lines) else ""
        return line + exc.line, len(first) - len(first.lstrip()) + exc.column
    if exc.line > 1:
        return line + exc.line - 1, exc.column
    return line, column + exc.column - 1 + (style in ("'", '"'))
