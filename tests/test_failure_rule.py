"""A firing that fails the run (no `on error` edge) at logical time t ends it as a return
at t would: once no firing before t is in flight, and only if no return at t or before
wins (docs/semantics.md, the ending rule). So which of a return and a failure ends a run,
and which failure a run reports, is the same whatever the latencies (DESIGN §3.5).

The oracle is the rule itself, stated in logical time and read off each agent by hand;
each agent is run with its latencies both ways round, so that the branch that ends first
in wall time is once the logically earlier one and once the later.
"""

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import FiringFailed, MockModel, RunError, run_agent

from .checking import PRELUDE
from .test_check_property import well_typed_agents
from .test_runtime_property import DELAYS, drawn_latency


async def pause(ms: int) -> int:
    await asyncio.sleep(ms / 1000)
    return ms


async def fail_after(ms: int) -> int:
    await asyncio.sleep(ms / 1000)
    raise ValueError(f"failed after {ms} ms")


def inc(value: int) -> int:
    return value + 1


HERE = "tests.test_failure_rule"
TOOLS = "".join(
    f'tool {name}({param}) -> int = "{HERE}:{name}"\n'
    for name, param in [("pause", "ms: int"), ("fail_after", "ms: int"), ("inc", "value: int")]
)
SLOW, FAST = 60, 0


def outcome(body: str, **inputs: int) -> tuple[str, object]:
    """("result", value) or ("failed", the failing node) or ("error", the message)."""
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + body)
    try:
        result = asyncio.run(run_agent(ir, inputs, model="mock"))
    except FiringFailed as error:
        return "failed", error.node
    except RunError as error:
        return "error", str(error).splitlines()[0]
    return "result", result.result


# a failure at the return's own time: the return wins (the failing firing is at T)
AT_THE_RETURN = """agent A(x: int, y: int) -> int {
  a = pause(x)
  b = pause(y)
  c = fail_after(b)
  return a
}
"""
# (a, b: time 1; c fails at time 2, the return at time 2)

# a failure after the return's time, on a branch faster in wall time
AFTER_THE_RETURN = """agent A(x: int, y: int) -> int {
  a = pause(x)
  b = pause(y)
  c = inc(b)
  d = fail_after(c)
  return a
}
"""
# (a, b: time 1; c: 2; d fails at 3; the return at 2)

# a failure before the return's time: the run fails, however fast the return is
BEFORE_THE_RETURN = """agent A(x: int, y: int) -> int {
  a = pause(x)
  b = fail_after(y)
  return a
}
"""
# (b fails at time 1; the return at 2)

# two failures: the earlier in logical time is the one reported
TWO_FAILURES = """agent A(x: int, y: int) -> int {
  a = fail_after(x)
  b = pause(y)
  c = fail_after(b)
  return c
}
"""
# (a fails at time 1, c at time 2)


# two failures of one logical time: the first by key is the one reported
SAME_TIME = """agent A(x: int, y: int) -> int {
  a = fail_after(x)
  b = fail_after(y)
  c = inc(a)
  return c
}
"""


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_of_two_failures_at_one_time_the_first_by_key_is_reported(x, y):
    """(The firings of a failure's own time are part of the run: they complete.)"""
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + SAME_TIME)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"x": x, "y": y}, model="mock"))
    assert caught.value.node == "a"
    statuses = {record.node: record.status for record in caught.value.trace.firings}
    assert statuses == {"a": "failed", "b": "failed"}


# under an `enforce` shield, routes wait for their logical time to be over
SHIELDED_TWICE = """agent A(x: int) -> int {
  a = pause(x)
  n = fail_after(x)
  h = inc(n)
  a -> n when a >= 0
  a -> n when a >= 0
  n -> h(value: 0) on error max 1
  return h
SHIELD}
"""
SHIELD_BLOCKS_THE_ERROR_EDGE = """agent A(x: int) -> int {
  n = fail_after(x)
  h = inc(n)
  a = pause(x)
  b = inc(a)
  c = inc(b)
  n -> h(value: 0) on error
  return c
  enforce always(not h)
}
"""


@pytest.mark.parametrize("shield", ["", "  enforce always(not h or not a)\n"])
def test_a_failure_whose_error_edge_is_spent_when_a_shield_routes_it_fails_the_run(shield):
    """Two failures of `n` at one time, its `on error` edge `max 1`: the second fails the
    run, with a shield that blocks nothing as without one (the shield routed the failure
    after the edge was spent, and dropped it)."""
    text = TOOLS + SHIELDED_TWICE.replace("SHIELD", shield)
    ir = rolegraph.load_agent("test.agent", "A", text=text)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"x": FAST}, model="mock"))
    assert caught.value.node == "n"


def test_a_failure_whose_error_edge_a_shield_blocks_fails_the_run():
    """A blocked edge counts as false (DESIGN §4): the failure has no edge to take."""
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + SHIELD_BLOCKS_THE_ERROR_EDGE)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"x": FAST}, model="mock"))
    assert caught.value.node == "n"


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_a_failure_at_the_returns_time_is_not_part_of_the_run(x, y):
    assert outcome(AT_THE_RETURN, x=x, y=y) == ("result", x)


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_a_failure_after_the_returns_time_is_not_part_of_the_run(x, y):
    assert outcome(AFTER_THE_RETURN, x=x, y=y) == ("result", x)


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_a_failure_before_the_returns_time_fails_the_run(x, y):
    assert outcome(BEFORE_THE_RETURN, x=x, y=y) == ("failed", "b")


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_the_earlier_failure_in_logical_time_is_the_one_reported(x, y):
    assert outcome(TWO_FAILURES, x=x, y=y) == ("failed", "a")


def test_a_failed_firing_after_the_winning_return_is_kept_in_the_trace_as_discarded():
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + AT_THE_RETURN)
    outcome = asyncio.run(run_agent(ir, {"x": SLOW, "y": FAST}, model="mock"))
    statuses = {record.node: record.status for record in outcome.trace.firings}
    assert outcome.trace.returned_at == 2
    assert statuses == {"a": "ok", "b": "ok", "c": "discarded"}


@pytest.mark.parametrize("x, y", [(SLOW, FAST), (FAST, SLOW)])
def test_the_firings_after_a_failure_are_not_part_of_the_run(x, y):
    """Those in flight are cancelled (what they would spend is not spent: they can lead
    only to a later end); those that ended first, their branch faster, are discarded.
    Those of the failure's own time complete."""
    body = """agent A(x: int, y: int) -> int {
  a = pause(x)
  b = fail_after(y)
  c = pause(a)
  return c
}
"""
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + body)
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"x": x, "y": y}, model="mock"))
    records = {record.node: record for record in caught.value.trace.firings}
    assert records["b"].status == "failed"
    assert records["a"].status == "ok"  # (of the failure's time: it completes)
    if x == FAST:  # c, at time 2, ended before b failed: after the failure
        assert records["c"].status == "discarded"
        assert records["c"].notes[-1] == "after the failure at logical time 1"
    else:  # b failed first: c never started
        assert "c" not in records or records["c"].status == "skipped"


class FailingModel(MockModel):
    """The mock, except that every call of the nodes in `failing` raises (an error no
    retry mends): deterministic, as the property needs, and the same whatever the order."""

    def __init__(self, failing: frozenset[str], latency=None):
        super().__init__(latency=latency)
        self.failing = failing

    def _answer(self, request):
        if request.node in self.failing:
            raise ValueError(f"{request.node} cannot answer")
        return super()._answer(request)


def end_of(ir, model) -> tuple:
    """A run's end and what must not depend on the latencies: its result or the node that
    failed it, and the trace's shape (the firings of the run, with their outputs)."""
    try:
        outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model))
    except FiringFailed as error:
        assert error.trace is not None
        return "failed", error.node, repr(error.trace.shape())
    except RunError as error:
        return type(error).__name__, repr(error.trace.shape() if error.trace else None)
    return "result", repr(outcome.result), repr(outcome.trace.shape())


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    well_typed_agents(),
    st.frozensets(st.sampled_from([f"n{i}" for i in range(7)]), max_size=3),
    st.lists(
        DELAYS,
        min_size=2,
        max_size=3,
    ),
)
def test_how_a_run_ends_is_the_same_whatever_the_latencies(agent, failing, profiles):
    """DESIGN §3.5 with failures: random well-typed agents, some of whose nodes fail, end
    the same way (the same result, or the same node failing the run, and the same trace)
    under every latency profile. (Each call's latency is drawn from a stable hash of the
    call, so that every process draws the same.)"""
    ir = rolegraph.load_agent("random.agent", "Random", text=PRELUDE + agent)
    expected = end_of(ir, FailingModel(failing))
    for delays in profiles:
        model = FailingModel(failing, drawn_latency(delays))
        assert end_of(ir, model) == expected, (agent, failing, delays)
