"""The events of a run (runtime/events.py), on the mock model: what is told, in which
order, and that the ended firings replay the trace the run returns."""

import asyncio
import json

import pytest

import rolegraph
from rolegraph.runtime import MockModel, Store, stream_agent, trace_of
from rolegraph.runtime.events import FiringEnded, Partial, RunEnded, RunFailed, Tokens

from .checking import PRELUDE
from .test_runtime import COMPOSED, REFINE, draft


def ir_of(body: str, agent: str = "A"):
    return rolegraph.load_agent("test.agent", agent, text=PRELUDE + body)


def events_of(ir, inputs=None, **options) -> list:
    async def collect():
        return [event async for event in stream_agent(ir, inputs or {"task": "t"}, **options)]

    return asyncio.run(collect())


NO = {"ok": False, "feedback": "again", "score": 0.1}
YES = {"ok": True, "feedback": "", "score": 0.9}
LONG = {"text": "a long draft about the tides, the moon and the sea, " * 4, "score": 0.5}


def test_the_stream_ends_with_the_result_and_its_trace():
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    events = events_of(ir_of(REFINE), model=model)
    last = events[-1]
    assert isinstance(last, RunEnded) and last.kind == "result"
    assert last.result == draft(2)
    assert last.summary == last.trace.summary()
    assert [e.kind for e in events].count("result") == 1


def test_the_ended_firings_replay_the_trace():
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    events = events_of(ir_of(REFINE), model=model)
    assert trace_of(events) == events[-1].trace


def test_a_run_that_fails_ends_the_stream_with_an_error_event():
    model = MockModel(script={"Writer": [RuntimeError("the model broke")]})
    events = events_of(ir_of(REFINE), model=model)
    last = events[-1]
    assert isinstance(last, RunFailed) and last.kind == "error"
    assert last.error == "FiringFailed" and "the model broke" in last.message
    assert [e.kind for e in events if isinstance(e, FiringEnded)] == ["firing_failed"]


def test_inputs_the_agent_does_not_take_end_the_stream_with_an_error_event():
    events = events_of(ir_of(REFINE), {"question": "?"}, model="mock")
    assert [e.kind for e in events] == ["error"]
    assert "no parameter `question`" in events[0].message


def test_a_firing_is_told_when_it_starts_with_its_inputs_and_when_it_ends():
    events = events_of(ir_of(REFINE), model=MockModel(script={"Critic": [YES]}))
    told = [(e.kind, e.node) for e in events if e.kind.startswith("firing_")]
    assert told == [
        ("firing_started", "w"),
        ("firing_finished", "w"),
        ("firing_started", "c"),
        ("firing_finished", "c"),
    ]
    started = next(e for e in events if e.kind == "firing_started" and e.node == "c")
    assert started.inputs["task"] == "t" and "draft" in started.inputs


def test_the_pieces_of_a_reply_make_its_text():
    events = events_of(
        ir_of("agent A(task: str) -> Draft {\n  w = Writer(task)\n  return w\n}\n"),
        model=MockModel(script={"Writer": [LONG]}),
    )
    pieces = [e for e in events if isinstance(e, Tokens)]
    assert len(pieces) > 1  # the mock streams in pieces
    assert "".join(p.text for p in pieces) == json.dumps(LONG)
    assert {(p.node, p.call, p.attempt) for p in pieces} == {("w", 1, 1)}


def test_partial_values_grow_into_the_output():
    body = "agent A(task: str) -> Draft {\n  w = Writer(task)\n  return w\n}\n"
    events = events_of(ir_of(body), model=MockModel(script={"Writer": [LONG]}))
    partials = [e.value for e in events if isinstance(e, Partial)]
    assert len(partials) > 1
    texts = [value.get("text", "") for value in partials]
    assert all(LONG["text"].startswith(text) for text in texts)  # prefixes of the text
    assert texts == sorted(texts, key=len)  # that grow


def test_a_cached_reply_streams_as_one_piece(tmp_path):
    ir = ir_of("agent A(task: str) -> Draft {\n  w = Writer(task)\n  return w\n}\n")
    model = MockModel(script={"Writer": [LONG]})
    events_of(ir, model=model, store=Store(tmp_path / "s.sqlite"))
    again = events_of(ir, model=model, store=Store(tmp_path / "s.sqlite"))
    pieces = [e.text for e in again if isinstance(e, Tokens)]
    assert pieces == [json.dumps(LONG)]
    assert again[-1].summary["cached_calls"] == 1


def test_a_firing_discarded_after_the_return_is_told():
    body = """agent A(task: str) -> Draft {
  slow = Writer(task, feedback: "slow")
  quick = Writer(task, feedback: "quick")
  then = Writer(task: quick.text)
  return slow
}
"""

    def latency(request):
        return 0.2 if "slow" in str(request.messages) else 0.0

    events = events_of(ir_of(body), model=MockModel(latency=latency))
    discarded = [e for e in events if e.kind == "firing_discarded"]
    assert [(e.node, e.time) for e in discarded] == [("then", 2)]
    assert discarded[0].note == "after the return at logical time 2"
    trace = events[-1].trace
    assert [r.status for r in trace.firings if r.node == "then"] == ["discarded"]
    assert trace_of(events) == trace


def test_firings_of_a_nested_agent_say_which_firing_runs_them():
    mock = MockModel(script={"Writer": [draft(i) for i in range(1, 5)]})
    events = events_of(ir_of(COMPOSED, "Outer"), model=mock)
    outer = {e.record.key: e.node for e in events if isinstance(e, FiringEnded) and not e.path}
    inner = [e for e in events if isinstance(e, FiringEnded) and e.path]
    assert [(e.agent, e.depth, e.node) for e in inner] == [
        ("Inner", 1, "a"),
        ("Inner", 1, "b"),
        ("Inner", 1, "a"),
        ("Inner", 1, "b"),
    ]
    assert [outer[e.path[0]] for e in inner] == ["first", "first", "second", "second"]
    assert trace_of(events) == events[-1].trace  # the nested traces ride on their records


def test_every_event_is_json_with_its_kind():
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    for event in events_of(ir_of(REFINE), model=model):
        data = json.loads(json.dumps(event.to_json()))  # plain data: no default= needed
        assert data["kind"] == event.kind


def test_a_reader_that_stops_early_cancels_the_run():
    ir = ir_of(REFINE)
    model = MockModel(latency=lambda request: 0.05)

    async def first_two():
        stream = stream_agent(ir, {"task": "t"}, model=model)
        seen = []
        async for event in stream:
            seen.append(event)
            if len(seen) == 2:
                break
        await stream.aclose()
        return seen

    seen = asyncio.run(first_two())
    assert [e.kind for e in seen] == ["run_started", "firing_started"]
    assert len(model.calls) == 1  # the critic never ran


def test_rolegraph_stream_runs_a_file(tmp_path):
    path = tmp_path / "a.agent"
    path.write_text(PRELUDE + REFINE)

    async def kinds():
        return [e.kind async for e in rolegraph.stream(path, {"task": "t"}, model="mock")]

    told = asyncio.run(kinds())
    assert told[0] == "run_started" and told[-1] == "result"


def test_rolegraph_stream_runs_an_ir():
    async def last():
        events = [e async for e in rolegraph.stream(ir_of(REFINE), {"task": "t"}, model="mock")]
        return events[-1]

    assert asyncio.run(last()).kind == "result"


@pytest.mark.parametrize("status", ["ok", "failed", "cancelled", "skipped"])
def test_an_ended_firing_is_named_for_how_it_ended(status):
    from rolegraph.runtime import FiringRecord

    event = FiringEnded("A", 0, (), FiringRecord(node="w", time=1, key="k", status=status))
    assert (
        event.kind
        == {
            "ok": "firing_finished",
            "failed": "firing_failed",
            "cancelled": "firing_cancelled",
            "skipped": "firing_skipped",
        }[status]
    )
