"""LTLf semantics: hand-written cases per operator, and agreement of the reference
evaluator with progression on random formulas and traces."""

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph import parse
from rolegraph.compiler import ast
from rolegraph.compiler.ltl import (
    Monitor,
    evaluate,
    future_under_past,
    monitor_accepts,
    operators,
)


def formula(text: str) -> ast.Node:
    return parse(f"agent A() -> str {{ ensure {text} }}").find(ast.Constraint).formula


def trace(*steps: str) -> list[set[str]]:
    """trace("a b", "", "return") → [{"a", "b"}, set(), {"return"}]."""
    return [set(step.split()) for step in steps]


# (formula, trace, expected): every operator, one-step traces included.
CASES = [
    ("a", trace("a"), True),
    ("a", trace("b"), False),
    ("start", trace(""), True),
    ("next start", trace("", ""), False),
    ("return", trace("a", "return"), False),
    ("eventually return", trace("a", "return"), True),
    ("not a", trace(""), True),
    ("a and b", trace("a b"), True),
    ("a and b", trace("a"), False),
    ("a or b", trace("b"), True),
    ("a -> b", trace(""), True),
    ("a -> b", trace("a"), False),
    # next is strong: false at the last step, whatever follows
    ("next a", trace("a"), False),
    ("next a", trace("", "a"), True),
    ("next true", trace("a"), False),
    # weak next: true at the last step
    ("wnext a", trace("a"), True),
    ("wnext false", trace("a"), True),
    ("wnext a", trace("", ""), False),
    ("eventually a", trace("a"), True),
    ("eventually a", trace(""), False),
    ("eventually a", trace("", "", "a"), True),
    ("always a", trace("a"), True),
    ("always a", trace("a", "a", ""), False),
    ("a until b", trace("b"), True),
    ("a until b", trace("a"), False),  # b must eventually hold
    ("a until b", trace("a", "a", "b"), True),
    ("a until b", trace("a", "", "b"), False),
    ("a release b", trace("b"), True),  # b may hold to the end
    ("a release b", trace("b", "a b", ""), True),
    ("a release b", trace("b", ""), False),
    ("once a", trace("a"), True),
    ("always(b -> once a)", trace("a", "b"), True),
    ("always(b -> once a)", trace("b", "a"), False),
    ("historically a", trace("a"), True),
    ("always(b -> historically a)", trace("a", "a b"), True),
    ("always(b -> historically a)", trace("", "a b"), False),
    ("yesterday a", trace("a"), False),  # no step before the first
    ("always(b -> yesterday a)", trace("a", "b"), True),
    ("always(b -> yesterday a)", trace("a", "", "b"), False),
    ("a since b", trace("b"), True),
    ("a since b", trace("a"), False),
    ("always(c -> a since b)", trace("b", "a", "a c"), True),
    ("always(c -> a since b)", trace("b", "", "a c"), False),
    ("always(return -> once critic)", trace("writer", "critic", "writer", "return"), True),
    ("always(return -> once critic)", trace("writer", "return"), False),
    ("eventually(critic.ok)", trace("critic", "critic cond:critic.ok"), True),
    ("G(F a)", trace("", "a"), True),
    ("X a", trace("", "a"), True),
    ("WX a", trace("a"), True),
]


@pytest.mark.parametrize(("text", "steps", "expected"), CASES, ids=[c[0] for c in CASES])
def test_operator_semantics(text, steps, expected):
    f = formula(text)
    assert evaluate(f, steps) is expected
    assert monitor_accepts(f, steps) is expected


def test_a_trace_is_never_empty():
    with pytest.raises(ValueError):
        evaluate(formula("a"), [])


def test_monitor_verdicts_are_final():
    monitor = Monitor(formula("always not b"))
    monitor.step({"a"})
    assert monitor.verdict() is None
    monitor.step({"b"})
    assert monitor.verdict() is False
    monitor = Monitor(formula("eventually a"))
    monitor.step({"a"})
    assert monitor.verdict() is True


def test_future_under_past_is_detected():
    assert future_under_past(formula("once(eventually a)")) is not None
    assert future_under_past(formula("always(return -> once critic)")) is None


# -- random agreement -----------------------------------------------------------------------

PROPS = ["a", "b", "c", "return"]
FUTURE = ["X", "WX", "F", "G"]
PAST = ["Y", "O", "H"]


def random_formula(rng: random.Random, depth: int, past_only: bool = False):
    if depth == 0 or rng.random() < 0.25:
        choice = rng.random()
        if choice < 0.1:
            return ("start",)
        if choice < 0.15:
            return rng.choice([("true",), ("false",)])
        return ("ap", rng.choice(PROPS))
    kind = rng.random()
    unary = PAST if past_only else FUTURE + PAST
    if kind < 0.15:
        return ("not", random_formula(rng, depth - 1, past_only))
    if kind < 0.45:
        op = rng.choice(unary)
        return (op, random_formula(rng, depth - 1, past_only or op in PAST))
    binary = ["and", "or", "S"] + ([] if past_only else ["U", "R"])
    op = rng.choice(binary)
    inner_past = past_only or op == "S"
    return (
        op,
        random_formula(rng, depth - 1, inner_past),
        random_formula(rng, depth - 1, inner_past),
    )


def random_trace(rng: random.Random) -> list[set[str]]:
    return [{p for p in PROPS if rng.random() < 0.4} for _ in range(rng.randint(1, 7))]


def test_evaluator_and_progression_agree_on_2000_random_pairs():
    rng = random.Random(20261123)
    seen_operators = set()
    for _ in range(2000):
        f = random_formula(rng, 4)
        t = random_trace(rng)
        seen_operators |= operators(f)
        assert evaluate(f, t) == monitor_accepts(f, t), (f, t)
    assert {"X", "WX", "F", "G", "U", "R", "Y", "O", "H", "S"} <= seen_operators


@settings(max_examples=300, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(1, 5))
def test_evaluator_and_progression_agree_hypothesis(rng, depth):
    f = random_formula(rng, depth)
    t = random_trace(rng)
    assert evaluate(f, t) == monitor_accepts(f, t)
