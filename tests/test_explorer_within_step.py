"""The explorer merges the runs that meet within a logical time (`_Explorer.met_within`),
and draws a firing's outcomes one at a time: polynomial where it was exponential, the
same answers.

The failures (session 15's fuzz agent #982): k firings of one node at one logical time,
each branching on a guard, were followed in every order of their outcomes (2^k paths to
about k + 1 states); a node with g guarded edges had its 2^g outcomes listed before the
first was followed, whatever the bound. The oracle is the same explorer with the merge
turned off (`_Explorer.merge`) — and, for the fan-in, what a run can do, counted by hand.
"""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pytest import MonkeyPatch

import rolegraph
from rolegraph.compiler import paths

from .test_edge_reads import tools
from .test_error_reads import TOOLS, agents_reading_errors
from .test_explorer_vs_runs import formulas
from .test_join_order import ONE, doubled_agents


def fan_in(k: int, ensure: str = "") -> str:
    """k entry nodes, each with an edge into `z` (so z fires k times at time 2), and z's
    guarded edge into `w`: each of the k firings takes it or not."""
    lines = [f"  p{i} = step({i})" for i in range(k)]
    lines += ["  z = step()", "  w = step(1)"]
    lines += [f"  p{i} -> z(value: p{i})" for i in range(k)]
    lines += ["  z -> w(value: z) when z > 3", "  return w"]
    lines += [f"  ensure {ensure}"] if ensure else []
    return tools("step") + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


def guarded(g: int) -> str:
    """One node with g guarded edges, each to a node of its own: 2^g outcomes."""
    lines = ["  z = step(1)"] + [f"  q{i} = step()" for i in range(g)] + ["  w = step(1)"]
    for i in range(g):
        lines += [f"  z -> q{i}(value: z) when z > {i}", f"  q{i} -> w(value: q{i})"]
    lines.append("  return w")
    return tools("step") + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


def ir_of(text: str):
    (ir,) = rolegraph.check_source(text, "agent.agent").irs.values()
    return ir


class Counted:
    """What an exploration did: the outcomes it drew and applied (every branch of every
    firing) and the runs it merged (counted by `explored`, whichever class the explorer
    becomes)."""

    drawn = 0
    applied = 0
    merged = 0


def explored(ir, merge: bool = True) -> paths._Explorer:
    apply, met_within = paths._Explorer.apply, paths._Explorer.met_within
    outcomes = paths._Explorer.outcomes

    def counted_outcomes(self, state, node):
        for outcome in outcomes(self, state, node):
            Counted.drawn += 1
            yield outcome

    def counted_apply(self, state, node, outcome) -> None:
        Counted.applied += 1
        apply(self, state, node, outcome)

    def counted_met_within(self, state, scheduled, index, props) -> bool:
        met = met_within(self, state, scheduled, index, props)
        Counted.merged += met and not self.exhausted
        return met

    Counted.drawn = Counted.applied = Counted.merged = 0
    with MonkeyPatch.context() as patch:
        patch.setattr(paths._Explorer, "outcomes", counted_outcomes)
        patch.setattr(paths._Explorer, "apply", counted_apply)
        patch.setattr(paths._Explorer, "met_within", counted_met_within)
        patch.setattr(paths._Explorer, "merge", merge)
        explorer = paths._Explorer(ir)
        explorer.explore()
    return explorer


def said(ir, merge: bool) -> list[tuple[list[str], list]]:
    """Both modes' diagnostics (their whole `repr`) and verdicts with the count of states
    (a run merged within a time would only have met states explored already: merging
    changes no state's count), and the states the full search met."""
    found: list = []
    for errors_only in (False, True):
        with MonkeyPatch.context() as patch:
            patch.setattr(paths._Explorer, "merge", merge)
            diagnostics, results = paths.explore_agent(ir, errors_only=errors_only)
        found.append(([repr(d) for d in diagnostics], [(r.status, r.states) for r in results]))
    with MonkeyPatch.context() as patch:
        patch.setattr(paths._Explorer, "merge", merge)
        explorer = paths._Explorer(ir)
        explorer.explore()
    found.append(([], [len(explorer.visited), explorer.exhausted, sorted(explorer.fired)]))
    return found


def test_k_firings_of_one_node_at_one_time_are_explored_in_polynomial_work():
    # k = 24: the unmerged search applies ~2^25 outcomes (below: 2^(k+1) - 2 at k = 10)
    for k in (10, 16, 24):
        explorer = explored(ir_of(fan_in(k)))
        assert not explorer.exhausted
        assert Counted.applied <= 2 * k * k + 4 * k, (k, Counted.applied)
    explorer = explored(ir_of(fan_in(10)), merge=False)
    assert Counted.applied >= 2 ** (10 + 1) - 2


def test_the_fan_in_says_what_its_runs_can_do():
    # by hand: w fires as often as z's firings took the edge, 0 to k times, at time 3 —
    # a run where none did stalls; `w` fires in some run; no run makes w fire twice and
    # then return without w (the return joins w's first firing)
    for k in (3, 12, 24):
        checked = rolegraph.check_source(fan_in(k, "eventually w"), "fan.agent")
        codes = sorted(d.code for d in checked.diagnostics)
        assert codes == ["W0406"], (k, codes)  # stalls when no firing took the edge
        never = rolegraph.check_source(fan_in(k, "always !w"), "fan.agent")
        assert "E0506" in [d.code for d in never.diagnostics], k  # every returning run has w


def test_a_node_with_many_guards_draws_its_outcomes_only_up_to_the_bound(monkeypatch):
    # 2^20 outcomes: all listed before the first was followed (10 s and 1M outcomes at
    # g = 20, minutes at g = 24); now the search stops at the bound, drawing no more
    monkeypatch.setattr(paths, "MAX_STATES", 500)
    explorer = explored(ir_of(guarded(20)))
    assert explorer.exhausted
    assert Counted.applied <= 10 * 500, Counted.applied  # (a few firings a state)
    assert Counted.drawn <= 10 * 500, Counted.drawn  # (not the 2^20 of z's firing)


def test_a_failure_that_leaves_the_state_a_success_leaves_is_not_merged_with_it():
    # a's failure and a's success that takes the edge both start w, and b is still to
    # fire: the same state, but `failed(a)` held in one (merged, the run where it fails
    # would go unexplored, and `always !failed(a)` would be "proven")
    text = TOOLS + (
        "agent A(task: str) -> int {\n  a = f0(1)\n  b = step(1)\n  w = step(1)\n"
        "  a -> w when a > 0\n  a -> w on error\n  return w\n  ensure always !failed(a)\n}\n"
    )
    ir = ir_of(text)
    assert said(ir, True) == said(ir, False)
    diagnostics, results = paths.explore_agent(ir)
    assert [r.status for r in results] == ["violated"], diagnostics


def agree_merged(text: str) -> None:
    """Each agent of `text` says the same merged and not (unless the unmerged search
    reaches the bound); `met` counts those where the merge met a place again."""
    checked = rolegraph.check_source(text, "random.agent")
    assume(checked.irs)
    for ir in checked.irs.values():
        merged, unmerged = said(ir, True), said(ir, False)
        assume(not any("W0504" in d for found, _ in unmerged for d in found))
        assert merged == unmerged, text
        explored(ir)
        met[0] += Counted.merged > 0


met = [0]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(doubled_agents(), st.data())
def check_merged_says_the_same(agent: str, data) -> None:
    body = agent[agent.index("agent A") :]
    nodes = sorted({line.split("=")[0].strip() for line in body.splitlines() if " = " in line})
    formula = data.draw(formulas(nodes))
    agent = tools(*ONE) + agent.replace("\n}\n", f"\n  ensure {formula}\n}}\n")
    agree_merged(agent)


def test_random_agents_with_nodes_fired_twice_at_one_time_say_the_same_merged():
    """Random agents whose nodes fire twice at one time (test_join_order's), with a
    random `ensure`: the same diagnostics — counterexamples and stalls told step by
    step — and verdicts, merged and not, full and errors-only; and the merge met some."""
    met[0] = 0
    check_merged_says_the_same()
    assert met[0] >= 10, met[0]


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(agents_reading_errors())
def check_reading_merged_says_the_same(body: str) -> None:
    agree_merged(TOOLS + body)


def test_random_agents_reading_errors_say_the_same_merged():
    """test_error_reads's agents, whose states hold which nodes failed before, fire in and
    fired in a logical time (`_ReadingExplorer.now`): which `x.error` reads are proven
    (E0414), the same merged and not. (Their nodes fire once a time: the merge meets
    none; the fan-in below meets many.)"""
    check_reading_merged_says_the_same()


def reading_fan_in(k: int) -> str:
    """The fan-in, `z` flaky, and a handler of its failures that reads `z.error`."""
    lines = [f"  p{i} = step({i})" for i in range(k)] + ["  z = f0()"]
    lines += [f"  p{i} -> z(value: p{i})" for i in range(k)]
    lines += ["  r = show(1, z.error)", "  z -> r on error", "  return r"]
    return TOOLS + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


def test_k_firings_of_a_flaky_node_read_by_a_handler_merge_and_say_the_same():
    for k in (3, 5, 8):
        ir = ir_of(reading_fan_in(k))
        assert said(ir, True) == said(ir, False), k
        explorer = explored(ir)
        assert type(explorer) is paths._ReadingExplorer
        assert Counted.merged > 0 and Counted.applied <= 2 * k * k + 8 * k, Counted.applied


def test_places_that_differ_in_what_failed_before_or_within_the_time_do_not_meet():
    # (a place is met again from another time's firings only where the reads of the
    # firings still to come read the same: which nodes failed before the time, fire in
    # it and fired in it so far — `_ReadingExplorer.now`)
    explorer = paths._Explorer(ir_of(reading_fan_in(3)))
    explorer.reachability()
    state = explorer.start()
    assert state.failures is not None and explorer.bits
    bit = next(iter(explorer.bits.values()))
    assert not explorer.met_within(state, ["z", "z"], 1, set())
    assert explorer.met_within(state.copy(), ["z", "z"], 1, set())  # (the same place)
    for field in ("before", "fired", "now"):
        other = state.copy()
        assert other.failures is not None
        setattr(other.failures, field, bit)
        assert not explorer.met_within(other, ["z", "z"], 1, set()), field


def fan_in_and_a_handler(k: int) -> str:
    """The fan-in (k firings of z at one time, each taking a guarded edge or not: few
    states, ~k^2/2 places), and a flaky n whose handler reads `n.error` (proven)."""
    lines = [f"  p{i} = step({i})" for i in range(k)] + ["  z = step()", "  w = step(1)"]
    lines += [f"  p{i} -> z(value: p{i})" for i in range(k)] + ["  z -> w(value: z) when z > 3"]
    lines += ["  n = f0(1)", "  h = show(1, n.error)", "  n -> h on error", "  return w"]
    lines += ["  ensure eventually p0"]
    return TOOLS + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


def test_places_have_a_bound_of_their_own_above_the_states(monkeypatch):
    # (the review of the merge) 53 states, 156 places: with one bound for both (100), the
    # merged search ended at the places (W0504 "(39 explored)", E0414 at the proven
    # read) where the unmerged one completes (proven, no E0414); the places' bound is
    # five times the states' — and past it, the search ends, saying so
    ir = ir_of(fan_in_and_a_handler(12))
    monkeypatch.setattr(paths, "MAX_STATES", 100)
    monkeypatch.setattr(paths, "MAX_PLACES", 500)
    merged = said(ir, True)
    assert merged == said(ir, False)
    assert merged[0][1] == [("proven", 53)], merged
    monkeypatch.setattr(paths, "MAX_PLACES", 100)
    diagnostics, results = paths.explore_agent(ir)
    assert [r.status for r in results] == ["unknown"]
    assert "and 100 places within logical times" in repr(diagnostics), diagnostics
