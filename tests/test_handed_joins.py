"""A consumer of one node joins as that node's output comes (`Plan.handed`,
runtime/scheduler.py `_succeeded`), not at the next `settle`, where no node fires more
than once. The oracle is the same run with no consumer handed (every join made by
`settle`, in its order): random agents without loops — entries, joins of one node and of
two, `@nonblocking`, `async def` and thread tools, failures, guarded return edges and
return statements — give the same ending, result and trace in logical time under every
latency profile, and the same firings left out of the run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.ir import RETURN
from rolegraph.runtime import plan as plans
from rolegraph.runtime import run_agent
from rolegraph.runtime.scheduler import AgentRun

from .test_edge_reads import outcome, profiles, runs_agree_with_the_explorer, tools

TOOLS = ("step", "risky", "nb", "th", "nb", "nb")


@contextmanager
def nothing_handed(ir) -> Iterator[None]:
    """`ir`'s runs with every join made by `settle` (its plan's `handed` emptied)."""
    plan = plans.plan_of(ir)
    handed = plan.handed
    plan.handed = frozenset()
    try:
        yield
    finally:
        plan.handed = handed


@st.composite
def loopless_agents(draw) -> str:
    lines: list[str] = []
    names: list[str] = []
    for index in range(draw(st.integers(3, 9))):
        name = f"v{index}"
        tool = draw(st.sampled_from(TOOLS))
        kind = draw(st.sampled_from(("entry", "one", "one", "one", "two"))) if index else "entry"
        if kind == "one" or (kind == "two" and len(names) < 2):
            lines.append(f"  {name} = {tool}({draw(st.sampled_from(names))})")
        elif kind == "two":
            a, b = draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
            lines.append(f"  {name} = add(a: {a}, b: {b})")
        else:
            lines.append(f"  {name} = {tool}({draw(st.integers(0, 22))})")
        names.append(name)
    for _ in range(draw(st.integers(0, 2))):
        source = draw(st.sampled_from(names))
        lines.append(f"  {source} -> return({source}) when {source} > {draw(st.integers(0, 22))}")
    for _ in range(draw(st.integers(1, 2))):
        lines.append(f"  return {draw(st.sampled_from(names))}")
    return "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(loopless_agents())
def test_joins_made_as_outputs_come_run_as_joins_made_by_settle(agent):
    # (and, handed, as the explorer says: the same under every latency, what it says never
    # fires never does, no stall it does not allow)
    runs_agree_with_the_explorer(
        ADD + agent, tuple(dict.fromkeys(TOOLS)), ("step", "th"), {"W0406"}
    )
    checked = rolegraph.check_source(tools(*dict.fromkeys(TOOLS)) + ADD + agent, "handed.agent")
    assume(not checked.errors)
    ir = checked.irs["A"]
    plan = plans.plan_of(ir)
    assert not plan.repeats
    width = {c: len(deps) for c, deps in plan.joins}
    assert plan.handed == {
        c
        for c, deps in plan.joins
        if len(deps) == 1 and all(width[o] == 1 for o in plan.consumers[deps[0]])
    }
    for delays in profiles(("step", "th"), range(2)):
        handed = outcome(ir, delays)
        with nothing_handed(ir):
            made_by_settle = outcome(ir, delays)
        assert handed == made_by_settle, agent


ADD = 'tool add(a: int, b: int) -> int = "tests.test_handed_joins:add"\n'


@rolegraph.nonblocking
def add(a: int, b: int) -> int:
    return (a + b) % 23


def test_a_return_statement_is_joined_before_the_nodes_that_read_the_same_output():
    """The order of `settle` (returns sort first by name): a node that reads what a return
    statement returns, at the return's time, is skipped — never started and cancelled."""
    ir = rolegraph.check_source(
        tools("nb", "step")
        + "agent A(task: str) -> int {\n  a = nb(1)\n  b = step(a)\n  return a\n}\n",
        "handed.agent",
    ).irs["A"]
    plan = plans.plan_of(ir)
    assert plan.consumers["a"][0] == f"{RETURN}0" and "b" in plan.handed
    done = asyncio.run(run_agent(ir, {"task": "t"}))
    assert {f.node: f.status for f in done.trace.firings} == {"a": "ok", "b": "skipped"}


def test_a_chain_joins_each_link_as_it_comes_and_settle_finds_nothing_to_join(monkeypatch):
    """The hand-off is taken: in a chain of `@nonblocking` tools, no join is left for
    `settle` (where it joins the consumers marked dirty); with nothing handed, each is."""
    body = "\n".join(["  n0 = nb(1)", *[f"  n{i} = nb(n{i - 1})" for i in range(1, 20)]])
    ir = rolegraph.check_source(
        tools("nb") + f"agent A(task: str) -> int {{\n{body}\n  return n19\n}}\n",
        "handed.agent",
    ).irs["A"]
    by_settle: list[bool] = []
    joined = AgentRun._joined

    def watched(self: AgentRun, consumer: str, consumed: dict) -> None:
        by_settle.append(consumer in self.dirty)
        joined(self, consumer, consumed)

    monkeypatch.setattr(AgentRun, "_joined", watched)
    handed = asyncio.run(run_agent(ir, {"task": "t"}))
    assert len(by_settle) == 20 and not any(by_settle)
    by_settle.clear()
    with nothing_handed(ir):
        made_by_settle = asyncio.run(run_agent(ir, {"task": "t"}))
    assert len(by_settle) == 20 and all(by_settle)
    assert handed.result == made_by_settle.result
    assert [(f.key, f.status) for f in handed.trace.firings] == [
        (f.key, f.status) for f in made_by_settle.trace.firings
    ]


def full(trace) -> list[tuple]:
    """Every record of a trace, in its order: the firings left out of the run too."""
    return [(f.key, f.node, f.time, f.status, repr(f.output)) for f in trace.firings]


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(loopless_agents(), st.data())
def test_the_firings_a_return_leaves_out_are_those_settle_leaves_out(agent, data):
    """With `@nonblocking` tools alone (a run the same each time), the whole trace — the
    firings left out of the run, skipped, discarded or never recorded, and the order of
    the records — is the one with nothing handed: a firing started as an output comes
    never runs ahead of a return that `settle` would have offered before starting it (a
    return of two nodes, one of another node, a route waiting for a read)."""
    agent = agent.replace("step(", "nb(").replace("risky(", "nb(").replace("th(", "nb(")
    if data.draw(st.booleans()):
        names = sorted(
            {line.split(" = ")[0].strip() for line in agent.splitlines() if " = " in line}
        )
        if len(names) > 1:
            a, b = data.draw(st.lists(st.sampled_from(names), min_size=2, max_size=2, unique=True))
            agent = agent.replace("\n}\n", f"\n  return {a} + {b}\n}}\n")
    checked = rolegraph.check_source(tools(*dict.fromkeys(TOOLS)) + ADD + agent, "handed.agent")
    assume(not checked.errors)
    ir = checked.irs["A"]

    def whole():
        try:
            done = asyncio.run(run_agent(ir, {"task": "t"}))
        except rolegraph.runtime.RunError as error:
            return type(error).__name__, full(error.trace)
        return done.result, full(done.trace)

    handed = whole()
    with nothing_handed(ir):
        assert handed == whole(), agent


@st.composite
def edged_agents(draw) -> str:
    """`loopless_agents`, with nodes that edges start (guarded, reading other nodes, on
    error): routes still to be taken, and firings in flight of earlier times, when a
    consumer is handed an output."""
    agent = draw(loopless_agents())
    names = [line.split(" = ")[0].strip() for line in agent.splitlines() if " = " in line]
    lines = []
    for index in range(draw(st.integers(1, 3))):
        name = f"e{index}"
        source, read = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        condition = draw(st.sampled_from(("", f" when {read} > 5", " on error")))
        lines.append(f"  {name} = {draw(st.sampled_from(TOOLS))}(0)")
        lines.append(f"  {source} -> {name}(value: {source}){condition}")
        if draw(st.booleans()):
            lines.append(f"  j{index} = {draw(st.sampled_from(TOOLS))}({name})")
            names.append(f"j{index}")
        names.append(name)
    return agent.replace("\n}\n", "\n" + "\n".join(lines) + "\n}\n")


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(edged_agents())
def test_a_consumer_handed_an_output_never_has_to_wait_for_an_earlier_one(agent):
    """`_hand` does not ask `_waits` (runtime/scheduler.py): where consumers are handed
    (no node fires more than once), nothing in flight or still to be routed may lead to
    an output keyed before the one handed. Asked here at every hand-off, under every
    latency profile: never; and the runs agree with those that hand nothing."""
    checked = rolegraph.check_source(tools(*dict.fromkeys(TOOLS)) + ADD + agent, "handed.agent")
    assume(not checked.errors)
    ir = checked.irs["A"]
    assume(plans.plan_of(ir).handed)
    waited: list[str] = []
    hand = AgentRun._hand

    def asked(self: AgentRun, consumer: str, dep: str, head) -> None:
        if self._waits(dep, head):
            waited.append(consumer)
        hand(self, consumer, dep, head)

    AgentRun._hand = asked  # type: ignore[method-assign]
    try:
        for delays in profiles(("step", "th"), range(2)):
            handed = outcome(ir, delays)
            with nothing_handed(ir):
                assert handed == outcome(ir, delays), agent
    finally:
        AgentRun._hand = hand  # type: ignore[method-assign]
    assert not waited, agent


def test_no_consumer_is_handed_where_a_node_may_fire_more_than_once():
    """What lets `_hand` skip `_waits`: with a loop, or a node that two sources start,
    nothing is handed (`Plan.handed`), and every join waits as `join` says."""
    for body in (
        "  a = nb(1)\n  b = nb(a)\n  b -> a(value: b) when b < 5 max 3\n  return b",
        "  a = nb(1)\n  b = nb(2)\n  c = nb(0)\n  a -> c(value: a)\n  b -> c(value: b)\n"
        "  d = nb(c)\n  return d",
    ):
        ir = rolegraph.check_source(
            tools("nb") + f"agent A(task: str) -> int {{\n{body}\n}}\n", "handed.agent"
        ).irs["A"]
        plan = plans.plan_of(ir)
        assert plan.repeats and not plan.handed, body


def test_a_consumer_handed_its_outputs_has_no_queue_made():
    """A run makes the queue of a consumer of one node when an output is first queued for
    it (`_succeeded`): in a fan-out of handed branches and a wide join, only the wide
    join's; with nothing handed, the branches' too (and the same trace)."""
    body = "\n".join(["  s = nb(1)", *[f"  b{i} = nb(s)" for i in range(4)]])
    ir = rolegraph.check_source(
        tools("nb")
        + ADD
        + f"agent A(task: str) -> int {{\n{body}\n  j = add(a: b0, b: b3)\n  return j\n}}\n",
        "handed.agent",
    ).irs["A"]

    def ran() -> tuple[set[str], list[tuple]]:
        from rolegraph.runtime.context import Context

        run = AgentRun(ir, {"task": "t"}, Context(lambda node: None))
        asyncio.run(run.execute())
        return set(run.queues), full(run.trace)

    made, trace = ran()
    assert made == {"j", "s"}  # (and the entry's: no queue, it joins nothing)
    with nothing_handed(ir):
        made_by_settle, trace_by_settle = ran()
    assert made_by_settle == {"j", "s", "b0", "b1", "b2", "b3", f"{RETURN}0"}
    assert trace == trace_by_settle


def test_a_consumer_is_not_handed_an_output_once_the_store_has_failed_the_run(tmp_path):
    """A save that fails as an output comes ends the run (`_succeeded`): its consumer,
    handed or not, is not started — no record of it, skipped or other, past the firing
    whose save failed (`settle` joins nothing once the run is over)."""
    import sqlite3

    from rolegraph.runtime import Store
    from rolegraph.runtime import store as stores
    from rolegraph.runtime.errors import StoreError

    from .test_store_faults import FaultyConnection, fail_on

    length = stores.BATCH + 5
    body = "\n".join(["  n0 = nb(1)", *[f"  n{i} = nb(n{i - 1})" for i in range(1, length)]])
    ir = rolegraph.check_source(
        tools("nb") + f"agent A(task: str) -> int {{\n{body}\n  return n{length - 1}\n}}\n",
        "handed.agent",
    ).irs["A"]
    assert "n1" in plans.plan_of(ir).handed
    store = Store(tmp_path / "s.sqlite")
    full_disk = sqlite3.OperationalError("database or disk is full")
    store._db = FaultyConnection(store._db, fail_on("INSERT INTO checkpoints"), full_disk)
    try:
        asyncio.run(run_agent(ir, {"task": "t"}, store=store))
    except StoreError as error:
        records = error.trace.firings
    else:
        raise AssertionError("the store's failure did not end the run")
    assert [f.status for f in records] == ["ok"] * len(records), [
        (f.node, f.status) for f in records
    ]
