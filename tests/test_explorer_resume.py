"""The errors-only explorer resumes the first run from one followed before
(`_Explorer.first_run_satisfies`, `_Explorer.resumed`): the same answers.

The oracle is the same explorer following the first run from the start (`resume=False`),
along seeded random walks of edits over every example and stdlib file and over the
benchmark's generated agents: each edited agent's first run is followed twice, resumed
(from the runs the walk followed before it) and from the start, and the two agree on the
answer; the state a resumed run starts from is the state a run from the start reaches
after the same steps (followed here step by step, by the test's own loop); and
`explore_agent` says the same diagnostics (their whole `repr`: code, span, message,
counterexample) resumed or not, errors-only and full.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import paths, semantics
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.ir import RETURN

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .edit_walks import generated_module


def _irs(module, filename: str) -> list:
    checked = check_module(module, filename, lambda s, n: (None, []), "", explore=False, irs=True)
    return [] if checked.errors else list(checked.irs.values())


def _state_after(ir, steps: int) -> paths._State:
    """The first run's state at the beginning of step `steps`, followed from the start
    by this test's own loop (each firing's first outcome)."""
    explorer = paths._Explorer(ir, until_certain=True)
    state = explorer.start()
    for _ in range(steps):
        state.time, scheduled, returned = semantics.next_step(state.pending, RETURN)
        assert not returned
        props: set[str] = set()
        for node in scheduled:
            outcome = next(explorer.outcomes(state, node))
            explorer.apply(state, node, outcome)
            props |= {node} | outcome.props
        for monitor in state.monitors:
            monitor.step(frozenset(props))
    return state


def _same_state(a: paths._State, b: paths._State) -> bool:
    return (
        a.time == b.time
        and {t: sorted(ns) for t, ns in a.pending.items()}
        == {t: sorted(ns) for t, ns in b.pending.items()}
        and a.queues == b.queues
        and a.filled == b.filled
        and a.taken == b.taken
        and [m.state() for m in a.monitors] == [m.state() for m in b.monitors]
    )


class Tally:
    def __init__(self) -> None:
        self.resumed = self.known = self.runs = 0


def check_resumed(ir, tally: Tally) -> None:
    """One agent's first run resumed and from the start: the same state where it resumes,
    the same answer; and the same diagnostics from `explore_agent`."""
    explorer = paths._Explorer(ir, until_certain=True)
    begun = explorer.resumed(explorer.common())
    tally.runs += 1
    if begun.known is not None:
        tally.known += 1
    elif begun.state is not None:
        tally.resumed += 1
        assert _same_state(begun.state, _state_after(ir, begun.done)), (ir.name, begun.done)
    oracle = paths._Explorer(ir, until_certain=True).first_run_satisfies(resume=False)
    assert paths._Explorer(ir, until_certain=True).first_run_satisfies() == oracle, ir.name
    for errors_only in (True, False):
        resumed = paths.explore_agent(ir, errors_only=errors_only)
        whole = paths.explore_agent(ir, errors_only=errors_only, resume=False)
        assert repr(resumed) == repr(whole), (ir.name, errors_only)


def walk(module, filename: str, seed: int, steps: int, tally: Tally) -> None:
    """A seeded random walk of edits from `module`: each edit's agents checked resumed and
    not; the walk moves on to an edited program half the times it checks clean."""
    rng = random.Random(seed)
    current = module
    for _ in range(steps):
        sites = [e for operator in OPERATORS for e in operator.sites(current)]
        if not sites:
            return
        edit = rng.choice(sites)
        try:
            edited = edit.apply(current)
        except (EditError, ValueError):
            continue
        irs = _irs(edited, filename)
        for ir in irs:
            check_resumed(ir, tally)
        if irs and rng.random() < 0.5:
            current = edited


@pytest.fixture(autouse=True)
def _nothing_followed(monkeypatch):
    monkeypatch.setattr(paths, "_FOLLOWED", ())


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_random_edits_of_examples_and_stdlib_resume_to_the_same_answers(path: Path):
    module = rolegraph.parse(path.read_text(), str(path))
    tally = Tally()
    for ir in _irs(module, str(path)):
        check_resumed(ir, tally)
    walk(module, str(path), seed=len(path.name), steps=12, tally=tally)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 1), (20, 2), (40, 3)])
def test_random_edits_of_generated_agents_resume_to_the_same_answers(nodes: int, seed: int):
    """The benchmark's agents (loops, a map, a merge, two `ensure`s), where most first
    runs resume part way: the walk must resume some and know some outright."""
    tally = Tally()
    walk(generated_module(5, nodes), "edits.agent", seed=seed, steps=40, tally=tally)
    assert tally.resumed >= 5, vars(tally)


def test_every_graph_edit_of_a_generated_agent_resumes_to_the_same_answer():
    """Every edge edit of a 20-node generated agent (each rewiring, removal, addition and
    bypass), checked in a seeded order, each resumed from the ones before it."""
    module = generated_module(5, 20)
    edits = [
        e
        for operator in OPERATORS
        for e in operator.sites(module)
        if e.op in ("rewire_edge", "remove_edge", "add_edge", "bypass_node", "replicate_vote")
    ]
    random.Random(7).shuffle(edits)
    tally = Tally()
    for edit in edits[:120]:
        try:
            edited = edit.apply(module)
        except (EditError, ValueError):
            continue
        for ir in _irs(edited, "edits.agent"):
            check_resumed(ir, tally)
    assert tally.resumed >= 20 and tally.known >= 1, vars(tally)


def _agent(returns: str, ensure: str) -> str:
    return PRELUDE + (
        "agent A(task: str) -> Draft {\n"
        "  a = Writer(task)\n  b = Writer(task, a.text)\n  c = Writer(task, b.text)\n"
        "  d = Writer(task, c.text)\n"
        f"  return {returns}\n  ensure {ensure}\n}}\n"
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("b", "eventually d"), ("d", "eventually d")),
        (("d", "eventually d"), ("b", "eventually d")),
    ],
)
def test_a_return_that_reads_another_node_is_not_resumed_past(before, after):
    """The return reads `b`, then `d` (and back): the firings of `a` and `b` are the same
    statements, but `b` feeds the return in one and not in the other — which decides
    whether `d` fires before the run returns, and so the `ensure`."""
    (first,) = rolegraph.check_source(_agent(*before), "r.agent").irs.values()
    (second,) = rolegraph.check_source(_agent(*after), "r.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    oracle = paths._Explorer(second, until_certain=True).first_run_satisfies(resume=False)
    assert oracle != paths._Explorer(first, until_certain=True).first_run_satisfies(resume=False)
    assert paths._Explorer(second, until_certain=True).first_run_satisfies() == oracle


def _joined(second_input: str) -> str:
    chain = "".join(f"  p{i} = Writer(task, p{i - 1}.text)\n" for i in range(1, 8))
    return PRELUDE + (
        "agent J(task: str) -> Draft {\n  p0 = Writer(task)\n"
        + chain
        + "  x = Writer(task, p7.text)\n"
        f"  c = Writer({second_input}, p7.text)\n  d = Writer(task, c.text)\n"
        "  return d\n  ensure eventually x\n}\n"
    )


@pytest.mark.parametrize(("before", "after"), [("task", "x.text"), ("x.text", "task")])
def test_a_consumer_that_waits_for_another_input_is_not_resumed_past(before, after):
    """`c` reads `p7`, then `x` and `p7` (and back): `p7`'s consumers are the same nodes,
    but one of them waits for another input — so after `p7` fires, `c` is pending in one
    agent and waits in the other. The run resumes before `p7` fires (step 7), where the
    states are the same."""
    (first,) = rolegraph.check_source(_joined(before), "j.agent").irs.values()
    (second,) = rolegraph.check_source(_joined(after), "j.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    assert begun.state is not None and begun.done <= 7
    assert _same_state(begun.state, _state_after(second, begun.done))


def _chain(returns: str, ensure: str = "eventually p7") -> str:
    nodes = "".join(f"  p{i} = Writer(task, p{i - 1}.text)\n" for i in range(1, 8))
    return PRELUDE + (
        f"agent C(task: str) -> str {{\n  p0 = Writer(task)\n{nodes}"
        f"  return {returns}\n  ensure {ensure}\n}}\n"
    )


def _resumes_to_the_oracle(before: str, after: str) -> paths._Resumed:
    """Follow `before`'s first run, then `after`'s resumed from it: the same answer as
    `after`'s from the start, which differs from `before`'s (else the pair shows nothing)."""
    (first,) = rolegraph.check_source(before, "c.agent").irs.values()
    (second,) = rolegraph.check_source(after, "c.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    oracle = paths._Explorer(second, until_certain=True).first_run_satisfies(resume=False)
    assert oracle != paths._Explorer(first, until_certain=True).first_run_satisfies(resume=False)
    assert paths._Explorer(second, until_certain=True).first_run_satisfies() == oracle
    return begun


@pytest.mark.parametrize(("before", "after"), [("task", "p7.text"), ("p7.text", "task")])
def test_a_return_that_waits_for_nothing_is_part_of_what_every_step_reads(before, after):
    """`return task` waits for nothing: the run returns at its first step, having fired
    nothing — so every firing of it (none) reads the same in an agent that returns `p7`.
    Whether a return waits for nothing is in *common* (the start), and the answer of the
    one is not the other's."""
    begun = _resumes_to_the_oracle(_chain(before), _chain(after))
    assert begun.known is None


@pytest.mark.parametrize(
    ("before", "after"), [("p5.text", "p5.text + p7.text"), ("p5.text + p7.text", "p5.text")]
)
def test_a_return_that_reads_one_more_node_is_not_resumed_past(before, after):
    """The return reads `p5`, then `p5` and `p7` (and back): `p5` feeds the same return
    (index 0) in both, but that return waits for `p7` in one and not in the other — so
    `p5`'s view holds what each return it feeds reads, and the run resumes before `p5`
    fires (step 5)."""
    begun = _resumes_to_the_oracle(_chain(before), _chain(after))
    assert begun.known is None and begun.done <= 5
    (second,) = rolegraph.check_source(_chain(after), "c.agent").irs.values()
    if begun.state is not None:
        assert _same_state(begun.state, _state_after(second, begun.done))


def _guarded(guard: str) -> str:
    nodes = "".join(f"  p{i} = Writer(task, p{i - 1}.text)\n" for i in range(1, 6))
    return PRELUDE + (
        f"agent G(task: str) -> Draft {{\n  p0 = Writer(task)\n{nodes}"
        "  c = Critic(task, p5)\n  d = Writer(task, c.feedback)\n"
        f"  c -> c when {guard} max 1\n  return d\n  ensure eventually c.ok\n}}\n"
    )


@pytest.mark.parametrize(("before", "after"), [("c.ok", "not c.ok"), ("not c.ok", "c.ok")])
def test_a_guard_that_decides_a_condition_is_not_resumed_past(before, after):
    """`c -> c when c.ok`, then `when not c.ok` (and back): the same edge but for its
    guard. The first run takes every guard false, so the negated guard makes `c.ok`
    hold when `c` fires (the condition the `ensure` reads) and the other does not: an
    edge's guard is part of its node's view, and the run resumes before `c` fires."""
    begun = _resumes_to_the_oracle(_guarded(before), _guarded(after))
    assert begun.known is None and begun.done <= 6


def test_an_agent_written_lower_in_its_file_resumes_to_its_end():
    """The same agent with a comment line above it (every span one line lower, as when
    one types above it in the editor): where an edge is written is not part of any
    view, so every firing reads the same and the kept answer is the answer."""
    text = _guarded("not c.ok")
    (first,) = rolegraph.check_source(text, "c.agent").irs.values()
    (lower,) = rolegraph.check_source("// a note\n" + text, "c.agent").irs.values()
    assert [e.span for e in first.edges] != [e.span for e in lower.edges]
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(lower, until_certain=True)
    begun = explorer.resumed(explorer.common())
    oracle = paths._Explorer(lower, until_certain=True).first_run_satisfies(resume=False)
    assert begun.known is not None and begun.known == oracle


def test_a_run_kept_under_another_bound_is_not_reused(monkeypatch):
    """A first run longer than half the bound counts as not returning: a run kept under
    the usual bound (it returns, every `ensure` holds) says nothing of the same agent's
    run under a bound it is longer than half of (tests lower `MAX_STATES`)."""
    (ir,) = rolegraph.check_source(_guarded("not c.ok"), "c.agent").irs.values()
    assert paths._Explorer(ir, until_certain=True).first_run_satisfies()
    monkeypatch.setattr(paths, "MAX_STATES", 8)
    oracle = paths._Explorer(ir, until_certain=True).first_run_satisfies(resume=False)
    assert oracle is False
    assert paths._Explorer(ir, until_certain=True).first_run_satisfies() == oracle
