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
from rolegraph.runtime import MockModel, Stalled, run_agent
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


# -- in temporal formulas: conditions, `enforce` shields and test expectations ------------


@settings(max_examples=200, derandomize=True, deadline=None)
@given(trees)
def test_arithmetic_in_a_formula_evaluates_and_prints_as_the_tree_says(tree):
    source = PRELUDE + "agent X(task: str) -> A {\n  a = R(task)\n  return a\n"
    source += f"  ensure always(a -> {text(tree)} >= a.score)\n}}\n"
    module = rolegraph.parse(source)
    (condition,) = [h.expr for h in module.find_all(ast.LtlHolds)]
    assert evaluate(condition.left, {}) == pytest.approx(value(tree))
    assert rolegraph.parse(rolegraph.to_source(module)) == module


def _test_block(expect: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from rolegraph.cli import app

    body = (
        "agent X(task: str) -> A {\n  a = R(task)\n  return a\n}\n"
        'test t {\n  run X(task: "go")\n'
        '  mock R [{text: "hi", score: 0.5, tags: ["x", "y"], note: none}]\n'
        f"  expect {expect}\n}}\n"
    )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "x.agent")
        path.write_text(PRELUDE + body)
        result = CliRunner().invoke(app, ["test", str(path)])
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("expect", "passes"),
    [
        ("eventually (a.score * 4 + 1 == 3)", True),
        ("eventually (a.score * 4 + 1 == 4)", False),
        ("eventually ((a.score + 0.5) * 2 == 2)", True),
        ('eventually (len(a.tags) - 1 == 1 and a.text + "!" == "hi!")', True),
        ("always (a -> a.score / 0 == 0)", True),  # total: dividing by zero gives 0
    ],
)
def test_test_blocks_expect_arithmetic(expect, passes):
    code, output = _test_block(expect)
    assert (code == 0) == passes, output


def test_a_formula_in_parentheses_is_not_a_value():
    from rolegraph.grammar import parse_module

    text_ = PRELUDE + "agent X(task: str) -> A {\n  a = R(task)\n  return a\n"
    text_ += "  ensure always((eventually a) + 1 > 2)\n}\n"
    (diagnostic,) = parse_module(text_, "x.agent").diagnostics
    assert diagnostic.message == "a temporal formula is not a value"
    assert (diagnostic.span.line, diagnostic.span.column) == (10, 17)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("a.score + 1", "a condition in a formula must be a bool, found `float`"),
        ('a.score + "x" > 1', "cannot compute `float` + `str`"),
    ],
)
def test_arithmetic_in_a_formula_is_type_checked(condition, message):
    body = "agent X(task: str) -> A {\n  a = R(task)\n  return a\n"
    body += f"  ensure always(a -> {condition})\n}}\n"
    checked = rolegraph.check_source(PRELUDE + body, "x.agent")
    assert any(message in d.message for d in checked.errors), [str(d) for d in checked.errors]


def test_an_enforce_shield_decides_on_arithmetic():
    body = """agent X(task: str) -> A {
  a = R(task)
  b = R(task: "again")
  a -> b when a.score < 1.0
  return b
  enforce always(b -> once (a.score * 2 >= 1.0))
}
"""
    ir = rolegraph.load_agent("x.agent", text=PRELUDE + body)
    for score, allowed in ((0.5, True), (0.25, False)):
        reply = {"text": "hi", "score": score, "tags": [], "note": None}
        run = run_agent(ir, {"task": "t"}, model=MockModel({"R": [reply]}))
        if allowed:
            assert asyncio.run(run).result["score"] == score
        else:
            with pytest.raises(Stalled):  # the shield blocked the only way on
                asyncio.run(run)
