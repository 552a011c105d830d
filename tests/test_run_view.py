"""The live view of `rolegraph run` (rolegraph/run_view.py), fed a run's events."""

import io

from rich.console import Console

import rolegraph
from rolegraph.run_summary import notable_notes
from rolegraph.run_view import RunView
from rolegraph.runtime import FiringRecord, MockModel, Trace
from rolegraph.runtime.events import FiringStarted, Tokens

from .test_events import COMPOSED, REFINE, draft, events_of, ir_of
from .test_failure_rule import AT_THE_RETURN, FAST, SLOW, TOOLS

NO = {"ok": False, "feedback": "again", "score": 0.1}
YES = {"ok": True, "feedback": "", "score": 0.9}


def drawn(view: RunView) -> str:
    console = Console(file=io.StringIO(), width=140, color_system=None)
    console.print(view)
    return console.file.getvalue()


def test_the_live_view_counts_what_the_summary_counts():
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    events = events_of(ir_of(REFINE), model=model)
    view = RunView()
    for event in events:
        view.update(event)
    summary = events[-1].summary
    assert (view.calls, view.cached) == (summary["calls"], summary["cached_calls"])
    assert (view.input_tokens, view.output_tokens) == (
        summary["input_tokens"],
        summary["output_tokens"],
    )
    assert f"{summary['firings']} fired" in drawn(view)


def test_the_live_view_shows_what_a_running_firing_writes():
    view = RunView()
    view.update(FiringStarted("A", 0, (), "writer", 1, "k", {}))
    view.update(Tokens("A", 0, (), "writer", "k", 0, 1, 1, '{"text": "once upon'))
    shown = drawn(view)
    assert "writer" in shown and "running" in shown and '{"text": "once upon' in shown


def test_the_live_view_names_the_replica_when_several_write():
    view = RunView()
    view.update(FiringStarted("A", 0, (), "steps", 2, "k", {}))
    view.update(Tokens("A", 0, (), "steps", "k", 0, 1, 1, "first"))
    view.update(Tokens("A", 0, (), "steps", "k", 1, 1, 1, "second"))
    assert "[1] second" in drawn(view)


def test_the_live_view_names_a_nested_firing_by_the_firing_that_runs_it():
    mock = MockModel(script={"Writer": [draft(i) for i in range(1, 5)]})
    view = RunView()
    for event in events_of(ir_of(COMPOSED, "Outer"), model=mock):
        view.update(event)
    names = {row.node for row in view.rows.values()}
    assert {"first / a", "first / b", "second / a", "second / b"} <= names


def test_a_retried_call_is_noted_with_why():
    record = FiringRecord(
        node="w",
        time=1,
        key="k",
        status="ok",
        notes=["openai/x did not answer within 5 s", "retried openai/x (attempt 2)"],
    )
    trace = Trace(agent="A", firings=[record])
    assert notable_notes(trace) == [
        "w: openai/x did not answer within 5 s; retried openai/x (attempt 2)"
    ]


def test_the_live_view_counts_a_discarded_failure_as_the_summary_does():
    """A firing that failed after the winning return's time is discarded: neither fired
    nor failed (the view counted it failed, and one fewer fired)."""
    ir = rolegraph.load_agent("test.agent", "A", text=TOOLS + AT_THE_RETURN)
    events = events_of(ir, {"x": SLOW, "y": FAST}, model="mock")
    view = RunView()
    for event in events:
        view.update(event)
    summary = events[-1].summary
    assert (summary["firings"], summary["failed"]) == (2, 0)
    assert f"{summary['firings']} fired, {summary['failed']} failed" in drawn(view)
