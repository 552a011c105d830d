"""Evaluate expressions (guards, arguments, ports, return values) on runtime values.

The checker has already typed every expression, so evaluation is direct: a reference
looks up its head in the environment (agent parameters, node outputs, a map's item) and
follows fields; a head that names nothing there is an enum (`Route.math` is "math").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rolegraph.compiler import ast

_COMPARE = {
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


class EvaluationError(Exception):
    """An expression could not be evaluated on these values (a none in a comparison...)."""


def evaluate(expr: ast.Node, env: Mapping[str, Any]) -> Any:
    if isinstance(expr, ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit):
        return expr.value
    if isinstance(expr, ast.NullLit):
        return None
    if isinstance(expr, ast.Ref):
        return _ref(expr, env)
    if isinstance(expr, ast.ListLit):
        return [evaluate(item, env) for item in expr.items]
    if isinstance(expr, ast.DictLit):
        return {entry.key: evaluate(entry.value, env) for entry in expr.entries}
    if isinstance(expr, ast.Not):
        return not evaluate(expr.operand, env)
    if isinstance(expr, ast.BoolOp):
        left = evaluate(expr.left, env)
        if expr.op == "and":
            return left and evaluate(expr.right, env)
        return left or evaluate(expr.right, env)
    if isinstance(expr, ast.Compare):
        left, right = evaluate(expr.left, env), evaluate(expr.right, env)
        try:
            return _COMPARE[expr.op](left, right)
        except TypeError as error:
            raise EvaluationError(f"cannot compare {left!r} {expr.op} {right!r}") from error
    if isinstance(expr, ast.Call) and expr.func == "len":
        return len(evaluate(expr.args[0], env))
    raise EvaluationError(f"cannot evaluate {type(expr).__name__}")


def _ref(expr: ast.Ref, env: Mapping[str, Any]) -> Any:
    if expr.head not in env:
        return expr.parts[-1]  # an enum member: the checker made sure of it
    value = env[expr.head]
    for part in expr.parts[1:]:
        if value is None:
            return None  # through an optional: none
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


def references(expr: ast.Node | None) -> set[str]:
    if expr is None:
        return set()
    return {ref.head for ref in expr.find_all(ast.Ref)}
