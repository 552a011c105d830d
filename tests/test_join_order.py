"""A join consumes each queue in key order when a node it joins fires twice at one logical
time (DESIGN §3 rules 2b and 5; docs/semantics.md, "Joins"): it waits while an output of
that node keyed before its head may still arrive — from a firing earlier in time, from a
firing of that node of the head's own time with a smaller key, from a route still to be
taken that starts that node at the head's time, or from a join not yet made in the same
`settle` (runtime/scheduler.py `join`, `_blocker`). The oracle: the same agent under other
latencies (each firing of the doubled node slow alone, and random delays) gives the same
result and trace in logical time, and the head taken first is the one of least key (the
review of s15: /tmp/s15/join1.py, 107 or 207 by which firing of z landed first).
"""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import plan

from .test_edge_reads import compiled, outcome, pause, profiles, runs_agree_with_the_explorer, tools
from .test_edge_reads_paths import same_under_every_profile

HERE = "tests.test_join_order"


async def lag(value: int) -> int:
    """Its value, after the delay the profile gives `lag<value>` (each firing its own)."""
    await pause(f"lag{value}")
    return value


async def pair(value: int, other: int) -> int:
    await pause("pair")
    return value * 100 + other


@rolegraph.nonblocking
def nbpair(value: int, other: int) -> int:
    return (value * 3 + other) % 23


TOOLS = (
    tools("fast", "slow")
    + f'tool lag(value: int) -> int = "{HERE}:lag"\n'
    + f'tool pair(value: int, other: int) -> int = "{HERE}:pair"\n'
)
# each firing of `lag` slow alone (by its value), and random delays per call
LAGS = profiles(("lag1", "lag2", "lag3", "fast"), range(4))


def least_keyed(trace, node: str, time: int) -> str:
    """The output of `node`'s firing of least key at `time` (a trace in logical time)."""
    return min(f for f in trace if f[1] == node and f[2] == time)[5]


TWO_EDGES = """agent A(task: str) -> int {
  p = fast(1)
  q = fast(2)
  z = lag()
  p -> z(value: 1)
  q -> z(value: 2)
  w = fast(6)
  a = pair(z, w)
  return a
}
"""


def test_a_join_pairs_a_node_fired_twice_at_one_time_by_key_whatever_lands_first():
    # z fires twice at time 2 (one edge from p, one from q): a pairs the firing of least
    # key with w, whichever of them lands first (join1.py)
    ending, trace = same_under_every_profile(compiled(TOOLS + TWO_EDGES), LAGS)
    assert ending == ("returned", int(least_keyed(trace, "z", 2)) * 100 + 7)


NAMED_BEFORE = """agent A(task: str) -> int {
  p = fast(1)
  q = fast(2)
  z = lag()
  p -> z(value: 1)
  q -> z(value: 2)
  v = lag()
  p -> v(value: 3)
  q -> v(value: 1)
  zz = pair(z, v)
  w = fast(6)
  a = pair(zz, w)
  return a
}
"""


def test_a_join_waits_for_a_join_of_its_head_not_yet_made_whatever_the_names():
    # zz joins the firings of z and v (each twice at time 2) twice at time 3, its keys in
    # another order than theirs; a, named before zz, must not pair the zz that landed
    # while the other zz's join, ready in the same `settle`, is not yet in flight
    # (`settle` makes joins in the logical time of their firings, not in name order)
    ending, trace = same_under_every_profile(compiled(TOOLS + NAMED_BEFORE), LAGS)
    assert ending == ("returned", int(least_keyed(trace, "zz", 3)) * 100 + 7)


ROUTED = """agent A(task: str) -> int {
  y = slow(1)
  x = fast(0)
  r = fast(1)
  z = lag(x)
  r -> z(value: 2)
  w = fast(6)
  a = pair(z, w)
  return a
  enforce always(not (a and y))
}
"""


def test_a_join_waits_for_a_route_still_to_be_taken_that_starts_its_head_node_at_its_time():
    # z fires at time 2 twice: as a join of x(1), at once, and by r(1)'s edge, whose
    # route waits under the shield for y(1) (slow or not) and starts the z of lesser key:
    # a waits for that route (`_routing_to`, `semantics.may_start`), not only for routes
    # that start z earlier than its head
    ending, trace = same_under_every_profile(compiled(TOOLS + ROUTED), LAGS)
    assert ending == ("returned", int(least_keyed(trace, "z", 2)) * 100 + 7)


UPSTREAM = """agent A(task: str) -> int {
  s = lag(3)
  e = fast(s)
  e -> z(value: 1)
  p = fast(1)
  q = fast(p)
  q -> z(value: 2)
  z = lag()
  w = fast(6)
  a = pair(z, w)
  return a
}
"""


def test_a_join_waits_for_an_earlier_join_not_yet_made_that_leads_to_its_head_node():
    # z fires twice at time 3, from e(2) (a join of s(1)) and from q(2): a, named before
    # e, must not pair the z from q while e's join is ready in the same `settle` and not
    # yet made
    ending, trace = same_under_every_profile(compiled(TOOLS + UPSTREAM), LAGS)
    assert ending == ("returned", int(least_keyed(trace, "z", 3)) * 100 + 7)


AGAIN = """agent A(task: str) -> int {
  s1 = fast(1)
  s2 = fast(s1)
  s3 = fast(s2)
  s4 = fast(s3)
  s5 = fast(s4)
  x = lag()
  s2 -> x(value: 3)
  s4 -> x(value: 5)
  zz = fast(x)
  d = lag()
  s1 -> d(value: 10)
  s5 -> d(value: 20)
  zz -> d(value: zz)
  a = pair(d, x)
  a -> return(a) when a != 1003
}
"""


def test_a_consumer_that_joins_again_in_one_settle_waits_for_an_earlier_join_made_after_it():
    # (the review of s15-order, often.py) when x(3) lands, a joins (d(2), x(3)), and its
    # next heads are d(6) and x(5); zz's join of x(3), ready in the same `settle`, makes
    # zz(4), which starts d(5): a must not join again before that join is made (joins of
    # one pass in the time of their firings: a heap, not each consumer as often as it can)
    ending, trace = same_under_every_profile(compiled(TOOLS + AGAIN), LAGS)
    d = sorted((f[2], f[5]) for f in trace if f[1] == "d")
    assert d[:2] == [(2, "10"), (5, "4")] and ending == ("returned", 405), (ending, d)


def test_the_nodes_that_may_fire_twice_at_one_time_are_those_with_two_sources_and_after():
    # `Plan.twice` (which nodes' firings of one time a join must order by key) against
    # the definition: two edges into a node, or an edge and a join, and whatever they
    # lead to; a node one edge or one join starts, from nodes that fire once a time, not
    for source, expected in [
        (TWO_EDGES, {"z", "a"}),
        (NAMED_BEFORE, {"z", "v", "zz", "a"}),
        (ROUTED, {"z", "a"}),
        (UPSTREAM, {"z", "a"}),
    ]:
        derived = plan.derive(compiled(TOOLS + source))
        assert derived.twice == expected and derived.repeats, source
    # `Plan.repeats`: a loop, or a self-edge, with no node fired twice at one time; and
    # neither (every node fires once at most: `settle` may make the joins in any order)
    loop = "  s = fast(1)\n  t = fast(s)\n  t -> s(value: t) when t < 5 max 3\n  return t\n"
    self_edge = "  s = fast(1)\n  s -> s(value: s) when s < 5 max 3\n  return s\n"
    once = "  s = fast(1)\n  t = fast(s)\n  s -> u(value: s)\n  u = fast()\n  return t\n"
    for body, repeats in [(loop, True), (self_edge, True), (once, False)]:
        derived = plan.derive(compiled(TOOLS + "agent A(task: str) -> int {\n" + body + "}\n"))
        assert not derived.twice and derived.repeats == repeats, body


def fan_in(width: int) -> str:
    """A node fired `width` times at one logical time (an edge each from one firing),
    joined by another (and that one by a join that fires once, then returns)."""
    edges = "".join(f"  p -> z(value: {i})\n" for i in range(width))
    return (
        TOOLS
        + "agent A(task: str) -> int {\n  p = fast(1)\n  z = fast()\n"
        + edges
        + "  a = fast(z)\n  x = fast(p)\n  j = pair(a, x)\n  return j\n}\n"
    )


def counted_run(ir) -> tuple[tuple, object, int]:
    """How a run of `ir` with no latencies ends, its trace, and the Python calls it made
    (bench/count_join_fan_in.py counts them too)."""
    import sys

    calls = [0]

    def count(frame, event, arg):
        if event == "call":
            calls[0] += 1

    sys.setprofile(count)
    try:
        ending, trace = outcome(ir, lambda name: 0.0)
    finally:
        sys.setprofile(None)
    return ending, trace, calls[0]


def test_a_join_of_a_node_fired_w_times_at_one_time_costs_linear_in_w():
    # each of the W firings of z lands while the others of its time are in flight, and
    # a's join asks whether one keyed before its head may still arrive: of the least-keyed
    # one in flight alone (`_least_in_flight`), not of each (the review of s15's first
    # attempt: 402603 calls at W = 800, against 1611 on main). The Python calls a run
    # makes grow as W, not as W².
    counts = []
    for width in (100, 400):
        ending, trace, calls = counted_run(compiled(fan_in(width)))
        assert ending == ("returned", int(least_keyed(trace, "a", 3)) * 100 + 3), width
        counts.append(calls)
    # (W² would be 16x; linear, 4x)
    assert counts[1] <= 5 * counts[0], counts


# -- a property: random agents whose two-input joins join nodes fired twice at one time ---

ONE = ("step", "nb", "th", "risky")  # (tests/test_edge_reads.py's: pure, with latencies)
TWO = (
    f'tool pair(value: int, other: int) -> int = "{HERE}:pair"\n'
    f'tool nbpair(value: int, other: int) -> int = "{HERE}:nbpair"\n'
)


@st.composite
def doubled_agents(draw) -> str:
    """Random agents whose nodes fire twice at one logical time (two edges from sources
    of one time, or an edge and a join; whatever those lead to), joined by two-input
    joins (`pair`, with a task, and `nbpair`, `@nonblocking`) and one-input ones; the
    edges guarded or not, one bounded edge back (a loop), and return edges."""
    lines: list[str] = []
    names: list[str] = []
    single: list[str] = []  # (those an edge may start: one parameter)
    count = draw(st.integers(3, 7))
    for index in range(count):
        name = f"v{index}"
        kinds = ("entry", "join", "pair", "pair", "edges") if index > 1 else ("entry",)
        kind = draw(st.sampled_from(kinds)) if index else "entry"
        if kind == "pair":
            first, second = draw(st.sampled_from(names)), draw(st.sampled_from(names))
            tool = draw(st.sampled_from(("pair", "nbpair")))
            lines.append(f"  {name} = {tool}({first}, {second})")
        else:
            tool = draw(st.sampled_from(ONE))
            single.append(name)
            if kind == "join":
                lines.append(f"  {name} = {tool}({draw(st.sampled_from(names))})")
            else:
                lines.append(f"  {name} = {tool}({'' if kind == 'edges' else 1})")
            into = draw(st.integers(1 if kind == "edges" else 0, 3)) if index else 0
            for _ in range(into):
                source = draw(st.sampled_from(names))
                guard = draw(st.sampled_from(["", f" when {source} > {draw(st.integers(0, 22))}"]))
                lines.append(f"  {source} -> {name}(value: {source}){guard}")
        names.append(name)
    back_from = draw(st.sampled_from(names))
    back_to = draw(st.sampled_from(single))
    lines.append(
        f"  {back_from} -> {back_to}(value: {back_from})"
        f" when {back_from} > {draw(st.integers(0, 22))} max {draw(st.integers(1, 2))}"
    )
    for _ in range(draw(st.integers(0, 1))):
        source = draw(st.sampled_from(names))
        lines.append(f"  {source} -> return({source}) when {source} > {draw(st.integers(0, 22))}")
    lines.append(f"  return {names[-1]}")
    return TWO + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(doubled_agents())
def test_random_agents_whose_joins_join_nodes_fired_twice_at_one_time_run_the_same(agent):
    # the same result and trace in logical time under every latency profile, 0 included,
    # and what the explorer says holds of each run
    runs_agree_with_the_explorer(agent, ONE, ("step", "th", "risky"), {"W0406"})


async def nap(value: int) -> int:
    await asyncio.sleep(0.2)
    return value


LONG_LOOP = """agent A(task: str) -> int {
  s = fast(0)
  t = fast(s)
  t -> s(value: t) when t < 2000 max 200
  z = fast(t)
  t -> z(value: t)
  j = fast(z)
  h = nap(1)
  t -> return(t) when t > 200
}
"""


def test_the_heap_of_a_node_fired_twice_stays_near_its_firings_in_flight(monkeypatch):
    # (the review of s15-order, heap2.py) z fires twice at each time of a 200-turn loop
    # while h, of time 1, is in flight all along: the keys of z's firings that landed
    # leave its heap (`AgentRun.flying`) even though none is ever the least in flight
    # at the earliest time (it held every firing of z: 200)
    from rolegraph.runtime import scheduler

    seen: list[int] = []
    settle = scheduler.AgentRun.settle

    def watched(run) -> None:
        seen.append(len(run.flying.get("z", ())))
        settle(run)

    monkeypatch.setattr(scheduler.AgentRun, "settle", watched)
    text = TOOLS + f'tool nap(value: int) -> int = "{HERE}:nap"\n' + LONG_LOOP
    ending, trace = outcome(compiled(text), lambda name: 0.0)
    assert ending == ("returned", 202)
    assert len([f for f in trace if f[1] == "z"]) >= 200 and max(seen) <= 20, max(seen)
