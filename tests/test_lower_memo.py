"""The analyses' IR (`build_ir(..., runtime=False)`) built from remembered parts equals the
one built from nothing: random edits of the bench's agents and of every example, each
candidate's IR built once with the memos warm from the candidates before it, once with
every memo of lower.py emptied (the general path)."""

from __future__ import annotations

import random
import sys

import pytest

import rolegraph
from rolegraph.compiler import ast, lower
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.lower import build_ir
from rolegraph.compiler.typecheck import CheckResult

from .conftest import EXAMPLES, ROOT

MEMOS = (
    "_LOWERED",
    "_ANALYSIS",
    "_EDGES",
    "_NODES",
    "_DATA_EDGES",
    "_ARG_HEADS",
    "_HEADS",
)


def _forget() -> None:
    for name in MEMOS:
        getattr(lower, name).clear()


def _irs(session: CheckSession, module: ast.Module) -> dict[str, str] | None:
    checked = session.check(module, explore=False)
    if checked.errors:
        return None
    result = CheckResult(checked.program, checked.agents, [], checked.signatures)
    return {
        name: repr(build_ir(result, agent, runtime=False).model_dump())
        for name, agent in checked.agents.items()
    }


def _compare(module: ast.Module, filename: str, rng: random.Random, count: int) -> int:
    session = CheckSession(filename)
    sites = [edit for operator in OPERATORS for edit in operator.sites(module)]
    compared = 0
    _irs(session, module)  # (the parent's parts remembered: most candidates share them)
    for edit in rng.sample(sites, min(count, len(sites))):
        try:
            edited = edit.apply(module)
        except (EditError, ValueError):
            continue
        warm = _irs(session, edited)
        _forget()
        cold = _irs(CheckSession(filename), edited)
        assert warm == cold, edit
        compared += warm is not None
    return compared


@pytest.mark.parametrize("nodes", [12, 40])
def test_remembered_analysis_irs_of_generated_agents_equal_those_built_from_nothing(nodes: int):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    module = rolegraph.parse(large_program(roles=6, nodes=nodes), "generated.agent")
    assert _compare(module, "generated.agent", random.Random(nodes), 60) > 20


def test_remembered_analysis_irs_of_examples_equal_those_built_from_nothing():
    rng = random.Random(2026)
    compared = sum(_compare(rolegraph.parse_file(p), str(p), rng, 8) for p in EXAMPLES)
    assert compared > 20


TWO_ROOTS = """
model fast = "openai/gpt-4o-mini"

type Note { text: str }

role Writer(topic: str) -> Note {
  model fast
  prompt "Write about {{ topic }}."
}

role Joiner(first: Note, second: Note) -> Note {
  model fast
  prompt "Join {{ first.text }} and {{ second.text }}."
}

agent Two(topic: str) -> Note {
  a = Writer(topic)
  b = Writer(topic)
  c = Joiner(a, b)
  return c
}
"""


def test_a_node_that_stops_starting_the_run_is_built_again():
    """An edge into a node that read no node makes it no longer start the run: the same
    statement, the same callee, another IR node (its `entry`)."""
    from rolegraph.compiler.edits import AddEdge

    module = rolegraph.parse(TWO_ROOTS, "two.agent")
    session = CheckSession("two.agent")
    before = _irs(session, module)
    assert before is not None and before["Two"].count("'entry': True") == 2  # a and b
    edited = AddEdge(agent="Two", edge="a -> b").apply(module)
    warm = _irs(session, edited)
    _forget()
    assert warm == _irs(CheckSession("two.agent"), edited)
    assert warm is not None and warm["Two"].count("'entry': True") == 1  # a alone
