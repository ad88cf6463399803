"""Rule conditions: a small, safe expression language over a customer's context.

Conditions read like Python (`churn.probability > 0.4 and "vip" in flags`) and are evaluated by
simpleeval, never `eval`. Before that, every condition is checked against an allow-list of syntax:
comparisons, `and`/`or`/`not`, arithmetic, literals, names of the context and `.field` or
`["field"]` look-ups. Calls, imports, lambdas, comprehensions and `_`-prefixed attributes are
refused when the rules are loaded, with the line and column of the offending part.

Conditions are bounded in cost, so that no rule can hold the service up: at load, a condition's
length, node count, nesting depth and literals are capped and arithmetic on literal sequences or
strings (repetition, `%` formatting) is refused; at evaluation, arithmetic takes numbers only and
each evaluation has a step and time budget.
"""

from __future__ import annotations

import ast
import operator
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from simpleeval import (
    DEFAULT_OPERATORS,
    AttributeDoesNotExist,
    EvalWithCompoundTypes,
    FeatureNotAvailable,
    InvalidExpression,
)

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


MAX_LENGTH = 2000  # characters of a condition
MAX_NODES = 300  # syntax nodes: names, operators, literals
MAX_DEPTH = 40  # nesting; a 600-term sum or `not not ... x` nests one level per term
MAX_TEXT_LITERAL = 500  # characters of a string literal
MAX_NUMBER = 10**15  # an integer literal larger than this is a typo (and big integers cost time)
BUDGET_STEPS = 10 * MAX_NODES  # nodes evaluated per evaluation
BUDGET_S = 0.25  # wall time per evaluation


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
        evaluator = _Evaluator(names=dict(context), functions={}, operators=_OPERATORS)
        try:
            return bool(evaluator.eval(self.text, previously_parsed=self.tree))
        except (InvalidExpression, TypeError, KeyError, IndexError, ArithmeticError) as exc:
            raise ConditionError(f"cannot evaluate {self.text!r}: {exc}", 1, 1) from exc
        except (RecursionError, MemoryError) as exc:
            raise ConditionError(f"cannot evaluate {self.text!r}: too costly", 1, 1) from exc

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
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"a condition has at most {MAX_LENGTH} characters (this one {len(text)})", 1, 1)
    try:
        # Parentheses let a condition span lines (YAML block scalars) like any Python expression.
        tree = ast.parse(f"({text}\n)", mode="eval")
    except (RecursionError, MemoryError) as exc:
        raise ConditionError(f"nested too deeply (at most {MAX_DEPTH} levels)", 1, 1) from exc
    except ValueError as exc:  # a NUL in the text, on older Pythons
        raise ConditionError(f"syntax error: {exc}", 1, 1) from exc
    except SyntaxError as exc:
        line, column = exc.lineno or 1, exc.offset or 1
        lines = text.split("\n")
        if line > len(lines):  # past the end: the condition stops too early
            line, column = len(lines), len(lines[-1]) + 2
        raise ConditionError(f"syntax error: {exc.msg}", line, max(1, column - (line == 1))) from exc
    _check_cost(tree)
    for node in ast.walk(tree):
        _check(node)
    return Condition(text, tree.body)


def _check_cost(tree: ast.AST) -> None:
    """Refuse a condition too large or too deep to evaluate cheaply (walked without recursion)."""
    stack, count = [(tree, 0)], 0
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ConditionError(f"too long: at most {MAX_NODES} names, operators and values", 1, 1)
        if depth > MAX_DEPTH:
            raise ConditionError(f"nested too deeply (at most {MAX_DEPTH} levels)", *_position(node))
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))


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
    if isinstance(node, ast.Constant):
        _check_literal(node.value, refuse)
    if isinstance(node, ast.BinOp) and any(_is_sequence(side) for side in (node.left, node.right)):
        refuse("arithmetic takes numbers (no repeating lists or strings, no % formatting)")
    if isinstance(node, ast.Subscript) and not (
        isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str | int)
    ):
        refuse('look-ups take a literal key, as in features["name"]')


def _check_literal(value: object, refuse: Callable[[str], None]) -> None:
    if isinstance(value, str) and len(value) > MAX_TEXT_LITERAL:
        refuse(f"a text literal has at most {MAX_TEXT_LITERAL} characters")
    if isinstance(value, int) and abs(value) > MAX_NUMBER:
        refuse(f"a number literal is at most {MAX_NUMBER:.0e} in size")
    if isinstance(value, bytes | complex):
        refuse(f"{type(value).__name__} literals are not allowed")


def _is_sequence(node: ast.AST) -> bool:
    return isinstance(node, ast.List | ast.Tuple) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _numbers(operation: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """`operation` on numbers only: a field holding text or a list cannot be repeated or formatted."""

    def apply(a: Any, b: Any) -> Any:
        if not (isinstance(a, int | float) and isinstance(b, int | float)):
            raise TypeError(f"arithmetic takes numbers, got {type(a).__name__} and {type(b).__name__}")
        return operation(a, b)

    return apply


_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod)
_OPERATORS = DEFAULT_OPERATORS | {
    kind: _numbers(getattr(operator, name))
    for kind, name in zip(_ARITHMETIC, ("add", "sub", "mul", "truediv", "floordiv", "mod"), strict=True)
}


class _Evaluator(EvalWithCompoundTypes):
    """simpleeval with `.field` reading mapping keys only, never Python attributes, and a budget."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._steps, self._deadline = 0, time.monotonic() + BUDGET_S

    def _eval(self, node: ast.AST) -> Any:
        self._steps += 1
        if self._steps > BUDGET_STEPS or time.monotonic() > self._deadline:
            raise ArithmeticError(f"over its budget ({BUDGET_STEPS} steps, {BUDGET_S:g} s)")
        return super()._eval(node)

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        if node.attr.startswith("_"):
            raise FeatureNotAvailable(f"attribute {node.attr!r} is not allowed")
        base = self._eval(node.value)
        if isinstance(base, Mapping) and node.attr in base:
            return base[node.attr]
        raise AttributeDoesNotExist(node.attr, self.expr)
