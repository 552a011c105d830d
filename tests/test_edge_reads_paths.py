"""An edge reads, and a route is taken, by logical time on every path a firing takes: with
a task, with none (`@nonblocking`, a batch run by `settle`), and under an `enforce`
shield; and a bounded edge's `max` is spent by its source's firings in key order, as the
explorer spends it (DESIGN §3 rule 5; runtime/scheduler.py `_take_routes`, `_blocker`).
The oracle: the same agent under other latencies, 0 included — with deterministic tools
the result and the trace in logical time are the same under every profile — and, where
one is written, the result the semantics gives (the review of s12-reads: batch.py,
inline.py, shield.py; the count's order).
"""

from collections.abc import Callable

import pytest

from rolegraph.runtime import plan

from .test_edge_reads import compiled, outcome, profiles, tools

BATCH = """agent A(task: str) -> int {
  l = nb(1)
  l -> l max 31
  p = fast(1)
  q = slow(1)
  d = nb(p)
  c = nb(d)
  x = nb(q)
  x -> a
  a = nb(1)
  c -> a when c > 100
  a -> return(c)
}
"""


def same_under_every_profile(
    ir, delays: list[Callable[[str], float]], fails: dict[str, list[bool]] | None = None
) -> tuple:
    runs = [outcome(ir, profile, fails) for profile in delays]
    assert all(run == runs[0] for run in runs), runs
    return runs[0]


def test_a_nonblocking_firings_edge_reads_a_join_its_batch_has_not_made_yet():
    # a(3)'s edge reads c before 4: c(3), a join on d(2) made in the same batch of
    # `@nonblocking` firings as a(3) (after 31 loop firings in a row), whatever ends first
    ir = compiled(tools("nb", "fast", "slow") + BATCH)
    ending, trace = same_under_every_profile(ir, profiles(("fast", "slow"), range(3)))
    c = [f for f in trace if f[1] == "c"]
    assert ending == ("returned", 3) and [(f[2], f[5]) for f in c] == [(3, "3")]


INLINE = """agent A(task: str) -> int {
  x = X(1)
  d = nb(1)
  c = nb(d)
  x -> a
  a = nb(1)
  c -> a when c > 100
  a -> return(c)
}
"""


def test_an_inline_firings_edge_reads_a_join_of_its_own_time_with_no_latency_at_all():
    # every firing `@nonblocking` (or x a task): a(2)'s edge reads c(2), a join that
    # the batch makes after a(2) ended
    for x in ("nb", "fast"):
        ir = compiled(tools("nb", "fast") + INLINE.replace("X(", f"{x}("))
        ending, _ = same_under_every_profile(ir, profiles(("fast",), range(3)))
        assert ending == ("returned", 17), x


SHIELD = """agent A(task: str) -> int {
  p = fast(1)
  d = slow(p)
  c = fast(d)
  q = fast(1)
  x = fast(q)
  a = later(x)
  c -> a(value: 1) when c > 100
  a -> return(c)
  SHIELD
}
"""


async def later(value: int) -> int:
    from .test_edge_reads import pause

    await pause("later")
    return value + 1


def test_a_shielded_route_is_taken_after_the_joins_of_its_time():
    # under an `enforce` shield, a(3)'s route waits for every firing of time 3 or before,
    # c(3) too, a join on d(2) made when d ends: it returns c(3) = 4, as without a shield
    for shield in ("", "enforce always(not (a and d))"):
        text = tools("fast", "slow")
        text += 'tool later(value: int) -> int = "tests.test_edge_reads_paths:later"\n'
        ir = compiled(text + SHIELD.replace("SHIELD", shield))
        ending, _ = same_under_every_profile(ir, profiles(("slow", "later"), range(3)))
        assert ending == ("returned", 4), shield


TWICE = """agent A(task: str) -> int {
  p = P(1)
  q = Q(1)
  p -> n(value: 10)
  q -> n(value: 20)
  n = N()
  n -> m(value: n) max 1
  m = fast()
  return m
}
"""

TWICE_LATER = """agent A(task: str) -> int {
  p = P(1)
  q = Q(1)
  r = fast(q)
  p -> n(value: 10)
  r -> n(value: 20)
  n = N()
  n -> m(value: n) max 1
  m = fast()
  return m
}
"""


def test_a_bounded_edge_is_spent_by_its_sources_firings_in_key_order():
    # n fires twice at logical time 2 (from p and from q), or at 2 and 3 (from p, and
    # from r after q): which of them takes `n -> m max 1` is the one first by key
    # (logical time first, as the explorer steps), not the one that ends first
    for agent in (TWICE, TWICE_LATER):
        for p, q, n in (("fast", "slow", "fast"), ("slow", "fast", "nb"), ("nb", "slow", "nb")):
            text = agent.replace("P(", f"{p}(").replace("Q(", f"{q}(").replace("N(", f"{n}(")
            ir = compiled(tools("nb", "fast", "slow") + text)
            ending, trace = same_under_every_profile(ir, profiles(("fast", "slow"), range(3)))
            assert ending[0] == "returned", (agent, p, q, n)
            assert len([f for f in trace if f[1] == "m"]) == 1
    # n(2) before n(3), whichever ends first: m reads n(2) = 11
    ir = compiled(
        tools("nb", "fast", "slow")
        + TWICE_LATER.replace("P(", "slow(").replace("Q(", "fast(").replace("N(", "fast(")
    )
    ending, _ = same_under_every_profile(ir, profiles(("fast", "slow"), range(3)))
    assert ending == ("returned", 12)


FAILED_TWICE = """agent A(task: str) -> int {
  p = P(1)
  q = Q(1)
  p -> n(value: 10)
  q -> n(value: 20)
  n = risky()
  n -> h(value: 1) on error max 1
  h = fast()
  return h
}
"""


def test_a_bounded_on_error_edge_is_spent_in_key_order_and_the_other_failure_fails_the_run():
    # both n(2) fail (`risky` refuses 10 and 20): the first by key takes `on error max
    # 1`, the other fails the run — the same one, whichever ended first
    import asyncio

    from rolegraph.runtime import FiringFailed, MockModel, run_agent

    from . import test_edge_reads

    messages = set()
    for p, q in (("fast", "slow"), ("slow", "fast"), ("nb", "nb")):
        text = FAILED_TWICE.replace("P(", f"{p}(").replace("Q(", f"{q}(")
        ir = compiled(tools("risky", "nb", "fast", "slow") + text)
        for profile in profiles(("fast", "slow", "risky"), range(3)):
            test_edge_reads.delay_of = profile
            try:
                asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
            except FiringFailed as error:
                messages.add(str(error).splitlines()[0])
    assert len(messages) == 1, messages


UNRELATED_ROUTE = """agent A(task: str) -> int {
  s = fast(1)
  s -> x(value: 5)
  z = fast(1)
  p = hold(z)
  q1 = fast(1)
  q2 = fast(q1)
  q3 = fast(q2)
  x = fast(q3)
  x -> y when x > 100
  y = fast(1)
  c = tick(x)
  return p
  SHIELD
}
"""


def test_a_join_does_not_wait_for_a_route_that_cannot_lead_back_to_what_it_joins():
    # under the shield x(2)'s route waits for p(2); x's edges start only y, so the join of
    # c on x(4) is made at once, as without the shield: p ends only once tick (c) has been
    # called twice, so a join that waited for x's route would never end (review s13-order
    # hang.py, overwait.py): a bound on the run's wall time fails the test rather than hang
    # the suite, and c(5) starts before p ends (the order of events, not a duration)
    import asyncio

    from rolegraph.runtime import MockModel, run_agent

    from . import test_edge_reads as reads

    for shield in ("", "enforce always(not (y and p))"):
        text = tools("hold", "tick", "fast") + UNRELATED_ROUTE.replace("SHIELD", shield)
        ir = compiled(text)
        reads.ticks.update(calls=0, until=2)
        reads.delay_of = lambda name: 0.0

        async def bounded(ir=ir):
            return await asyncio.wait_for(run_agent(ir, {"task": "t"}, model=MockModel()), 30)

        try:
            result = asyncio.run(bounded())
        finally:
            reads.ticks.update(calls=0, until=0)
        assert result.result == 3, shield
        p_ended = next(f.ended for f in result.trace.firings if f.node == "p")
        c = sorted((f.time, f.started) for f in result.trace.firings if f.node == "c")
        assert [time for time, _ in c] == [3, 5], shield
        assert all(started < p_ended for _, started in c), shield


async def add(a: int, b: int) -> int:
    return a + b


ADD_TOOLS = tools("fast", "slow") + (
    'tool add(a: int, b: int) -> int = "tests.test_edge_reads_paths:add"\n'
)


ROUTE_BEFORE_JOIN = """agent A(task: str) -> int {
  y = slow(1)
  z = fast(1)
  z -> d(value: 10)
  e = fast(1)
  q1 = fast(1)
  q2 = fast(q1)
  q3 = fast(q2)
  d = fast(q3)
  c = add(d, e)
  return c
  enforce always(not (c and y))
}
"""


def test_a_join_waits_for_a_route_still_to_be_taken_that_starts_what_it_joins():
    # under the shield z(1)'s route waits for y(1) (slow or not); it starts d(2) = 11,
    # which c pairs with e(1), before d(4) = 5 made by the joins: c(3) = 13 under every
    # profile (a join that did not wait for z's route would pair d(4) when y is slow)
    ir = compiled(ADD_TOOLS + ROUTE_BEFORE_JOIN)
    ending, _ = same_under_every_profile(ir, profiles(("slow", "fast"), range(3)))
    assert ending == ("returned", 13)


ROUTE_BEFORE_READ = """agent A(task: str) -> int {
  y = slow(1)
  w = fast(1)
  z = fast(w)
  z -> d(value: 10)
  d = fast(w)
  q = fast(d)
  c = add(q, latest(d))
  return c
  enforce always(not (c and y))
}
"""


def test_a_read_waits_for_a_route_still_to_be_taken_that_starts_what_it_reads():
    # under the shield z(2)'s route waits for y(1) (slow or not); it starts d(3) = 11,
    # which c(4) (joining q(3) = 4, from d(2) = 3) reads as `latest(d)` before 4
    # (waiting for y through z's route: `_root_blocker`), never d(2): c(4) = 15 under
    # every profile. (No join waits for z's route here: q's and c's are of time 3 or
    # before, and what z starts is of time 3: `_routing_to`.)
    ir = compiled(ADD_TOOLS + ROUTE_BEFORE_READ)
    ending, _ = same_under_every_profile(ir, profiles(("slow", "fast"), range(3)))
    assert ending == ("returned", 15)


STALE = """agent A(task: str) -> int {
  s = slow(1)
  b = nb(1)
  b -> c(value: 1) max 1
  c = fast()
  f = fx(1)
  f -> g(value: 3) on error
  g = fast()
  g -> h(value: g) when g > 0 max 1
  h = fast()
  return h
}
"""


def test_a_route_does_not_wait_for_a_firing_that_failed_after_the_firings_were_indexed():
    # b's bounded route indexes the firings in flight by node (`AgentRun.by_node`); f
    # fails after that, and g's bounded route must not find it there still (the review
    # of s14-order: with the failed firing left in the index, the run stalled)
    ir = compiled(tools("slow", "nb", "fast", "fx") + STALE)
    delays = profiles(("slow", "fx"), range(3))
    ending, _ = same_under_every_profile(ir, delays, {"fx": [True]})
    assert ending == ("returned", 5)


@pytest.mark.parametrize(
    "test",
    [
        test_a_shielded_route_is_taken_after_the_joins_of_its_time,
        test_a_bounded_edge_is_spent_by_its_sources_firings_in_key_order,
        test_a_bounded_on_error_edge_is_spent_in_key_order_and_the_other_failure_fails_the_run,
        test_a_route_does_not_wait_for_a_firing_that_failed_after_the_firings_were_indexed,
    ],
    ids=lambda test: test.__name__[5:40],
)
def test_routes_wait_alike_when_too_many_nodes_lead_to_what_they_read_to_list(test, monkeypatch):
    # `Plan.feeders` lists no node (FEEDERS = 0): each route looks at every node in flight
    monkeypatch.setattr(plan, "FEEDERS", 0)
    test()
