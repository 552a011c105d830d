"""The per-firing bookkeeping the scheduler derives once per node (runtime/plan.py) held to
what it replaces: a firing's label (`keys.label`) to `repr` of its key, and the outputs
a run keeps for later reads (`Plan.kept`) to keeping every node's, on seeded random
agents (tool nodes that join, read `latest` and `history`, loop on edges whose guards and
ports read other nodes; and the checker's random role agents)."""

import asyncio
import zlib
from ast import literal_eval
from contextlib import suppress
from dataclasses import replace
from unittest.mock import patch

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.runtime import MockModel, RunError, run_agent
from rolegraph.runtime.keys import edge_key, firing_key, join_key, label
from rolegraph.runtime.plan import plan_of
from rolegraph.runtime.scheduler import AgentRun, Inflight

from .checking import PRELUDE
from .test_check_property import well_typed_agents
from .test_tool_nonblocking import tools

names = st.text(min_size=1, max_size=12)  # (quotes, backslashes, non-ASCII: repr's cases)
times = st.integers(0, 10**6)


class _Head:
    def __init__(self, key: tuple) -> None:
        self.time, self.key, self.label = key[0], key, repr(key)


@settings(derandomize=True, max_examples=300)
@given(times, names, names, st.integers(0, 10**4), st.lists(names, min_size=1, max_size=4))
def test_a_label_is_repr_of_its_key(time: int, node: str, other: str, index: int, joined) -> None:
    """Every key the runtime makes (at the start, by an edge, by a join of one head or
    of several), written by `label` from its node's name quoted once, as `repr` writes
    it."""
    entry = firing_key(time, node, "entry")
    heads = [_Head(firing_key(time + i, name, "entry")) for i, name in enumerate(joined)]
    made = [
        entry,
        edge_key(time + 1, other, index, repr(entry)),
        join_key(other, heads),
        join_key(other, heads[:1]),
    ]
    for key in made:
        assert label(key, repr(key[1])) == repr(key)


# -- the outputs a run keeps --------------------------------------------------------------


@st.composite
def reading_agents(draw) -> str:
    """Tool nodes (`step`, `add`, `total`) that join earlier nodes, read `latest(x)` of
    an ancestor or `history(x)` of any node, and loop back on edges whose guards and
    ports read other nodes than their source."""
    lines: list[str] = []
    nodes: list[str] = []
    ancestors: dict[str, set[str]] = {}
    for index in range(draw(st.integers(1, 7))):
        name = f"n{index}"
        kind = draw(st.sampled_from(["step", "add", "latest", "history"] if nodes else ["step"]))
        joined: list[str] = []
        if kind == "step":
            joined = [draw(st.sampled_from(nodes))] if nodes and draw(st.booleans()) else []
            lines.append(f"  {name} = step({joined[0] if joined else draw(st.integers(0, 5))})")
        elif kind == "add":
            joined = sorted({draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))})
            lines.append(f"  {name} = add({joined[0]}, {joined[-1]})")
        elif kind == "latest":
            joined = [draw(st.sampled_from(nodes))]
            read = draw(st.sampled_from(sorted(ancestors[joined[0]] | {joined[0]})))
            lines.append(f"  {name} = add({joined[0]}, latest({read}))")
        else:
            lines.append(f"  {name} = total(history({draw(st.sampled_from(nodes))}))")
        ancestors[name] = set(joined).union(*(ancestors[j] for j in joined))
        nodes.append(name)
    ends = f"  return [{', '.join(nodes)}]"
    for _ in range(draw(st.integers(0, 2))):
        source, target, read = (draw(st.sampled_from(nodes)) for _ in range(3))
        # (an `add` started by an edge that binds one port reads the other's node: its
        # latest output, as it stands then)
        port = {"step(": "value", "add(n": "a"}.get(lines[nodes.index(target)].split()[2][:5])
        if port is None:
            continue
        bound = draw(st.integers(1, 3))
        lines.append(f"  {source} -> {target}({port}: {read}) when {read} < 30 max {bound}")
        if draw(st.booleans()):  # (the run ends there, not at a join of every node)
            ends = f"  {source} -> return([{source}]) else"
    lines.append(ends)
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}"


def records(text: str, keep_all: bool, model: MockModel | None = None, *, refused: str = ""):
    """The run's result (or error) and every firing of it: time, node, key, status,
    inputs, output, error. `keep_all`: every node's outputs kept, the path `Plan.kept` replaces.
    `refused`: the one error code the checker gives the agent, run all the same (its IR
    is built before the explorer's verdicts)."""
    if refused:
        checked = rolegraph.check_source(text, "test.agent")
        assert {d.code for d in checked.errors} == {refused}, [str(d) for d in checked.errors]
        ir = checked.irs["A"]
    else:
        ir = rolegraph.load_agent("test.agent", "A", text=text)
    if keep_all:
        plan = plan_of(ir)
        plan.ending = {node: (c, routed, True) for node, (c, routed, _) in plan.ending.items()}
        plan.kept = frozenset(ir.nodes)
    try:
        done = asyncio.run(run_agent(ir, {"task": "t"}, model=model or MockModel()))
        result, trace = repr(done.result), done.trace
    except RunError as error:
        result, trace = f"{type(error).__name__}: {error}", error.trace
    firings = trace.firings if trace is not None else []
    return result, sorted(  # (those of the run, in key order: the others depend on timing)
        (r.time, r.node, r.key, r.status, repr(r.inputs), repr(r.output), r.error)
        for r in firings
        if r.status in ("ok", "failed")
    )


@settings(max_examples=150, deadline=None, derandomize=True)
@given(reading_agents(), st.sampled_from(["marked", "plain"]))
def test_the_outputs_kept_are_those_read_back(body: str, kind: str) -> None:
    text = PRELUDE + tools(kind) + body
    try:
        rolegraph.load_agent("test.agent", "A", text=text)
    except DiagnosticError:
        assume(False)  # (a race the checker refuses: `latest` of a node that may come later)
    assert records(text, keep_all=False) == records(text, keep_all=True)


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(well_typed_agents(), st.integers(0, 3))
def test_the_outputs_kept_are_those_read_back_by_roles(agent: str, seed: int) -> None:
    text = PRELUDE + agent

    def latency(request) -> float:
        return (0.0, 0.001)[zlib.crc32(repr((request.node, request.replica, seed)).encode()) % 2]

    model = MockModel(latency=latency)
    ours = records(text.replace("agent Random", "agent A"), False, model)
    oracle = records(text.replace("agent Random", "agent A"), True, model)
    assert ours == oracle


@settings(max_examples=40, deadline=None, derandomize=True)
@given(reading_agents())
def test_every_record_is_labelled_with_repr_of_its_key(body: str) -> None:
    """A record's key, as the trace and the store write it, is `repr` of the firing's key:
    read back, it is (its time, its node, a hex digest), and `repr` writes it the same."""
    text = PRELUDE + tools("marked") + body
    try:
        ir = rolegraph.load_agent("test.agent", "A", text=text)
    except DiagnosticError:
        assume(False)
    try:
        trace = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel())).trace
    except RunError as error:
        trace = error.trace
    assert trace is not None and trace.firings
    for record in trace.firings:
        key = literal_eval(record.key)
        assert key[:2] == (record.time, record.node)
        assert repr(key) == record.key


@settings(max_examples=40, deadline=None, derandomize=True)
@given(reading_agents(), st.sampled_from(["marked", "plain"]))
def test_every_flight_is_made_as_its_dataclass_makes_it(body: str, kind: str) -> None:
    """`AgentRun.start` makes a firing's flight without `Inflight.__init__` (each slot set
    by hand): every flight it starts, `@nonblocking` ones run with no task and plain ones
    in a task, is what `Inflight(node, time, key, label)` makes: no slot left unset, no
    value other than the dataclass's default (its task aside: `start` may give it one)."""
    text = PRELUDE + tools(kind) + body
    try:
        ir = rolegraph.load_agent("test.agent", "A", text=text)
    except DiagnosticError:
        assume(False)
    started: list[Inflight] = []
    start = AgentRun.start

    def watched(run: AgentRun, *args) -> None:
        before = set(map(id, run.inflight.values()))
        start(run, *args)
        started.extend(f for f in run.inflight.values() if id(f) not in before)

    with patch.object(AgentRun, "start", watched), suppress(RunError):
        asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    assert started
    for flight in started:
        made = Inflight(flight.node, flight.time, flight.key, label(flight.key, repr(flight.node)))
        assert flight.task is None or isinstance(flight.task, asyncio.Task)
        assert flight == replace(made, task=flight.task)


_calls = {"flaky": 0}


def flaky(value: int) -> int:
    """Fails on its first call in a run, then returns its value."""
    _calls["flaky"] += 1
    if _calls["flaky"] == 1:
        raise ValueError("boom")
    return value


def step(value: int) -> int:
    return value + 1


def show(value: int, note: str) -> str:
    return f"{value}:{note}"


HERE = "tests.test_firing_bookkeeping"
#: a joined node (`s`) that reads what it does not join: `x.error`, where `x` failed once
#: and then succeeded (the review of s11-firing: a rule that kept only the joined
#: reads left `x`'s success out, and `s` read the first failure's error). The run reads
#: none into `note: str`: the runtime's evidence for the checker's E0414, which now
#: refuses the agent (tests/test_error_reads.py); it is run all the same
READS_UNJOINED = (
    (
        f'tool flaky(value: int) -> int = "{HERE}:flaky"\n'
        f'tool step(value: int) -> int = "{HERE}:step"\n'
        f'tool show(value: int, note: str) -> str = "{HERE}:show"\n'
    )
    + """agent A(task: str) -> str {
  x = flaky(1)
  x -> x on error max 1
  y = step(x)
  z = step(y)
  s = show(z, x.error)
  return s
}
"""
)


def test_a_joined_node_reads_the_latest_output_of_a_node_it_does_not_join() -> None:
    outcomes = []
    for keep_all in (False, True):
        _calls["flaky"] = 0
        outcomes.append(records(READS_UNJOINED, keep_all, refused="E0414"))
    ours, oracle = outcomes
    assert ours == oracle
    result, firings = ours
    # `x` succeeded at its second firing: its error is none, which `show` refuses
    assert result.startswith("FiringFailed") or "note" in result, result
    (shown,) = [f for f in firings if f[1] == "s"]
    assert shown[3] == "failed" and "'note': None" in shown[4]
