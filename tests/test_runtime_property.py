"""Random well-typed agents run on the mock model to a result or a run error — never a
crash — and twice to the same trace."""

import asyncio
import zlib
from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import MockModel, ModelRequest, RunError, run_agent

from .checking import PRELUDE
from .test_check_property import well_typed_agents


def shape(ir):
    try:
        outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    except RunError as error:
        return type(error).__name__, repr(error.trace.shape() if error.trace else None)
    return repr(outcome.result), repr(outcome.trace.shape())


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents())
def test_random_agents_run_deterministically_without_crashing(agent):
    ir = rolegraph.load_agent("random.agent", "Random", text=PRELUDE + agent)
    assert shape(ir) == shape(ir)


def firing_keys(ir):
    try:
        trace = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel())).trace
    except RunError as error:
        trace = error.trace
    return [r.key for r in trace.firings if r.status in ("ok", "failed")] if trace else []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents())
def test_every_firing_of_a_run_has_its_own_key(agent):
    """Keys identify firings (checkpoints and resume rely on it): never two alike."""
    ir = rolegraph.load_agent("random.agent", "Random", text=PRELUDE + agent)
    keys = firing_keys(ir)
    assert len(keys) == len(set(keys))


#: a latency profile: the delays a call may take, one drawn for each call
DELAYS = st.lists(st.sampled_from([0.0, 0.0005, 0.002, 0.004]), min_size=1, max_size=6)


def drawn_latency(delays: list[float]) -> Callable[[ModelRequest], float]:
    """Each call takes the delay its key draws from `delays`, by a stable hash (`hash` of
    a str is salted per process, so the examples would be too)."""

    def latency(request: ModelRequest) -> float:
        drawn = zlib.crc32(repr((request.node, request.replica, request.attempt)).encode())
        return delays[drawn % len(delays)]

    return latency


def shape_under(ir, delays):
    """The run's result and trace shape when each call takes the delay its key draws."""
    return shape_with(ir, MockModel(latency=drawn_latency(delays)))


def shape_with(ir, model):
    try:
        outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model))
    except RunError as error:
        return type(error).__name__, repr(error.trace.shape() if error.trace else None)
    return repr(outcome.result), repr(outcome.trace.shape())


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    well_typed_agents(),
    st.lists(
        DELAYS,
        min_size=2,
        max_size=3,
    ),
)
def test_the_trace_is_the_same_whatever_the_latencies(agent, profiles):
    """DESIGN §3.5: for deterministic models the trace is a function of the program, its
    inputs and the replies — never of the timing."""
    ir = rolegraph.load_agent("random.agent", "Random", text=PRELUDE + agent)
    expected = shape_with(ir, MockModel())
    for delays in profiles:
        assert shape_under(ir, delays) == expected, (agent, delays)
