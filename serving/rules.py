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

`serving.rules_file` reads the file and reports every problem at once, with its line and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, model_validator

from features.config import Frozen
from serving.conditions import Condition

Days = Annotated[float, Field(ge=0)]
Url = Annotated[str, Field(pattern=r"^https?://[^\s/]+")]
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Team = Annotated[str, Field(min_length=1, max_length=100)]


class NotifyAction(Frozen):
    """POST a signed JSON body about the customer to a team's webhook."""

    team: Team
    url: Url
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"notify {self.team}"


class SurveyAction(Frozen):
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


class WorklistAction(Frozen):
    """Put the customer on a team's worklist; higher priority is contacted first."""

    team: Team
    priority: Annotated[int, Field(ge=0, le=1000)] = 50
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"worklist {self.team} priority {self.priority}"


class FlagAction(Frozen):
    """Mark the customer with a flag that agents see."""

    name: Name
    cooldown_days: Days | None = None

    def summary(self) -> str:
        """The action in a few words."""
        return f"flag {self.name}"


class ActionItem(Frozen):
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


class RuleSpec(Frozen):
    """A rule as written."""

    name: Name
    when: Annotated[str, Field(min_length=1)]
    cooldown_days: Days = 0
    enabled: bool = True
    description: str | None = None
    actions: Annotated[list[ActionItem], Field(min_length=1)]


class RulesSpec(Frozen):
    """The whole file."""

    rules: list[RuleSpec] = Field(default_factory=list)


@dataclass(frozen=True)
class Rule:
    """A checked rule with its compiled condition."""

    spec: RuleSpec
    condition: Condition

    def cooldown_days(self, action: ActionItem) -> float:
        """The action's own cooldown, else the rule's."""
        own = action.spec.cooldown_days
        return self.spec.cooldown_days if own is None else own


def describe(rule: Rule) -> dict[str, str]:
    """A rule in plain words: its name, condition and each action with its cooldown."""
    parts = []
    for action in rule.spec.actions:
        cooldown = rule.cooldown_days(action)
        parts.append(action.spec.summary() + (f", cooldown {cooldown:g} d" if cooldown else ""))
    state = "" if rule.spec.enabled else " (disabled)"
    return {"rule": rule.spec.name + state, "when": rule.spec.when, "actions": "; ".join(parts)}
