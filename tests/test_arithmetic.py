"""Arithmetic and joining in expressions (issue 17, item 7): parsed with the usual
precedence, printed back to the same tree, typed, and total at run time (dividing by
zero gives 0). The oracle is an evaluation of the generated tree itself, not rolegraph's."""

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.runtime import MockModel, run_agent
from rolegraph.runtime.expressions import evaluate

OPS = ["+", "-", "*", "/", "%"]

trees = st.recursive(
    st.integers(0, 20),
    lambda inner: st.tuples(inner, st.sampled_from(OPS), inner),
    max_leaves=8,
)


def value(tree):
    """The tree's value as the docs define it: `/` is true division, and dividing (or
    taking a remainder) by zero gives 0."""
    if isinstance(tree, int):
        return tree
    left, op, right = value(tree[0]), tree[1], value(tree[2])
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right if right else 0.0
    return left % right if right else 0


def text(tree):
    """Fully parenthesised source: the oracle does not rely on rolegraph's precedence."""
    if isinstance(tree, int):
        return str(tree)
    return f"({text(tree[0])} {tree[1]} {text(tree[2])})"


def parse_expr(source: str) -> ast.Node:
    module = rolegraph.parse(f'model m = "mock"\nagent A() -> float {{\n  return {source}\n}}\n')
    (statement,) = module.find_all(ast.ReturnStmt)
    return statement.value


@settings(max_examples=300, derandomize=True, deadline=None)
@given(trees)
def test_arithmetic_evaluates_as_the_tree_says(tree):
    expr = parse_expr(text(tree))
    assert evaluate(expr, {}) == pytest.approx(value(tree))


@settings(max_examples=300, derandomize=True, deadline=None)
@given(trees)
def test_printing_with_the_fewest_parentheses_keeps_the_tree(tree):
    module = rolegraph.parse(
        f'model m = "mock"\nagent A() -> float {{\n  return {text(tree)}\n}}\n'
    )
    printed = rolegraph.to_source(module)
    assert rolegraph.parse(printed) == module
    assert printed.count("(") <= text(tree).count("(") + 1  # (the agent's own parentheses)


@pytest.mark.parametrize(
    ("source", "expected"),
    [("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("10 - 4 - 3", 3), ("7 / 2", 3.5), ("7 % 0", 0),
     ("2 * 3 % 4", 2), ("1 / 0 + 1", 1.0)],
)  # fmt: skip
def test_precedence_and_associativity_are_the_usual_ones(source, expected):
    assert evaluate(parse_expr(source), {}) == expected


PRELUDE = """model m = "mock"
type A { text: str, score: float, tags: list[str], note: str? }
role R(task: str, tags: list[str] = [], n: float = 0.0) -> A {
  model m
  prompt "{{ task }} {{ tags }} {{ n }}"
}
"""


def test_strings_and_lists_join_with_plus_and_numbers_compute():
    body = """agent X(task: str) -> A {
  a = R(task: "say " + task)
  b = R(task: a.text + "!", tags: a.tags + ["extra"], n: a.score * 10 - 1)
  return b
}
"""
    ir = rolegraph.load_agent("x.agent", text=PRELUDE + body)
    script = {"R": [{"text": "hi", "score": 0.5, "tags": ["t"], "note": None}]}
    outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel(script)))
    inputs = {r.node: r.inputs for r in outcome.trace.firings}
    assert inputs["a"]["task"] == "say t"
    assert inputs["b"] == {"task": "hi!", "tags": ["t", "extra"], "n": 4.0}


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ('"a" - 1', "cannot compute `str` - `int`"),
        ('a.tags + "x"', "cannot compute `list[str]` + `str`"),
        ('a.note + "x"', "cannot compute `str?` + `str`"),
    ],
)
def test_arithmetic_is_type_checked(expr, message):
    body = f"agent X(task: str) -> A {{\n  a = R(task)\n  b = R(task: {expr})\n  return b\n}}\n"
    with pytest.raises(DiagnosticError) as caught:
        rolegraph.load_agent("x.agent", text=PRELUDE + body)
    assert any(message in d.message for d in caught.value.diagnostics), caught.value
