"""The workspace config `cx.yml`, read once into frozen, typed objects.

An unknown key or a bad value is an error that names the file, the line and what was expected:
a typo in YAML must never fall back silently to a default.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from features.contract import DEFAULT_METRICS, TABLES, MetricScale

CONFIG_FILE = "cx.yml"

Aggregation = Literal["count", "sum", "mean", "max", "min", "last", "days_since_last", "nunique"]


class Frozen(BaseModel):
    """A config object: immutable, and an unknown key is an error rather than a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricConfig(Frozen):
    """A survey metric declared (or redefined) by the workspace."""

    low: float
    high: float
    negative_max: float | None = None
    negative_min: float | None = None
    description: str = ""

    @model_validator(mode="after")
    def _check_scale(self) -> MetricConfig:
        self.to_scale("this metric")  # MetricScale raises ValueError on a bad scale
        return self

    def to_scale(self, name: str) -> MetricScale:
        """The contract's scale object for this declaration."""
        return MetricScale(name, self.low, self.high, self.negative_max, self.negative_min, self.description)


class ChurnConfig(Frozen):
    """How churn examples are cut: a label is churn within `horizon_days` after a cutoff."""

    horizon_days: Annotated[int, Field(gt=0)] = 90
    cutoffs: tuple[dt.date, ...] = ()
    n_cutoffs: Annotated[int, Field(gt=0)] = 6
    cutoff_every_days: Annotated[int, Field(gt=0)] = 30


class EventAggregation(Frozen):
    """Aggregations of one column of an extra event table (`*` counts rows)."""

    column: str
    aggs: tuple[Aggregation, ...]


class EventTableConfig(Frozen):
    """An extra event table (logins, returns, app crashes...) featurised with no code change."""

    time_column: str
    aggregations: tuple[EventAggregation, ...] = (EventAggregation(column="*", aggs=("count",)),)
    description: str = ""


class WorkspaceConfig(Frozen):
    """Everything a workspace may declare in `cx.yml`; every field has a sensible default."""

    metrics: dict[str, MetricConfig] = {}
    churn: ChurnConfig = ChurnConfig()
    windows_days: tuple[Annotated[int, Field(gt=0)], ...] = (7, 30, 90, 365)
    events: dict[str, EventTableConfig] = {}
    exclude_columns: dict[str, tuple[str, ...]] = {}
    future_tolerance_days: Annotated[int, Field(ge=0)] = 0

    @model_validator(mode="after")
    def _check_events(self) -> WorkspaceConfig:
        clash = set(self.events) & set(TABLES)
        if clash:
            raise ValueError(f"events: {sorted(clash)} are contract tables; declare only new tables")
        return self

    @property
    def scales(self) -> dict[str, MetricScale]:
        """The survey metrics this workspace knows: the defaults plus its own declarations."""
        own = {name: m.to_scale(name) for name, m in self.metrics.items()}
        return {**DEFAULT_METRICS, **own}

    def with_overrides(self, **changes: Any) -> WorkspaceConfig:
        """A copy with CLI flags applied; `None` values mean 'flag not given'."""
        churn = {k: v for k, v in changes.pop("churn", {}).items() if v is not None}
        update = {k: v for k, v in changes.items() if v is not None}
        if churn:
            update["churn"] = self.churn.model_copy(update=churn)
        return WorkspaceConfig.model_validate({**self.model_dump(), **update})


class ConfigError(ValueError):
    """A `cx.yml` that cannot be used; the message names file, line and problem."""


def load_config(workspace: Path) -> WorkspaceConfig:
    """Read `WORKSPACE/cx.yml` (absent means all defaults).

    Raises:
        ConfigError: on malformed YAML, an unknown key or a bad value, naming its line.
    """
    path = Path(workspace) / CONFIG_FILE
    if not path.exists():
        return WorkspaceConfig()
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: line 1: expected a mapping of settings, got {type(data).__name__}")
    try:
        return WorkspaceConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(path, node, exc)) from exc


def _describe(path: Path, root: yaml.Node | None, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"])
        line = _line_of(root, loc)
        where = ".".join(loc) or "(top level)"
        problem = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
        lines.append(f"{path}: line {line}: {where}: {problem}")
    return "\n".join(lines)


def _line_of(node: yaml.Node | None, loc: tuple[str, ...]) -> int:
    """The 1-based line of the deepest YAML node that `loc` reaches."""
    line = node.start_mark.line + 1 if node is not None else 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if str(k.value) == part), None)
            if match is None:
                return line
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
            line = node.start_mark.line + 1
        else:
            return line
    return line
