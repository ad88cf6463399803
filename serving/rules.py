"""The rules CX managers write in `rules.yml`: when a condition holds, which actions to take.

```yaml
rules:
  - name: churn-alert
    when: churn.probability > 0.4 and features.deliveries_late_count_30d >= 1
    cooldown_days: 7                       # default for each action below
    actions:
      - notify: {team: retention, url: "https://hooks.example.com/cx"}
      - worklist: {team: retention, priority: 90}
      - flag: churn-risk
      - survey: {metric: nps, url: "https://surveys.example.com/invite", fatigue_days: 30, quota_per_day: 500}
```

Every problem is reported at once, each with the line and column it is at.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from serving.conditions import Condition, ConditionError, compile_condition

RULES_FILE = "rules.yml"
Days = Annotated[float, Field(ge=0)]
Url = Annotated[str, Field(pattern=r"^https?://[^\s/]+")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NotifyAction(_Frozen):
    """POST a signed JSON body about the customer to a team's webhook."""

    team: Name
    url: Url
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"notify {self.team}"


class SurveyAction(_Frozen):
    """Invite the customer to a survey, at most once per `fatigue_days` and `quota_per_day` in all."""

    metric: Name
    url: Url
    fatigue_days: Days = 30
    quota_per_day: Annotated[int, Field(ge=0)] | None = None
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        quota = "" if self.quota_per_day is None else f", {self.quota_per_day} a day"
        return f"survey {self.metric} (once per {self.fatigue_days:g} d{quota})"


class WorklistAction(_Frozen):
    """Put the customer on a team's worklist; higher priority is contacted first."""

    team: Name
    priority: Annotated[int, Field(ge=0, le=1000)] = 50
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"worklist {self.team} priority {self.priority}"


class FlagAction(_Frozen):
    """Mark the customer with a flag that agents see."""

    name: Name
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"flag {self.name}"


class ActionItem(_Frozen):
    """One action of a rule: exactly one of its keys."""

    notify: NotifyAction | None = None
    survey: SurveyAction | None = None
    worklist: WorklistAction | None = None
    flag: Name | FlagAction | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ActionItem:
        if len([k for k in self.model_fields_set if getattr(self, k) is not None]) != 1:
            raise ValueError("an action is exactly one of notify, survey, worklist, flag")
        return self

    @property
    def kind(self) -> str:
        """notify, survey, worklist or flag."""
        return next(iter(self.model_fields_set))

    @property
    def spec(self) -> NotifyAction | SurveyAction | WorklistAction | FlagAction:
        """The action's settings (a bare flag name becomes a FlagAction)."""
        value = getattr(self, self.kind)
        return FlagAction(name=value) if isinstance(value, str) else value


class RuleSpec(_Frozen):
    """A rule as written."""

    name: Name
    when: Annotated[str, Field(min_length=1)]
    cooldown_days: Days = 0
    enabled: bool = True
    description: str | None = None
    actions: Annotated[list[ActionItem], Field(min_length=1)]


class RulesSpec(_Frozen):
    """The whole file."""

    rules: list[RuleSpec] = []


@dataclass(frozen=True)
class Rule:
    """A checked rule with its compiled condition."""

    spec: RuleSpec
    condition: Condition

    def cooldown_days(self, action: ActionItem) -> float:
        """The action's own cooldown, else the rule's."""
        own = action.spec.cooldown_days
        return self.spec.cooldown_days if own is None else own


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


def load_rules(path: Path) -> list[Rule]:
    """Read and check a rules file; a missing file means no rules.

    Raises:
        RulesError: naming every problem with its line and column.
    """
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise RulesError(path, [RuleProblem(line, column, f"not valid YAML: {exc}")]) from exc
    problems = _condition_problems(data, root, text.splitlines())
    try:
        spec = RulesSpec.model_validate(data)
    except ValidationError as exc:
        problems += [_problem(root, err) for err in exc.errors()]
    if problems:
        raise RulesError(path, sorted(problems, key=lambda p: (p.line, p.column)))
    return [Rule(rule, compile_condition(rule.when)) for rule in spec.rules]


def _problem(root: yaml.Node | None, err: Any) -> RuleProblem:
    loc = tuple(err["loc"])
    line, column = _mark(_node_at(root, loc, key=err["type"] == "extra_forbidden"))
    where = ".".join(str(p) for p in loc) or "(top level)"
    problem = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
    return RuleProblem(line, column, f"{where}: {problem}")


def _condition_problems(data: Any, root: yaml.Node | None, lines: list[str]) -> list[RuleProblem]:
    """Problems of the conditions and names, found even where the rest of a rule is broken."""
    rules = data.get("rules") if isinstance(data, dict) else None
    problems, seen = [], set()
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name, when = (rule.get("name"), rule.get("when")) if isinstance(rule, dict) else (None, None)
        if isinstance(name, str) and name in seen:
            line, column = _mark(_node_at(root, ("rules", index, "name")))
            problems.append(RuleProblem(line, column, f"rule {name!r}: name used twice"))
        seen.add(name)
        if not isinstance(when, str):
            continue
        try:
            compile_condition(when)
        except ConditionError as exc:
            line, column = _condition_mark(_node_at(root, ("rules", index, "when")), exc, lines)
            problems.append(RuleProblem(line, column, f"rule {name!r}: when: {exc.message}"))
    return problems


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


def describe(rule: Rule) -> dict[str, str]:
    """A rule in plain words: its name, condition and each action with its cooldown."""
    parts = []
    for action in rule.spec.actions:
        cooldown = rule.cooldown_days(action)
        parts.append(action.spec.summary() + (f", cooldown {cooldown:g} d" if cooldown else ""))
    state = "" if rule.spec.enabled else " (disabled)"
    return {"rule": rule.spec.name + state, "when": rule.spec.when, "actions": "; ".join(parts)}
