"""The plan (runtime/plan.py): derived once per IR, kept on the runtime's side — not in
the compiler's object — and gone with its IR; every expression a run evaluates is
compiled into it."""

from __future__ import annotations

import asyncio
import gc
import weakref

import rolegraph
from rolegraph.runtime import MockModel, run_agent
from rolegraph.runtime.plan import _PLANS, plan_of

from .checking import PRELUDE

REFINE = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when not c.ok max 3
  c -> return(w) else
}
"""


def ir_of(body: str):
    return rolegraph.load_agent("test.agent", "A", text=PRELUDE + body)


def test_the_plan_is_derived_once_and_not_stored_in_the_ir():
    ir = ir_of(REFINE)
    assert not any(value is not None for value in (ir.__pydantic_private__ or {}).values())
    first = plan_of(ir)
    asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    assert plan_of(ir) is first
    assert not any(value is first for value in (ir.__pydantic_private__ or {}).values())


def test_a_plan_goes_with_its_ir():
    ir = ir_of(REFINE)
    plan_of(ir)
    key, alive = id(ir), weakref.ref(ir)
    assert key in _PLANS
    del ir
    gc.collect()
    assert alive() is None
    assert key not in _PLANS


def test_every_expression_is_compiled_into_the_plan():
    ir = ir_of(REFINE)
    plan = plan_of(ir)
    loop, done = sorted((e for e in ir.edges if e.kind != "data"), key=lambda e: e.index)
    assert plan.edges[loop.index].holds({"c": {"ok": False, "feedback": "f"}})
    assert not plan.edges[loop.index].holds({"c": {"ok": True, "feedback": ""}})
    assert [
        (name, port({"c": {"feedback": "shorter"}})) for name, port in plan.edges[loop.index].ports
    ] == [("feedback", "shorter")]
    assert plan.edges[done.index].value is not None
    assert plan.edges[done.index].value({"w": {"text": "x", "score": 1}}) == {
        "text": "x",
        "score": 1,
    }
