"""A resumed first run that gets back into a state the run it resumed was in, at the same
step, from which that run fired only nodes that read the same here, takes that run's
rest as its own (`_Explorer.first_run_satisfies`, docs/semantics.md "Rejoining"): the
same answer, and the same record kept for later runs to resume from.

The oracles: the same explorer following the run from the start (`resume=False`) for
the answer, and for the kept record (each node's first firing, the nodes each step
fired, the kept states, the answer) the record a run followed from the start keeps, with
nothing kept before it. Along seeded random walks of edits over every example and
stdlib file and over the benchmark's generated agents; the walks must rejoin.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import codes, paths, semantics
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.ir import RETURN

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .edit_walks import edit_walk, generated_module
from .test_explorer_resume import _irs, _same_state


class Rejoins:
    """Counts the runs that rejoined (`reads_tail` said yes: the states were the same)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        tail = paths._Explorer.reads_tail

        def counted(explorer, followed, start, views) -> bool:
            found = tail(explorer, followed, start, views)
            self.count += found
            return found

        monkeypatch.setattr(paths._Explorer, "reads_tail", counted)


def _record_from_start(ir) -> paths._Followed:
    """The record a first run followed from the start keeps (nothing kept before it)."""
    kept = paths._FOLLOWED
    paths._FOLLOWED = ()
    try:
        paths._Explorer(ir, until_certain=True).first_run_satisfies()
        return paths._FOLLOWED[0]
    finally:
        paths._FOLLOWED = kept


def check_rejoined(ir) -> None:
    """`ir`'s first run resumed from the runs kept: the answer from the start, and the
    record it keeps is the record of the run followed from the start."""
    oracle = paths._Explorer(ir, until_certain=True).first_run_satisfies(resume=False)
    whole = _record_from_start(ir)
    explorer = paths._Explorer(ir, until_certain=True)
    known = explorer.resumed(explorer.common()).known  # (then nothing new is kept)
    assert explorer.first_run_satisfies() == oracle, ir.name
    if known is not None:
        return
    kept = paths._FOLLOWED[0]
    assert kept.answer == whole.answer == oracle, ir.name
    assert list(kept.first.items()) == list(whole.first.items()), ir.name
    assert kept.fired == whole.fired, ir.name
    assert [k for k, _ in kept.snapshots] == [k for k, _ in whole.snapshots], ir.name
    for (_, a), (_, b) in zip(kept.snapshots, whole.snapshots, strict=True):
        assert _same_state(a, b), ir.name


def walk(module, filename: str, seed: int, steps: int) -> None:
    for program in edit_walk(module, random.Random(seed), steps):
        for ir in _irs(program, filename):
            check_rejoined(ir)


@pytest.fixture(autouse=True)
def _nothing_followed(monkeypatch):
    monkeypatch.setattr(paths, "_FOLLOWED", ())


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_random_edits_of_examples_and_stdlib_rejoin_to_the_same_answers(path: Path):
    module = rolegraph.parse(path.read_text(), str(path))
    for ir in _irs(module, str(path)):
        check_rejoined(ir)
    walk(module, str(path), seed=len(path.name) + 1, steps=12)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 4), (40, 5), (60, 6)])
def test_random_edits_of_generated_agents_rejoin_to_the_same_answers(nodes, seed):
    """The benchmark's agents, edits upon edits."""
    walk(generated_module(5, nodes), "edits.agent", seed=seed, steps=15)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 7), (60, 8)])
def test_sibling_edits_of_generated_agents_rejoin_to_the_same_answers(nodes, seed, monkeypatch):
    """As the editor and the bench check them: many edits of one agent, one after the
    other, each resumed from the runs of the ones before it. Some rejoin."""
    rejoins = Rejoins(monkeypatch)
    module = generated_module(5, nodes)
    sites = [e for operator in OPERATORS for e in operator.sites(module)]
    for site in random.Random(seed).sample(sites, 60):
        try:
            edited = site.apply(module)
        except (EditError, ValueError):
            continue
        for ir in _irs(edited, "edits.agent"):
            check_rejoined(ir)
    assert rejoins.count >= 2, rejoins.count  # (most of the others now read the same)


def _chain(guard: str) -> str:
    nodes = "".join(f"  p{i} = Writer(task, p{i - 1}.text)\n" for i in range(1, 16))
    return PRELUDE + (
        f"agent C(task: str) -> Draft {{\n  p0 = Writer(task)\n{nodes}"
        "  c = Critic(task, p3)\n"
        f"  c -> c when {guard} max 1\n  return p15\n  ensure eventually p15\n}}\n"
    )


def test_a_guard_of_a_node_that_decides_nothing_reads_the_same():
    """`c -> c when c.ok`, then `when c.score > 0.5`, and `c` decides no condition a
    constraint reads: the first run takes every guard false, so no `when` edge of `c`;
    its first outcome reads its other edges only, which are the same. The same run to
    its end: its answer is the kept one, and nothing is followed."""
    (first,) = rolegraph.check_source(_chain("c.ok"), "c.agent").irs.values()
    (second,) = rolegraph.check_source(_chain("c.score > 0.5"), "c.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    assert explorer.resumed(explorer.common()).known is True
    oracle = paths._Explorer(second, until_certain=True).first_run_satisfies(resume=False)
    assert explorer.first_run_satisfies() is oracle is True


_DECIDES = "ensure eventually p15\n  ensure always(c.ok -> eventually p15)"


def test_a_guard_that_decides_nothing_here_rejoins():
    """`c -> c when c.ok`, then `when c.score > 0.5`: the same edge but for its guard.
    `c` decides `c.ok`, which a constraint reads, so its view holds its guards; but
    neither guard fixes `c.ok` (the first run takes every guard false), so the two runs
    are the same; the run resumes before `c` fires (its view differs), and is back in
    the kept run's state at the next kept step, after which only the chain fires."""
    texts = [
        _chain(g).replace("ensure eventually p15", _DECIDES) for g in ("c.ok", "c.score > 0.5")
    ]
    (first,) = rolegraph.check_source(texts[0], "c.agent").irs.values()
    (second,) = rolegraph.check_source(texts[1], "c.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    assert begun.known is None and begun.source is not None
    whole = _record_from_start(second)
    assert explorer.first_run_satisfies() is True
    kept = paths._FOLLOWED[0]
    assert kept.fired == whole.fired and list(kept.first.items()) == list(whole.first.items())
    # the record's later states are the first run's own (shared, never changed)
    assert kept.snapshots[-1][1] is paths._FOLLOWED[1].snapshots[-1][1]


def test_a_run_that_stays_apart_does_not_rejoin(monkeypatch):
    """The return reads `c` instead of `p15`: the runs differ from `c`'s firing on (one
    returns), and the run is followed to its end, with the answer from the start."""
    rejoins = Rejoins(monkeypatch)
    (first,) = rolegraph.check_source(_chain("c.ok"), "c.agent").irs.values()
    text = _chain("c.ok").replace("  return p15\n", "  return c\n")
    text = text.replace("agent C(task: str) -> Draft {", "agent C(task: str) -> Review {")
    (second,) = rolegraph.check_source(text, "c.agent").irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    check_rejoined(second)
    assert rejoins.count == 0


def check_first_outcomes(ir) -> int:
    """The first run followed from the start, each firing's outcome taken both ways:
    `first_outcome` is the first of `outcomes` but for its notes. How many firings."""
    explorer = paths._Explorer(ir, until_certain=True)
    state = explorer.start()
    firings = 0
    for _ in range(paths.MAX_STATES // 2):
        if not state.pending:
            break
        state.time, scheduled, returned = semantics.next_step(state.pending, RETURN)
        if returned:
            break
        for node in scheduled:
            fast = explorer.first_outcome(state, node)
            first = next(explorer.outcomes(state, node))
            assert (fast.failed, fast.edges, fast.props) == (first.failed, first.edges, first.props)
            explorer.apply(state, node, first)
            firings += 1
    return firings


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_the_first_outcome_is_the_first_of_the_outcomes(path: Path):
    module = rolegraph.parse(path.read_text(), str(path))
    for program in edit_walk(module, random.Random(len(path.name)), 8):
        for ir in _irs(program, str(path)):
            check_first_outcomes(ir)


def test_the_first_outcome_is_the_first_of_the_outcomes_of_generated_agents():
    firings = 0
    for program in edit_walk(generated_module(5, 40), random.Random(9), 20):
        for ir in _irs(program, "edits.agent"):
            firings += check_first_outcomes(ir)
    assert firings > 500


def _conditioned(guards: str) -> str:
    return PRELUDE + (
        "agent K(task: str) -> Review {\n  a = Writer(task)\n  c = Critic(task, a)\n"
        f"{guards}  return c\n  ensure eventually c.ok\n}}\n"
    )


@pytest.mark.parametrize(
    "guards",
    [
        "  c -> c when not c.ok max 1\n",
        "  c -> c when c.ok max 1\n",
        "  c -> c when not c.ok max 1\n  c -> a when c.ok max 1\n",
        "  c -> a when c.ok max 1\n  c -> c when not c.ok max 1\n",
        "",
    ],
)
def test_the_first_outcome_of_a_node_that_decides_a_condition(guards: str):
    """A firing that decides the condition an `ensure` reads: a negated guard, taken
    false, makes it hold; the first guard of the condition decides (source order)."""
    (ir,) = rolegraph.check_source(_conditioned(guards), "k.agent").irs.values()
    assert check_first_outcomes(ir) >= 2


def test_a_later_node_that_reads_otherwise_keeps_the_run_apart(monkeypatch):
    """As above, the guard of `c` (which decides `c.ok`) differs (the run resumes
    before `c` fires and is back in the kept run's state at the next kept step), and
    the return reads `p14`, which fires long after that step: the return now comes as
    `p15` would fire, so `p15` never fires and `ensure eventually p15` is violated by
    every run. The kept run's rest is not this run's (`p14`'s view differs), so the run
    does not rejoin: the answer is the one from the start, and the errors-only check
    reports E0506."""
    rejoins = Rejoins(monkeypatch)
    decides = _chain("c.ok").replace("ensure eventually p15", _DECIDES)
    (first,) = rolegraph.check_source(decides, "c.agent").irs.values()
    text = _chain("c.score > 0.5").replace("ensure eventually p15", _DECIDES)
    text = text.replace("  return p15\n", "  return p14\n")
    (second,) = rolegraph.check_source(text, "c.agent").irs.values()
    assert paths._Explorer(first, until_certain=True).first_run_satisfies() is True
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    assert begun.known is None and begun.source is not None and begun.done < 8
    assert explorer.first_run_satisfies() is False
    assert rejoins.count == 0
    check_rejoined(second)
    found, _ = paths.explore_agent(second, errors_only=True)
    assert [d.code for d in found] == [codes.ALWAYS_VIOLATED]


@pytest.mark.parametrize(("before", "after"), [("not c.ok", "c.ok"), ("c.ok", "not c.ok")])
def test_a_run_back_in_the_same_queues_but_not_the_same_monitors_does_not_rejoin(
    before: str, after: str
):
    """`c -> c when not c.ok` and `when c.ok` with `ensure eventually c.ok`: neither edge
    is taken on the first run, so the runs fire the same nodes at the same times, but
    on one `c.ok` holds (the negated guard was false) and on the other it does not. Back
    at a kept step the pending firings, queues and loop counts are the same, the monitor
    states are not: the rest of the kept run, and its answer, are not this run's."""
    text = _chain(before).replace("ensure eventually p15", "ensure eventually c.ok")
    (first,) = rolegraph.check_source(text, "c.agent").irs.values()
    text = _chain(after).replace("ensure eventually p15", "ensure eventually c.ok")
    (second,) = rolegraph.check_source(text, "c.agent").irs.values()
    expected = paths._Explorer(second, until_certain=True).first_run_satisfies(resume=False)
    assert expected is (after == "not c.ok")
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    assert begun.known is None and begun.source is not None and begun.done < 8
    check_rejoined(second)


@pytest.mark.parametrize("seed", [650])
def test_wandering_edits_rejoin_to_the_same_records(seed: int):
    """A seeded walk that goes back to its start program at random (as a search's
    candidates do), over an example, a stdlib file or a generated agent: found by a
    longer run of this walk over many seeds; with the loop counts left out of
    `_same_state`, the record kept differs from the run's own in a loop count, which a
    later run resuming from it would start from."""
    rng = random.Random(seed)
    if rng.random() < 0.7:
        base, name = (
            generated_module(rng.randint(2, 6), rng.choice([10, 20, 30, 40])),
            "edits.agent",
        )
    else:
        path = rng.choice(EXAMPLES + STDLIB)
        base, name = rolegraph.parse(path.read_text(), str(path)), str(path)
    module = base
    for _ in range(40):
        sites = [s for operator in OPERATORS for s in operator.sites(module)]
        if not sites:
            break
        try:
            edited = rng.choice(sites).apply(module)
        except (EditError, ValueError):
            continue
        for ir in _irs(edited, name):
            check_rejoined(ir)
        module = edited if rng.random() < 0.5 else base


def _two_inputs(routed: str) -> str:
    nodes = "".join(f"  p{i} = Writer(task, p{i - 1}.text)\n" for i in range(1, 16))
    return PRELUDE + (
        f"agent Q(task: str) -> Draft {{\n  p0 = Writer(task)\n{nodes}"
        "  c = Critic(task, p3)\n  e = Writer(task)\n  f = Writer(task)\n"
        f"  w = Writer(e.text, f.text)\n  c -> {routed}\n  p10 -> e\n  p14 -> f\n"
        "  return p15\n  ensure eventually w\n}\n"
    )


@pytest.mark.parametrize(("before", "after"), [("e", "f"), ("f", "e")])
def test_a_run_back_in_the_same_pending_firings_but_not_the_same_queues_does_not_rejoin(
    before: str, after: str
):
    """`c -> e`, then `c -> f`: `e` and `f` fire at the same time, and both feed `w`, so
    the pending firings are the same after; but `w` holds `e`'s output in one run and
    `f`'s in the other. When `p10` starts `e` again, `w` joins in the run that holds
    `f`'s, and `ensure eventually w` holds there only: the queues must be the same."""
    (first,) = rolegraph.check_source(_two_inputs(before), "q.agent").irs.values()
    (second,) = rolegraph.check_source(_two_inputs(after), "q.agent").irs.values()
    expected = paths._Explorer(second, until_certain=True).first_run_satisfies(resume=False)
    assert expected is (after == "f")
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    begun = explorer.resumed(explorer.common())
    assert begun.known is None and begun.source is not None and begun.done < 8
    check_rejoined(second)


def test_the_node_fired_at_the_step_compared_is_part_of_the_rest():
    """The guard of `c` (which decides `c.ok`) differs (the run resumes at step 4, before
    `c` fires) and `p8`,
    which fires at step 8, the first kept step after, now also starts `p0` again: the
    states at the beginning of step 8 are the same, but the rest is not (`p8`'s view
    differs), so the run is followed on, and keeps its own record."""
    decides = _chain("c.ok").replace("ensure eventually p15", _DECIDES)
    (first,) = rolegraph.check_source(decides, "c.agent").irs.values()
    text = _chain("c.score > 0.5").replace("ensure eventually p15", _DECIDES)
    text = text.replace("  return p15\n", "  p8 -> p0 max 1\n  return p15\n")
    checked = rolegraph.check_source(text, "c.agent")
    assert not checked.errors
    (second,) = checked.irs.values()
    paths._Explorer(first, until_certain=True).first_run_satisfies()
    explorer = paths._Explorer(second, until_certain=True)
    assert explorer.resumed(explorer.common()).done == 4
    check_rejoined(second)
