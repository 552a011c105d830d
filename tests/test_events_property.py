"""The events tell the trace: on random well-typed agents, under random latencies, the
ended-firing events in the order told (with the discards applied) rebuild the trace the
run returns — every record, field for field — and every firing told as started is
told as ended once."""

import asyncio
from collections import Counter

from hypothesis import HealthCheck, given, settings

import rolegraph
from rolegraph.runtime import MockModel, stream_agent, trace_of
from rolegraph.runtime.events import FiringEnded, FiringStarted, RunEnded, RunFailed

from .checking import PRELUDE
from .test_check_property import well_typed_agents
from .test_runtime_property import DELAYS, drawn_latency


def events_under(ir, delays):
    async def collect():
        model = MockModel(latency=drawn_latency(delays))
        return [event async for event in stream_agent(ir, {"task": "t"}, model=model)]

    return asyncio.run(collect())


def the_trace(last):
    return last.trace if isinstance(last, RunEnded) else last.exception.trace


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    well_typed_agents(),
    DELAYS,
)
def test_the_ended_firings_told_rebuild_the_trace(agent, delays):
    ir = rolegraph.load_agent("random.agent", "Random", text=PRELUDE + agent)
    events = events_under(ir, delays)
    last = events[-1]
    assert isinstance(last, RunEnded | RunFailed)
    assert sum(isinstance(e, RunEnded | RunFailed) for e in events) == 1
    trace = the_trace(last)
    rebuilt = trace_of(events)
    assert rebuilt.firings == trace.firings, agent
    if isinstance(last, RunEnded):
        assert rebuilt == trace
    started = Counter(e.key for e in events if isinstance(e, FiringStarted))
    ended = Counter(e.key for e in events if isinstance(e, FiringEnded) and e.key in started)
    assert started == ended
