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


def analysis_irs(checked) -> dict[str, str] | None:
    """The analyses' IRs of a check's agents (those it imports too), as data; None when
    it has errors."""
    if checked.errors:
        return None
    result = CheckResult(checked.program, checked.agents, [], checked.signatures)
    return {
        name: repr(build_ir(result, agent, runtime=False).model_dump())
        for name, agent in checked.agents.items()
    }


def _irs(session: CheckSession, module: ast.Module) -> dict[str, str] | None:
    return analysis_irs(session.check(module, explore=False))


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


NESTED = """
model fast = "openai/gpt-4o-mini"

type Note { text: str }

role Writer(topic: str) -> Note {
  model fast
  prompt "Write about {{ topic }}."
}

role Asker(topic: str) -> Note {
  model fast
  prompt "Ask about {{ topic }}."
}

role Polish(note: Note) -> Note {
  model fast
  prompt "Polish {{ note.text }}."
}

agent Inner(topic: str) -> Note {
  w = Writer(topic)
  return w
}

agent Middle(topic: str) -> Note {
  i = Inner(topic)
  return i
}

agent Outer(topic: str) -> Note {
  m = Middle(topic)
  p = Polish(m)
  return p
}
"""


def test_a_node_calling_an_agent_is_built_again_though_its_node_info_is_kept():
    """A node that calls an agent holds its callee's IR, which changes where an agent the
    callee calls changed (its declaration and signature as they were). The type checker
    makes agent signatures afresh on each check, so such a node's info is never shared
    today; here it is (as a checker sharing agent signatures would share it), and the
    node is made again all the same (`_Lowered.infos` holds None for it)."""
    from rolegraph.compiler.edits import ChangeRole

    module = rolegraph.parse(NESTED, "nested.agent")
    session = CheckSession("nested.agent")
    first = session.check(module, errors_only=True)
    assert not first.errors
    analysis_irs(first)
    edited = ChangeRole(agent="Inner", node="w", role="Asker").apply(module)
    second = session.check(edited, errors_only=True)
    assert not second.errors
    second.agents["Outer"].nodes["m"] = first.agents["Outer"].nodes["m"]  # (kept)
    warm = analysis_irs(second)
    _forget()
    cold = analysis_irs(session.check(edited, errors_only=True))
    assert "Asker" in cold["Outer"]
    assert warm == cold


def test_a_node_whose_incoming_control_flipped_is_visited_with_its_info_the_same():
    """`_other_infos`: the nodes whose info is the last build's are left as they were,
    but for those a control edge now comes into or no longer does (the type checker
    gives those a new info today: this holds the rule where it would not)."""
    same, new = object(), object()
    infos = {"a": same, "b": same, "c": new, "d": same}
    last = {"a": same, "b": same, "c": same, "d": None}
    order = list(infos)
    assert lower._other_infos(infos, last, set(), order) == ["c", "d"]  # type: ignore[arg-type]
    assert lower._other_infos(infos, last, {"b"}, order) == ["b", "c", "d"]  # type: ignore[arg-type]
