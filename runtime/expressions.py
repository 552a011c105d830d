"""Evaluate expressions (guards, arguments, ports, return values) on runtime values.

The checker has already typed every expression, so evaluation is direct: a reference
looks up its head in the environment (agent parameters, node outputs, a map's item) and
follows fields; a head that names nothing there is an enum (`Route.math` is "math").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.builtins import IMPLEMENTATIONS
from rolegraph.compiler.dataflow import READS, read_key, ref_heads

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


def _divide(a: Any, b: Any) -> float:
    return a / b if b else 0.0  # total: dividing by zero gives 0 (as in Pony)


def _remainder(a: Any, b: Any) -> Any:
    return a % b if b else 0


_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _divide,
    "%": _remainder,
}


class EvaluationError(Exception):
    """An expression could not be evaluated on these values (a none in a comparison...)."""


Evaluator = Callable[[Mapping[str, Any]], Any]


def evaluate(expr: ast.Node, env: Mapping[str, Any]) -> Any:
    """`expr` on `env`, compiled for this one use: what runs evaluate again and again is
    compiled once, into the plan (runtime/plan.py)."""
    return compile_expression(expr)(env)


def compile_expression(expr: ast.Node) -> Evaluator:
    """`expr` as a function of the environment."""
    return _compile(expr)


def _compile(expr: ast.Node) -> Evaluator:
    if isinstance(expr, ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit):
        constant = expr.value
        return lambda env: constant
    if isinstance(expr, ast.NullLit):
        return lambda env: None
    if isinstance(expr, ast.Ref):
        return _compile_ref(expr)
    if isinstance(expr, ast.ListLit):
        items = [_compile(item) for item in expr.items]
        return lambda env: [item(env) for item in items]
    if isinstance(expr, ast.DictLit):
        entries = [(entry.key, _compile(entry.value)) for entry in expr.entries]
        return lambda env: {key: value(env) for key, value in entries}
    if isinstance(expr, ast.Not):
        operand = _compile(expr.operand)
        return lambda env: not operand(env)
    if isinstance(expr, ast.BoolOp):
        left, right = _compile(expr.left), _compile(expr.right)
        if expr.op == "and":
            return lambda env: left(env) and right(env)
        return lambda env: left(env) or right(env)
    if isinstance(expr, ast.Compare):
        return _compile_compare(expr)
    if isinstance(expr, ast.Arith):
        left, right, apply = _compile(expr.left), _compile(expr.right), _ARITH[expr.op]
        return lambda env: apply(left(env), right(env))
    if isinstance(expr, ast.Call) and expr.func in IMPLEMENTATIONS:
        function = IMPLEMENTATIONS[expr.func]
        arguments = [_compile(argument) for argument in expr.args]
        return lambda env: function(*(argument(env) for argument in arguments))
    if isinstance(expr, ast.Call) and expr.func in READS:
        # what the firing read before it started (the executor put it there)
        key = read_key(expr.func, expr.args[0].parts[0])
        empty: list[Any] | None = [] if expr.func == "history" else None
        return lambda env: env.get(key, empty)
    message = f"cannot evaluate {type(expr).__name__}"

    def unknown(env: Mapping[str, Any]) -> Any:
        raise EvaluationError(message)

    return unknown


def _compile_ref(expr: ast.Ref) -> Evaluator:
    head, fields, member = expr.parts[0], expr.parts[1:], expr.parts[-1]
    if not fields:
        # a name of the environment, or else an enum member: the checker made sure of it
        return lambda env: env.get(head, member)

    def ref(env: Mapping[str, Any]) -> Any:
        if head not in env:
            return member
        value = env[head]
        for part in fields:
            if value is None:
                return None  # through an optional: none
            value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
        return value

    return ref


def _compile_compare(expr: ast.Compare) -> Evaluator:
    left, right, compare, op = _compile(expr.left), _compile(expr.right), _COMPARE[expr.op], expr.op

    def comparison(env: Mapping[str, Any]) -> Any:
        a, b = left(env), right(env)
        try:
            return compare(a, b)
        except TypeError:
            # an ordering with none (an empty list's `max`, an optional field) is false;
            # anything else the checker's types rule out
            if a is None or b is None:
                return False
            raise EvaluationError(f"cannot compare {a!r} {op} {b!r}") from None

    return comparison


def holds(expr: ast.Node) -> Callable[[Mapping[str, Any]], bool]:
    """A test of whether `expr` is true in an environment; one that cannot be evaluated
    there (a none in a comparison...) is not."""
    evaluator = compile_expression(expr)

    def test(env: Mapping[str, Any]) -> bool:
        try:
            return bool(evaluator(env))
        except EvaluationError:
            return False

    return test


def references(expr: ast.Node | None) -> set[str]:
    """Every name `expr` reads (`compiler/dataflow.py` `ref_heads`)."""
    return set(ref_heads(expr))
