"""Measured disagreements between what `check` proves and what a run does (issue 17),
each reproduced here first."""

import asyncio

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.diagnostics import DiagnosticError
from rolegraph.compiler.ltl import Monitor
from rolegraph.runtime import MockModel, RunError, run_agent

HEADER = """model m = "mock"
type A { text: str }
role R(task: str) -> A { model m  prompt "{{ task }}" }
"""


def formula(text: str) -> ast.Node:
    module = rolegraph.parse(
        HEADER + f"agent X(task: str) -> A {{\n  m = R(task)\n  return m\n  ensure {text}\n}}\n"
    )
    return next(iter(module.find_all(ast.Constraint))).formula


def test_monitor_states_remember_whether_the_last_step_was_the_first():
    """After one step and after three, `yesterday start` differs at the next step: the
    explorer must not merge the two (it proved `always(yesterday start -> m)` while a
    run violated it)."""
    once = Monitor(formula("always(yesterday start -> m)"))
    once.step({"a"})
    thrice = Monitor(formula("always(yesterday start -> m)"))
    for step in ({"m"}, {"m"}, {"a"}):
        thrice.step(step)
    assert once.state() != thrice.state()
    once.step({"b"})
    thrice.step({"b"})
    assert once.verdict() is False and thrice.verdict() is not False


def test_yesterday_start_is_not_proven_where_a_run_violates_it():
    text = (
        HEADER
        + """agent X(task: str) -> A {
  a = R(task)
  b = R(task: a.text)
  m = R(task: b.text)
  return m
  ensure always(yesterday start -> b)
}
"""
    )
    checked = rolegraph.check_source(text, "y.agent")
    verdicts = {c.text: c.status == "proven" for c in checked.constraints}
    outcome = None
    try:
        asyncio.run(run_agent(checked.irs["X"], {"task": "t"}, model="mock"))
        outcome = True
    except RunError:
        outcome = False
    assert verdicts == {"always(yesterday start -> b)": outcome}


def test_an_on_error_edge_that_reads_the_failed_output_is_an_error():
    text = HEADER + "agent X(task: str) -> A {\n  x = R(task)\n  x -> return(x) on error\n"
    text += "  return x\n}\n"
    with pytest.raises(DiagnosticError) as caught:
        rolegraph.load_agent("x.agent", text=text)
    assert "E0410" in str(caught.value)


def test_an_on_error_edge_may_read_the_error():
    text = HEADER + "agent X(task: str) -> str {\n  x = R(task)\n"
    text += "  x -> return(x.error) on error\n  return x.text\n}\n"
    ir = rolegraph.load_agent("x.agent", text=text)
    model = MockModel(script={"R": [RuntimeError("boom")]})
    outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model))
    assert outcome.result == "RuntimeError: boom"


def test_a_return_that_does_not_fit_ends_the_run_instead_of_hanging():
    """Whatever goes wrong while routing a firing ends the run with an error: before, a
    validation error escaped a task and the run waited forever."""
    with pytest.raises(RunError, match="does not fit"):
        asyncio.run(asyncio.wait_for(run_agent(broken_return(""), {"task": "t"}, model="mock"), 30))


def broken_return(statement: str):
    """An agent whose return edge returns a value the checker would refuse, put in the IR
    behind its back; `statement`, a return statement of the same logical time beside it."""
    text = HEADER + "agent X(task: str) -> A {\n  x = R(task)\n"
    text += f"  x -> return(x) else\n{statement}}}\n"
    ir = rolegraph.load_agent("x.agent", text=text)
    edge = next(e for e in ir.edges if e.kind == "return")
    broken = edge.model_copy(update={"value": ast.IntLit(value=3)})
    return ir.model_copy(update={"edges": [broken if e is edge else e for e in ir.edges]})


def test_a_return_that_does_not_fit_fails_the_run_only_where_it_would_have_won():
    """A return that cannot be made is a failure of the run at its logical time, in its
    place among the returns (docs/semantics.md): the statement `return x`, of the same
    time and declared first, wins, and the run ends with its value."""
    outcome = asyncio.run(run_agent(broken_return("  return x\n"), {"task": "t"}, model="mock"))
    assert outcome.trace.returned_at == 2
    assert outcome.result is not None


FALLBACK = (
    HEADER
    + """agent X(task: str) -> A {
  primary = R(task)
  backup = R(task: primary.error)
  primary -> backup on error
  return primary
  backup -> return(backup)
  ensure always(backup -> once primary)
}
"""
)


def test_a_failed_firing_is_a_step_of_the_trace_for_the_checker_and_the_run():
    """The checker counted a failed firing as a step, the run's trace dropped it: the
    constraint was proven on every run and a run failed with ConstraintViolation."""
    checked = rolegraph.check_source(FALLBACK, "f.agent")
    assert [c.status for c in checked.constraints] == ["proven"]
    model = MockModel(script={"R": [RuntimeError("down"), {"text": "from the backup"}]})
    outcome = asyncio.run(run_agent(checked.irs["X"], {"task": "t"}, model=model))
    assert outcome.result == {"text": "from the backup"}
    assert [names for _, names in outcome.trace.steps()] == [["primary"], ["backup"]]


def test_a_port_reads_the_error_of_a_node_that_failed_last():
    """Found by the LangGraph export's comparison: an edge out of another node read
    `fetch.error` as the string "error" (the failed node was missing from what guards
    and ports read, and the reference fell back to its last part)."""
    text = (
        HEADER
        + """agent X(task: str) -> A {
  first = R(task)
  second = R(task: first.error)
  third = R(task: "x")
  first -> second on error
  second -> third(task: first.error)
  return third
}
"""
    )
    ir = rolegraph.load_agent("x.agent", text=text)
    model = MockModel(script={"R": [RuntimeError("boom"), {"text": "a"}, {"text": "b"}]})
    outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model))
    third = next(r for r in outcome.trace.firings if r.node == "third" and r.status == "ok")
    assert third.inputs["task"] == "RuntimeError: boom"
