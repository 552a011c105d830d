"""The errors-only explorer cuts hopeless runs (`_Explorer.hopeless`): the same answers.

The oracle is the same explorer with the cut turned off (`prune=False`): on every example
and stdlib file, on random agents with random constraints, and along random edits of the
benchmark's agent, both say the same diagnostics (their whole `repr`: code, span,
message, counterexample) and the same verdicts. The monitor's over-approximation
(`Monitor.may_accept`) is checked against brute force: every continuation, up to a
length, that avoids the propositions said to be dead.
"""

from __future__ import annotations

import random
import sys
from itertools import product
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import paths
from rolegraph.compiler.edits import OPERATORS, EditError, RewireEdge
from rolegraph.compiler.ltl import Monitor, evaluate, future_under_past

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .test_explorer_vs_runs import agents_with_a_constraint, formulas

BENCH = Path(__file__).resolve().parent.parent / "bench"


def said(ir, **options) -> tuple[list[str], list[str]]:
    diagnostics, results = paths.explore_agent(ir, **options)
    return [repr(d) for d in diagnostics], [repr(r) for r in results]


def agree(ir) -> None:
    """Pruned and unpruned say the same, errors-only and full."""
    for errors_only in (True, False):
        assert said(ir, errors_only=errors_only) == said(
            ir, errors_only=errors_only, prune=False
        ), (ir.name, errors_only)


def irs_of(text: str, filename: str) -> list:
    checked = rolegraph.check_source(text, filename)
    return list(checked.irs.values())


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_every_example_and_stdlib_agent_says_the_same_pruned(path: Path):
    for ir in irs_of(path.read_text(), str(path)):
        agree(ir)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(agents_with_a_constraint(), st.data())
def test_random_agents_say_the_same_pruned(case, data):
    agent, _ = case
    nodes = sorted({line.split("=")[0].strip() for line in agent.splitlines() if " = " in line})
    second = data.draw(formulas(nodes))  # a second `ensure`: the cut needs each hopeless
    agent = agent.replace("\n}\n", f"\n  ensure {second}\n}}\n")
    checked = rolegraph.check_source(PRELUDE + agent, "random.agent")
    for ir in checked.irs.values():
        agree(ir)


def _bench_program(nodes: int):
    sys.path.insert(0, str(BENCH))
    try:
        from generate import large_program
    finally:
        sys.path.remove(str(BENCH))
    return rolegraph.parse(large_program(roles=5, nodes=nodes), "edits.agent")


def _edited_irs(module, edit) -> list:
    try:
        edited = edit.apply(module)
    except (EditError, ValueError):
        return []
    checked = rolegraph.compiler.check.check_module(
        edited, "edits.agent", lambda s, n: (None, []), "", explore=False
    )
    return [] if checked.errors else list(checked.irs.values())


def test_random_edits_of_the_bench_agent_say_the_same_pruned():
    """Graph edits of a 20-node agent with two `ensure`s (every rewiring of the first
    check's `else`, which makes the second violated by every run — the unpruned search
    proves it by visiting every state — and 30 others drawn with a seed), and a seeded
    random walk of edits from there."""
    module = _bench_program(20)
    sites = [e for operator in OPERATORS for e in operator.sites(module)]
    rng = random.Random(15)
    graph = [e for e in sites if e.op in ("rewire_edge", "remove_edge", "add_edge")]
    graph = [e for e in graph if getattr(e, "key", "") == "edge n9 -> n10 else"] + rng.sample(
        graph, 30
    )
    cut = 0
    for edit in graph:
        for ir in _edited_irs(module, edit):
            agree(ir)
            pruned = paths._Explorer(ir, until_certain=True)
            pruned.explore()
            whole = paths._Explorer(ir, until_certain=True, prune=False)
            whole.explore()
            assert len(pruned.visited) <= len(whole.visited)
            cut += len(pruned.visited) < len(whole.visited)
    assert cut >= 5  # the cut is not idle on this agent
    current = module
    for _ in range(25):
        edit = rng.choice([e for o in OPERATORS for e in o.sites(current)])
        irs = _edited_irs(current, edit)
        for ir in irs:
            agree(ir)
        if irs:
            current = edit.apply(current)


def test_past_the_bound_check_and_the_editor_agree(monkeypatch):
    """Where the unpruned search would reach `MAX_STATES` and the pruned one does not,
    the full check reports the `ensure` violated by every run (E0506) as the editor's
    errors-only check does, instead of 'not proven'."""
    module = _bench_program(20)
    edit = next(
        e for e in RewireEdge.sites(module) if e.key == "edge n9 -> n10 else" and e.target == "n13"
    )
    (ir,) = _edited_irs(module, edit)
    pruned = paths._Explorer(ir, until_certain=True)
    pruned.explore()
    whole = paths._Explorer(ir, until_certain=True, prune=False)
    whole.explore()
    assert len(pruned.visited) < len(whole.visited)
    monkeypatch.setattr(paths, "MAX_STATES", len(pruned.visited) + 1)
    errors, _ = paths.explore_agent(ir, errors_only=True)
    full, results = paths.explore_agent(ir)
    assert [d.code for d in errors] == ["E0506"]
    assert "E0506" in [d.code for d in full]
    assert [r.status for r in results][1] == "violated"
    unpruned, _ = paths.explore_agent(ir, errors_only=True, prune=False)
    assert unpruned == []  # (the unpruned search stops at the bound: nothing certain)


# --- the monitor's over-approximation against brute force -----------------------------------

ATOMS = ["a", "b", "c"]


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    formulas(ATOMS),
    st.lists(st.sets(st.sampled_from(ATOMS)), max_size=3),
    st.sets(st.sampled_from([*ATOMS, "return"])),
)
def test_may_accept_is_false_only_when_no_continuation_accepts(text, prefix, dead):
    node = _formula(text)
    assume(future_under_past(node) is None)  # (refused by the checker, E0503)
    monitor = Monitor(node)
    for step in prefix:
        monitor.step(frozenset(step))
    if monitor.may_accept(frozenset(dead)):
        return
    alive = [p for p in [*ATOMS, "return"] if p not in dead]
    steps = [frozenset(s for s, on in zip(alive, bits, strict=True) if on)
             for bits in product((False, True), repeat=len(alive))]  # fmt: skip
    for length in (1, 2, 3):
        for continuation in product(steps, repeat=length):
            trace = [frozenset(s) for s in prefix] + list(continuation)
            assert not evaluate(node, trace), (text, prefix, dead, continuation)


def _formula(text: str):
    """A formula's AST, parsed as an `ensure` of a one-node agent."""
    from rolegraph.compiler import ast

    module = rolegraph.parse(
        'role R(task: str) -> str { prompt "{{ task }}" }\n'
        "agent A(task: str) -> str {\n  a = R(task)\n  b = R(task)\n  c = R(task)\n"
        f"  return a\n  ensure {text}\n}}\n",
        "f.agent",
    )
    agent = next(d for d in module.decls if isinstance(d, ast.AgentDecl))
    constraint = next(s for s in agent.body if isinstance(s, ast.Constraint))
    return constraint.formula


def test_may_accept_knows_an_eventuality_that_can_no_longer_hold():
    monitor = Monitor(_formula("always(a -> eventually b)"))
    monitor.step(frozenset({"a"}))
    assert not monitor.may_accept(frozenset({"b"}))
    assert monitor.may_accept(frozenset({"c"}))
    once = Monitor(_formula("always(return -> once b)"))
    once.step(frozenset({"b"}))
    assert once.may_accept(frozenset({"b"}))  # it held once: for good
