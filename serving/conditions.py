"""Rule conditions: a small, safe expression language over a customer's context.

Conditions read like Python (`churn.probability > 0.4 and "vip" in flags`) and are evaluated by
simpleeval, never `eval`. Before that, every condition is checked against an allow-list of syntax:
comparisons, `and`/`or`/`not`, arithmetic, literals, names of the context and `.field` or
`["field"]` look-ups. Calls, imports, lambdas, comprehensions and `_`-prefixed attributes are
refused when the rules are loaded, with the line and column of the offending part.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import AttributeDoesNotExist, EvalWithCompoundTypes, FeatureNotAvailable, InvalidExpression

# The names a condition may read: the context the service builds for each customer.
CONTEXT_NAMES = frozenset(
    {"customer_id", "churn", "scores", "flags", "features", "attributes", "value", "reasons"}
)

_ALLOWED = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
    ast.IfExp, ast.Name, ast.Load, ast.Attribute, ast.Subscript, ast.Constant, ast.List, ast.Tuple,
)  # fmt: skip
_WHY_NOT = {
    ast.Call: "calls are not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.NamedExpr: "assignments are not allowed",
}


class ConditionError(ValueError):
    """A condition that cannot be used, with the 1-based line and column inside the condition."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


@dataclass(frozen=True)
class FieldRef:
    """A field a condition reads (`features.tickets_open` is root features, name tickets_open) and where."""

    root: str
    name: str
    line: int
    column: int


@dataclass(frozen=True)
class Condition:
    """A checked condition, ready to evaluate."""

    text: str
    tree: ast.expr

    def holds(self, context: Mapping[str, Any]) -> bool:
        """Whether the condition is true for `context`.

        Raises:
            ConditionError: when a field is missing or values cannot be compared (the rule's author
                should know; the caller decides whether that stops anything).
        """
        evaluator = _Evaluator(names=dict(context), functions={})
        try:
            return bool(evaluator.eval(self.text, previously_parsed=self.tree))
        except (InvalidExpression, TypeError, KeyError, IndexError, ZeroDivisionError) as exc:
            raise ConditionError(f"cannot evaluate {self.text!r}: {exc}", 1, 1) from exc

    def fields(self) -> list[FieldRef]:
        """The context fields read by name, as `features.x` or `features["x"]`."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.value, ast.Name):
                key = node.attr if isinstance(node, ast.Attribute) else getattr(node.slice, "value", None)
                if isinstance(key, str):
                    found.append(FieldRef(node.value.id, key, *_position(node)))
        return sorted(found, key=lambda f: (f.line, f.column))


def compile_condition(text: str) -> Condition:
    """Parse and check a condition.

    Raises:
        ConditionError: on a syntax error or anything outside the allowed language.
    """
    try:
        # Parentheses let a condition span lines (YAML block scalars) like any Python expression.
        tree = ast.parse(f"({text}\n)", mode="eval")
    except SyntaxError as exc:
        line, column = exc.lineno or 1, exc.offset or 1
        lines = text.split("\n")
        if line > len(lines):  # past the end: the condition stops too early
            line, column = len(lines), len(lines[-1]) + 2
        raise ConditionError(f"syntax error: {exc.msg}", line, max(1, column - (line == 1))) from exc
    for node in ast.walk(tree):
        _check(node)
    return Condition(text, tree.body)


def _position(node: ast.AST) -> tuple[int, int]:
    """The 1-based line and column of a node in the condition as written (of the field, for `.field`)."""
    line, column = getattr(node, "lineno", 1), getattr(node, "col_offset", 1)
    if isinstance(node, ast.Attribute) and node.end_col_offset is not None:
        line, column = node.end_lineno or line, node.end_col_offset - len(node.attr)
    return line, column + (line != 1)  # col_offset is 0-based and line 1 carries the added "("


def _check(node: ast.AST) -> None:
    line, column = _position(node)

    def refuse(message: str) -> None:
        raise ConditionError(message, line, column)

    if not isinstance(node, _ALLOWED):
        refuse(_WHY_NOT.get(type(node), f"{type(node).__name__} is not allowed in a condition"))
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        refuse(f"attribute {node.attr!r} is not allowed (names starting with _ are private)")
    if isinstance(node, ast.Name) and node.id not in CONTEXT_NAMES:
        refuse(f"unknown name {node.id!r}; a condition reads {', '.join(sorted(CONTEXT_NAMES))}")
    if isinstance(node, ast.Subscript) and not (
        isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str | int)
    ):
        refuse('look-ups take a literal key, as in features["name"]')


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with `.field` reading mapping keys only, never Python attributes."""

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise FeatureNotAvailable(f"attribute {node.attr!r} is not allowed")
        base = self._eval(node.value)
        if isinstance(base, Mapping) and node.attr in base:
            return base[node.attr]
        raise AttributeDoesNotExist(node.attr, self.expr)
