"""The graph analyses' memos (compiler/analyses.py: the last acyclic graph's ranks reused
when its order still holds, `order_still_holds`; what each edge reads, by the edge, its
target node and the agent's node names) give what the analyses give without them.

The oracle is `analyse` run again on the same IR with every memo emptied first (and
restored after, so that the walk goes on with what it remembered): the same diagnostics,
their whole `repr`, errors-only and full. Along seeded random walks of edits over every
example and stdlib file and over the benchmark's generated agents (tests/edit_walks.py);
the walks must reuse ranks and edge reads. A brute-force test holds a reused order to
the reachability of random graphs.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import analyses, codes, reach
from rolegraph.compiler.check import check_module
from rolegraph.compiler.checked import CheckResult
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.identity import IdentityTable
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.lower import build_ir

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .edit_walks import edit_walk, generated_module


class Spy:
    """Counts the ranks reused and the edge reads asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.reused = self.asked = 0
        holds, reads, derived = analyses.order_still_holds, analyses._edge_reads, analyses._derived

        def counted_holds(graph, rank) -> bool:
            found = holds(graph, rank)
            self.reused += found
            return found

        def counted_derived(ir):
            last = analyses._LAST_DERIVED[0]
            found = derived(ir)
            # (the last IR's ranks, kept where each edge added goes up in them)
            self.reused += last is not None and found.reach.rank is last.reach.rank
            return found

        def counted_reads(ir, edge, names):
            self.asked += 1
            return reads(ir, edge, names)

        monkeypatch.setattr(analyses, "order_still_holds", counted_holds)
        monkeypatch.setattr(analyses, "_edge_reads", counted_reads)
        monkeypatch.setattr(analyses, "_derived", counted_derived)


def _fresh(ir, errors_only: bool) -> list:
    """`analyse(ir)` with nothing remembered (the memos restored after)."""
    saved = (analyses._LAST_ORDER[0], dict(analyses._NODE_SETS), analyses._EDGE_READS)
    last = analyses._LAST_DERIVED[0]
    analyses._LAST_ORDER[0] = {}
    analyses._LAST_DERIVED[0] = None
    analyses._EDGE_READ_CALLS.clear()  # (only refilled: an entry stays right)
    analyses._NODE_SETS.clear()
    analyses._EDGE_READS = IdentityTable()  # (the walk's own put back after, as it was)
    try:
        return analyses.analyse(ir, errors_only=errors_only)
    finally:
        analyses._LAST_DERIVED[0] = last
        analyses._LAST_ORDER[0] = saved[0]
        analyses._NODE_SETS.clear()
        analyses._NODE_SETS.update(saved[1])
        analyses._EDGE_READS = saved[2]


def _walk(module, filename: str, seed: int, count: int) -> None:
    for program in edit_walk(module, random.Random(seed), count):
        checked = check_module(
            program, filename, lambda s, n: (None, []), "", explore=False, irs=True
        )
        if checked.errors:
            continue
        for ir in checked.irs.values():
            _same_reachability(analyses.acyclic_graph(ir))
            for errors_only in (True, False):
                remembered = analyses.analyse(ir, errors_only=errors_only)
                assert repr(remembered) == repr(_fresh(ir, errors_only)), (ir.name, errors_only)


def _same_reachability(graph: dict[str, set[str]]) -> None:
    """`analyses._reachability` (the last ranks reused where their order still holds)
    answers every pair, and whether the graph has a cycle, as a `Reachability` of its
    own ranks does: the diagnostics alone may not tell (a walk's graphs seldom have a
    race that a wrong answer would hide)."""
    remembered, fresh = analyses._reachability(graph), reach.Reachability(graph)
    assert analyses._has_cycle(remembered) == analyses._has_cycle(fresh)
    for source in graph:
        for target in graph:
            assert remembered.reaches(source, target) == fresh.reaches(source, target)


@pytest.fixture(autouse=True)
def _nothing_remembered(monkeypatch):
    monkeypatch.setattr(analyses, "_LAST_ORDER", [{}])
    monkeypatch.setattr(analyses, "_LAST_DERIVED", [None])
    monkeypatch.setattr(analyses, "_NODE_SETS", {})
    monkeypatch.setattr(analyses, "_EDGE_READS", IdentityTable())


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_edit_walks_of_examples_and_stdlib_analyse_as_without_memos(path: Path):
    _walk(rolegraph.parse(path.read_text(), str(path)), str(path), seed=len(path.name), count=10)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 1), (40, 2), (100, 3)])
def test_edit_walks_of_generated_agents_analyse_as_without_memos(nodes, seed, monkeypatch):
    spy = Spy(monkeypatch)
    _walk(generated_module(5, nodes), "edits.agent", seed=seed, count=25)
    assert spy.reused >= 10, vars(spy)
    assert len(analyses._EDGE_READS) < spy.asked / 2, (len(analyses._EDGE_READS), vars(spy))


def _reaches(successors: dict[str, list[str]], source: str, target: str) -> bool:
    seen, todo = {source}, [source]
    while todo:
        for node in successors[todo.pop()]:
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return target in seen


def test_a_reused_order_answers_as_brute_force():
    """Random acyclic graphs, each edited by a random edge added, removed or moved: where
    the first graph's ranks still hold, `Reachability` with them answers every pair as a
    search of the edited graph does; where they do not, the edited graph has an edge that
    goes down in them."""
    rng = random.Random(11)
    held = failed = 0
    for _ in range(300):
        size = rng.randint(2, 12)
        names = [f"n{i}" for i in range(size)]
        order = names[:]
        rng.shuffle(order)
        edges = {
            (a, b)
            for i, a in enumerate(order)
            for b in order[i + 1 :]
            if rng.random() < 0.3  # (forward in `order`: acyclic)
        }
        rank = reach.topological_ranks({n: [b for a, b in edges if a == n] for n in names})
        assert len(set(rank.values())) == size
        edited = set(edges)
        kind = rng.choice(["add", "remove", "move"])
        if kind != "add" and edited:
            edited.discard(rng.choice(sorted(edited)))
        if kind != "remove":
            edited.add((rng.choice(names), rng.choice(names)))
        successors = {n: [b for a, b in sorted(edited) if a == n] for n in names}
        if reach.order_still_holds(successors, rank):
            held += 1
            known = reach.Reachability(successors, rank)
            for a in names:
                for b in names:
                    assert known.reaches(a, b) == _reaches(successors, a, b), (edited, a, b)
        else:
            failed += 1
            assert any(rank[a] >= rank[b] for a, b in edited)
    assert held > 50 and failed > 50, (held, failed)


def _agent(t_reads: str, extra: str = "") -> str:
    return PRELUDE + (
        "agent A(task: str) -> Draft {\n"
        f"  a = Writer(task)\n  c = Writer(task)\n{extra}"
        f"  b = Writer(task, a.text)\n  t = Writer(task, {t_reads}.text)\n"
        "  b -> t max 1\n  return t\n}\n"
    )


def _ir(text: str):
    (ir,) = rolegraph.check_source(text, "a.agent").irs.values()
    return ir


def test_an_edge_into_a_changed_node_reads_what_the_node_reads_now():
    """The edge `b -> t` is the same object in both IRs, its target `t` is not: `t`
    reads `a` (ordered before `b`), then `c` (not: a race). What an edge reads is
    remembered by its target node too."""
    before = _ir(_agent("a"))
    node = _ir(_agent("c")).nodes["t"]
    after = before.model_copy(update={"nodes": {**before.nodes, "t": node}})
    assert analyses.check_races(before) == []
    found = analyses.check_races(after)
    assert [d.code for d in found] == ["E0403"]
    assert repr(found) == repr(_fresh_races(after))


def test_an_edge_reads_only_the_nodes_of_its_agent():
    """The edge `b -> t` and its target are the same objects in both IRs; the node `c`
    that `t` reads is in one agent and not in the other (read as no node: no race there).
    What an edge reads is remembered by the agent's node names too."""
    whole = _ir(_agent("c"))
    nodes = {k: v for k, v in whole.nodes.items() if k != "c"}
    edges = [e for e in whole.edges if "c" not in (e.source, e.target)]
    less = whole.model_copy(update={"nodes": nodes, "edges": edges})
    assert [d.code for d in analyses.check_races(whole)] == ["E0403"]
    assert repr(analyses.check_races(less)) == repr(_fresh_races(less)) == "[]"


def _fresh_races(ir) -> list:
    saved = analyses._EDGE_READS
    analyses._EDGE_READS = IdentityTable()
    try:
        return analyses.check_races(ir)
    finally:
        analyses._EDGE_READS = saved


def _pair(edges: str) -> str:
    return PRELUDE + (
        "agent P(task: str) -> Draft {\n  a = Writer(task)\n  b = Writer(task)\n"
        f"{edges}  return b\n}}\n"
    )


def test_an_edge_that_goes_down_in_the_last_order_is_not_ranked_by_it():
    """`a -> b`, then `a -> b` and `b -> a`: the new edge goes down in the ranks of the
    first graph (the walks above seldom make one: an edit that closes a cycle is an
    error, and they skip those), so they are not reused, and the errors-only analyses
    report the unbounded cycle that the reused ranks, one node one rank, would hide."""
    (first,) = rolegraph.check_source(_pair("  a -> b\n"), "p.agent").irs.values()
    (second,) = rolegraph.check_source(_pair("  a -> b\n  b -> a\n"), "p.agent").irs.values()
    assert analyses.analyse(first, errors_only=True) == []
    assert analyses._LAST_ORDER[0]  # (the first graph's ranks, kept)
    found = analyses.analyse(second, errors_only=True)
    assert [d.code for d in found] == [codes.UNBOUNDED_CYCLE]
    assert repr(found) == repr(_fresh(second, True))
    _same_reachability(analyses.acyclic_graph(second))


def _analyses_irs(session, program) -> list:
    """The analyses' IRs of `program` (as the editor's check builds them: made from the
    IRs built before, sharing their nodes and edges), or none when it has errors."""
    last = analyses._LAST_DERIVED[0]  # (the check analyses IRs built to run: not these)
    checked = session.check(program, explore=False)
    analyses._LAST_DERIVED[0] = last
    if checked.errors:
        return []
    result = CheckResult(checked.program, checked.agents, [], checked.signatures)
    return [build_ir(result, agent, runtime=False) for agent in checked.agents.values()]


def _analysed_as_fresh(ir, counts: dict[str, int]) -> None:
    """`analyse(ir)` (from the last IR's graph) as with nothing remembered, errors-only and
    full, and the reachability it used answering every pair as the graph's own."""
    last = analyses._LAST_DERIVED[0]
    for errors_only in (True, False):
        remembered = analyses.analyse(ir, errors_only=errors_only)
        assert repr(remembered) == repr(_fresh(ir, errors_only)), (ir.name, errors_only)
    known = analyses._LAST_DERIVED[0]
    assert known is not None
    assert known.successors == analyses.acyclic_graph(ir)
    fresh = reach.Reachability(known.successors)
    assert known.acyclic == (not analyses._has_cycle(fresh))
    for source in known.successors:
        for target in known.successors:
            assert known.reach.reaches(source, target) == fresh.reaches(source, target)
    for (source, target), answer in known.answers.items():  # (kept from the last graph's)
        assert answer == fresh.reaches(source, target), (source, target)
    counts["answers"] += len(known.answers)
    counts["from answers before"] += known.prior is not None and bool(known.prior[0])
    assert known.readers == {
        name: reads for name, node in ir.nodes.items() if (reads := analyses._latest_reads(node))
    }
    if last is not None and last.order == known.order:
        counts["from the last"] += 1
        shared = set(map(id, last.edges)) & set(map(id, known.edges))
        counts["edges shared"] += len(shared)
        counts["ranks kept"] += known.reach.rank is last.reach.rank
        counts["by the builder's difference"] += ir.difference is not None


def _sibling_programs(module, seed: int, count: int) -> list:
    sites = [site for op in OPERATORS for site in op.sites(module)]
    made = []
    for site in random.Random(seed).sample(sites, min(count, len(sites))):
        try:
            made.append(site.apply(module))
        except (EditError, ValueError):
            continue
    return made


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_analyses_irs_of_walks_and_siblings_analyse_as_without_memos(path: Path):
    """The editor's IRs (sharing their parts with the IRs built before) along a walk of
    edits and then over sibling candidates of one program, each analysed from the last
    one's graph: as with nothing remembered."""
    module = rolegraph.parse(path.read_text(), str(path))
    session = CheckSession(str(path))
    counts: Counter[str] = Counter()
    programs = edit_walk(module, random.Random(len(path.name)), 8)
    for program in programs + _sibling_programs(module, 5, 12):
        for ir in _analyses_irs(session, program):
            _analysed_as_fresh(ir, counts)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 4), (40, 5), (100, 6)])
def test_analyses_irs_of_generated_agents_analyse_as_without_memos(nodes, seed):
    module = generated_module(5, nodes)
    session = CheckSession("edits.agent")
    counts: Counter[str] = Counter()
    for program in edit_walk(module, random.Random(seed), 12) + _sibling_programs(module, seed, 30):
        for ir in _analyses_irs(session, program):
            _analysed_as_fresh(ir, counts)
    # most are made from the last IR's graph, sharing most edges, with its ranks
    assert counts["from the last"] >= 12, counts
    assert counts["edges shared"] >= counts["from the last"] * nodes // 2, counts
    assert counts["ranks kept"] >= 10, counts
    assert counts["by the builder's difference"] >= 10, counts
    assert counts["from answers before"] >= 10, counts


LATEST = """model m = "mock"
type Draft { text: str }
type Review { ok: bool, feedback: str }
role Write(task: str) -> Draft { model m  prompt "{{ task }}" }
role Check(draft: Draft) -> Review { model m  prompt "{{ draft.text }}" }
agent A(task: str) -> Draft {
  w = Write(task)
  c = Check(draft: READ)
  d = Write(task)
  return w
}
"""


@pytest.mark.parametrize("order", [("latest(d)", "w"), ("w", "latest(d)")])
def test_a_node_that_starts_or_stops_reading_latest_is_read_again(order):
    """`c` reads `latest(d)` (a race: `d` does not come before it), then reads `w` (no
    race), or the other way: the second IR is analysed from the first's graph, and what
    its changed node reads with `latest` is read again."""
    session = CheckSession("a.agent")
    found = []
    for read in order:
        last = analyses._LAST_DERIVED[0]
        checked = session.check(rolegraph.parse(LATEST.replace("READ", read), "a.agent"))
        analyses._LAST_DERIVED[0] = last
        result = CheckResult(checked.program, checked.agents, [], checked.signatures)
        ir = build_ir(result, checked.agents["A"], runtime=False)
        found.append([d.code for d in analyses.analyse(ir, errors_only=True)])
        assert repr(analyses.analyse(ir)) == repr(_fresh(ir, False))
    assert analyses._LAST_DERIVED[0] is not None
    assert found == [["E0403"] if read.startswith("latest") else [] for read in order]


def test_ranks_reordered_for_an_edge_that_goes_down_answer_as_brute_force():
    """Random acyclic graphs ranked by `topological_ranks`, with a random edge added that
    goes down in the ranks: `reorder` says None exactly when the edge closes a cycle
    (brute force), and otherwise gives ranks, one node one rank, in which every edge goes
    up, whose `Reachability` answers every pair as a search of the graph does."""
    rng = random.Random(5)
    reordered = cycles = 0
    for _ in range(400):
        size = rng.randint(2, 14)
        names = [f"n{i}" for i in range(size)]
        order = names[:]
        rng.shuffle(order)
        edges = {(a, b) for i, a in enumerate(order) for b in order[i + 1 :] if rng.random() < 0.25}
        rank = reach.topological_ranks({n: [b for a, b in sorted(edges) if a == n] for n in names})
        a, b = rng.choice(names), rng.choice(names)
        if rank[a] < rank[b] or (a, b) in edges:
            continue  # (goes up: the ranks hold)
        edited = edges | {(a, b)}
        successors = {n: {y for x, y in edited if x == n} for n in names}
        found = reach.reordered(successors, rank, (a, b))
        closes = a == b or _reaches(successors, b, a)
        assert (found is None) == closes, (edited, a, b)
        if found is None:
            cycles += 1
            continue
        reordered += 1
        assert sorted(found.values()) == sorted(rank.values())
        assert all(found[x] < found[y] for x, y in edited), (edited, found)
        known = reach.Reachability(successors, found)
        for x in names:
            for y in names:
                assert known.reaches(x, y) == _reaches(successors, x, y)
    assert reordered > 50 and cycles > 50, (reordered, cycles)


def test_answers_kept_from_the_graph_before_answer_as_brute_force():
    """Random acyclic graphs, each edited by edges removed and added (still acyclic): an
    answer of the first graph that `_answer_kept` keeps for the edited one (no pair of
    nodes unlinked or newly linked lies between the two nodes in the ranks) is the edited
    graph's answer, found by a search; some are kept, some asked again."""
    rng = random.Random(23)
    kept = asked = 0
    for _ in range(300):
        size = rng.randint(3, 12)
        names = [f"n{i}" for i in range(size)]
        order = names[:]
        rng.shuffle(order)
        forward = [(a, b) for i, a in enumerate(order) for b in order[i + 1 :]]
        before = {pair for pair in forward if rng.random() < 0.3}
        after = set(before)
        for _ in range(rng.randint(1, 2)):
            if after and rng.random() < 0.5:
                after.discard(rng.choice(sorted(after)))
            else:
                after.add(rng.choice(forward))
        old = {n: [b for a, b in sorted(before) if a == n] for n in names}
        new = {n: [b for a, b in sorted(after) if a == n] for n in names}
        old_rank, new_rank = reach.topological_ranks(old), reach.topological_ranks(new)
        answers = {(a, b): _reaches(old, a, b) for a in names for b in names if a != b}
        prior = (answers, old_rank, sorted(before - after), sorted(after - before))
        for a, b in answers:
            found = analyses._answer_kept(prior, (a, b), new_rank)
            if found is None:
                asked += 1
            else:
                kept += 1
                assert found == _reaches(new, a, b), (before, after, a, b)
    assert kept > 1000 and asked > 1000, (kept, asked)
