"""The executor: DESIGN §3's semantics, on the mock model."""

import asyncio
import contextlib
import random

import pytest

import rolegraph
from rolegraph.runtime import (
    ConstraintViolation,
    FiringFailed,
    MockModel,
    Stalled,
    run_agent,
)

from .checking import PRELUDE
from .conftest import EXAMPLES


def ir_of(body: str, agent: str = "A"):
    return rolegraph.load_agent("test.agent", agent, text=PRELUDE + body)


def run(ir, inputs, model):
    return asyncio.run(run_agent(ir, inputs, model=model))


REFINE = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when not c.ok max 3
  c -> return(w) else
  ensure always(return -> once c)
}
"""
NO = {"ok": False, "feedback": "again", "score": 0.1}
YES = {"ok": True, "feedback": "", "score": 0.9}


def draft(i):
    return {"text": f"draft {i}", "score": i / 10}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_runs_on_mock(path):
    ir = rolegraph.load_agent(path)
    inputs = {name: "What is 17 * 23?" for name in ir.param_types}
    # (a human step's question is answered as the mock model would: docs/human.md)
    outcome = asyncio.run(rolegraph.arun(path, inputs, model="mock", answers="mock"))
    assert outcome.result is not None
    assert outcome.trace.summary()["firings"] >= 1


def test_the_loop_revises_until_the_critic_accepts():
    model = MockModel(script={"Writer": [draft(1), draft(2), draft(3)], "Critic": [NO, NO, YES]})
    outcome = run(ir_of(REFINE), {"task": "t"}, model)
    assert outcome.result == {"text": "draft 3", "score": 0.3}
    assert outcome.trace.steps() == [
        (1, ["w"]),
        (2, ["c"]),
        (3, ["w"]),
        (4, ["c"]),
        (5, ["w"]),
        (6, ["c"]),
    ]
    revisions = [r.inputs["feedback"] for r in outcome.trace.firings if r.node == "w"]
    assert revisions == ["", "again", "again"]


def test_else_is_taken_after_the_bound_is_exhausted():
    model = MockModel(script={"Writer": [draft(i) for i in range(1, 6)], "Critic": [NO] * 5})
    outcome = run(ir_of(REFINE), {"task": "t"}, model)
    assert [r.node for r in outcome.trace.firings if r.status == "ok"].count("w") == 4
    assert outcome.result == draft(4)  # 1 draft + 3 revisions, then `else` returns
    assert outcome.trace.returned_at == 9


def test_and_join_pairs_the_ith_draft_with_the_ith_review():
    body = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  echo = Merger(task, drafts: [w])
  c -> w(feedback: c.feedback) when not c.ok max 2
  c -> return(w) else
}
"""
    model = MockModel(
        script={
            "Writer": [draft(1), draft(2), draft(3)],
            "Critic": [NO, NO, YES],
            "Merger": [draft(7), draft(8), draft(9)],
        }
    )
    outcome = run(ir_of(body), {"task": "t"}, model)
    ok = [r for r in outcome.trace.firings if r.status == "ok"]
    assert [r.inputs["draft"] for r in ok if r.node == "c"] == [draft(1), draft(2), draft(3)]
    echoes = [r.inputs["drafts"] for r in ok if r.node == "echo"]
    assert echoes[:2] == [[draft(1)], [draft(2)]]  # the third may be cancelled by the return


def test_deterministic_trace_whatever_the_latencies():
    ir = rolegraph.load_agent(EXAMPLES[0].parent / "role_router.agent")
    shapes = set()
    for seed in range(30):
        rng = random.Random(seed)
        model = MockModel(latency=lambda request, rng=rng: rng.random() * 0.003)
        outcome = run(ir, {"question": "Why is the sky blue?"}, model)
        shapes.add((repr(outcome.trace.shape()), repr(outcome.result)))
    assert len(shapes) == 1


def test_deterministic_refine_loop_whatever_the_latencies():
    ir = ir_of(REFINE)
    shapes = set()
    for seed in range(30):
        rng = random.Random(seed)
        model = MockModel(latency=lambda request, rng=rng: rng.random() * 0.003)
        outcome = run(ir, {"task": "a poem"}, model)
        shapes.add(repr(outcome.trace.shape()))
    assert len(shapes) == 1


def test_a_return_completes_what_comes_before_it_and_discards_what_comes_after():
    """A return at logical time T waits for the firings before T, however slow, and
    cancels or discards those at T or after: the same firings make the trace whatever
    the latencies."""
    body = """agent A(task: str) -> Draft {
  quick = Writer(task, feedback: "quick")
  slow = Writer(task, feedback: "slow")
  review = Critic(task, draft: quick)
  return quick
}
"""

    def latency(request):
        return 0.2 if "slow" in str(request.messages) else 0.0

    outcome = run(ir_of(body), {"task": "t"}, MockModel(latency=latency))
    statuses = {r.node: r.status for r in outcome.trace.firings}
    assert outcome.trace.returned_at == 2
    assert statuses["quick"] == statuses["slow"] == "ok"  # time 1: before the return
    assert statuses["review"] in ("cancelled", "skipped", "discarded")  # time 2: not
    assert [names for _, names in outcome.trace.steps()] == [["quick", "slow"]]


def test_a_stall_names_what_waits():
    body = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  fix = Writer(task, feedback: "again")
  c -> fix when not c.ok
  done = Merger(task, drafts: [fix, w])
  return done
}
"""
    model = MockModel(script={"Critic": [YES]})
    with pytest.raises(Stalled) as caught:
        run(ir_of(body), {"task": "t"}, model)
    assert caught.value.waiting == ["`done` has `w` and waits for `fix`"]
    assert caught.value.trace.steps() == [(1, ["w"]), (2, ["c"])]


def test_on_error_edges_take_the_failure():
    body = """agent A(task: str) -> Draft {
  w = Writer(task)
  backup = Writer(task, feedback: w.error)
  w -> backup on error
  w -> return(w)
  backup -> return(backup)
}
"""
    model = MockModel(script={"Writer": [RuntimeError("provider down"), draft(2)]})
    outcome = run(ir_of(body), {"task": "t"}, model)
    assert outcome.result == draft(2)
    (backup,) = [r for r in outcome.trace.firings if r.node == "backup"]
    assert "provider down" in backup.inputs["feedback"]


def test_a_failure_without_a_handler_fails_the_run():
    model = MockModel(script={"Writer": [RuntimeError("provider down")]})
    with pytest.raises(FiringFailed, match="provider down"):
        run(ir_of(REFINE), {"task": "t"}, model)


def test_invalid_replies_are_repaired_then_reported():
    model = MockModel(
        script={"Writer": ["not json", {"text": "fixed", "score": 0.5}], "Critic": [YES]}
    )
    outcome = run(ir_of(REFINE), {"task": "t"}, model)
    assert outcome.result == {"text": "fixed", "score": 0.5}
    (writer,) = [r for r in outcome.trace.firings if r.node == "w"]
    assert writer.calls == 2
    with pytest.raises(FiringFailed, match="no valid `Draft` after 3 tries"):
        run(ir_of(REFINE), {"task": "t"}, MockModel(script={"Writer": ["{}", "{}", "{}"]}))


def test_ensure_is_monitored_at_run_time():
    body = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  w -> return(w) when w.score > 0.5
  c -> return(w)
  ensure always(return -> once c)
}
"""
    confident = MockModel(script={"Writer": [{"text": "sure", "score": 0.9}]})
    with pytest.raises(ConstraintViolation) as caught:
        run(ir_of(body), {"task": "t"}, confident)
    assert caught.value.steps == [["w"], ["return"]]


def test_roles_call_tools_in_a_bounded_loop():
    path = EXAMPLES[0].parent / "react.agent"
    model = MockModel(
        script={
            "Solver": [
                {"tool": "calculator", "arguments": {"expression": "17 * 23"}},
                {"text": "391", "confidence": 1.0},
            ]
        }
    )
    outcome = asyncio.run(rolegraph.arun(path, {"question": "17 * 23?"}, model=model))
    (solver,) = outcome.trace.firings
    assert solver.tool_calls == [
        {"tool": "calculator", "arguments": {"expression": "17 * 23"}, "result": 391.0}
    ]
    assert solver.calls == 2 and outcome.result["text"] == "391"


def test_a_tool_loop_stops_at_its_bound():
    path = EXAMPLES[0].parent / "react.agent"
    call = {"tool": "calculator", "arguments": {"expression": "1 + 1"}}
    model = MockModel(script={"Solver": [call] * 6 + [call, {"text": "2", "confidence": 1}]})
    outcome = asyncio.run(rolegraph.arun(path, {"question": "?"}, model=model))
    (solver,) = outcome.trace.firings
    assert len(solver.tool_calls) == 6 and solver.calls == 8  # 6 steps, then answer-now


def test_inputs_are_validated():
    with pytest.raises(rolegraph.runtime.RunError, match="needs the input `task`"):
        run(ir_of(REFINE), {}, MockModel())


def test_budgets_are_never_exceeded_even_by_parallel_calls():
    from rolegraph.runtime import Budget, BudgetExceeded

    body = """agent A(task: str) -> Draft {
  drafts = Writer(task) x 5
  merged = Merger(task, drafts: drafts)
  return merged
}
"""
    budget = Budget(calls=3)
    with pytest.raises(BudgetExceeded, match="budget of 3 calls") as caught:
        asyncio.run(run_agent(ir_of(body), {"task": "t"}, model=MockModel(), budget=budget))
    assert budget.spent_calls <= 3
    assert caught.value.trace is not None  # the partial trace is kept


@pytest.mark.parametrize("tokens", [150, 250, 400, 800])
def test_token_budgets_are_never_exceeded(tokens):
    from rolegraph.runtime import Budget, BudgetExceeded

    budget = Budget(tokens=tokens)
    model = MockModel(script={"Critic": [NO, NO, NO, YES]})
    with contextlib.suppress(BudgetExceeded):
        asyncio.run(run_agent(ir_of(REFINE), {"task": "t"}, model=model, budget=budget))
    assert budget.spent_tokens <= tokens
    assert all(c.params["max_tokens"] <= 100 for c in model.calls)  # the model's own cap


def test_a_budget_too_small_for_one_prompt_stops_before_any_call():
    from rolegraph.runtime import Budget, BudgetExceeded

    model = MockModel()
    with pytest.raises(BudgetExceeded, match="budget of 10 tokens"):
        asyncio.run(run_agent(ir_of(REFINE), {"task": "t"}, model=model, budget=Budget(tokens=10)))
    assert model.calls == []


def test_budget_parsing():
    from rolegraph.runtime import Budget

    budget = Budget.parse("calls=20, tokens=5000,cost=0.5")
    assert (budget.calls, budget.tokens, budget.cost) == (20, 5000, 0.5)
    with pytest.raises(ValueError):
        Budget.parse("dollars=3")


def test_records_of_the_same_name_in_two_programs_do_not_mix():
    first = rolegraph.load_agent("a.agent", text=PRELUDE + REFINE)
    other = PRELUDE.replace(
        "type Review { ok: bool, feedback: str, score: float }",
        "type Review { ok: bool, feedback: str }",
    )
    second = rolegraph.load_agent("b.agent", text=other + REFINE)
    for ir in (first, second, first):
        outcome = run(ir, {"task": "t"}, MockModel())
        assert outcome.result is not None


def test_an_exception_in_a_tool_is_shown_to_the_model():
    path = EXAMPLES[0].parent / "react.agent"
    model = MockModel(
        script={
            "Solver": [
                {"tool": "calculator", "arguments": {"expression": "1 / 0"}},
                {"text": "undefined", "confidence": 0.9},
            ]
        }
    )
    outcome = asyncio.run(rolegraph.arun(path, {"question": "1/0?"}, model=model))
    (solver,) = outcome.trace.firings
    assert solver.tool_calls[0]["result"] == {"error": "CalculatorError: division by zero"}
    assert "division by zero" in model.calls[1].messages[-1]["content"]
    assert outcome.result["text"] == "undefined"


def test_an_exception_in_a_tool_node_fails_its_firing():
    body = """tool calc(expression: str) -> float = "rolegraph.stdlib.tools:calculator"
agent T(task: str) -> Draft {
  n = calc("2 +")
  w = Writer(task, feedback: n.error)
  n -> w on error
  w -> return(w)
}
"""
    ir = rolegraph.load_agent("t.agent", "T", text=PRELUDE + body)
    outcome = run(ir, {"task": "t"}, MockModel())
    (writer,) = [r for r in outcome.trace.firings if r.node == "w"]
    assert "CalculatorError" in writer.inputs["feedback"]


def test_runs_export_opentelemetry_spans():
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    asyncio.run(
        run_agent(ir_of(REFINE), {"task": "t"}, model=model, tracer=provider.get_tracer("test"))
    )
    spans = {s.name: s for s in exporter.get_finished_spans()}
    run_span = spans["rolegraph.run A"]
    firings = [s for s in exporter.get_finished_spans() if s.name.startswith("rolegraph.firing")]
    assert [s.attributes["rolegraph.node"] for s in firings] == ["w", "c", "w", "c"]
    assert all(s.parent.span_id == run_span.context.span_id for s in firings)
    assert run_span.attributes["rolegraph.calls"] == 4
    assert all(
        run_span.start_time <= s.start_time <= s.end_time <= run_span.end_time for s in firings
    )


SHIELDED = """agent A(task: str) -> Draft {
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when not c.ok max 3
  c -> return(w) else
  enforce always(w -> historically not c)
}
"""


def test_enforce_blocks_the_firing_that_would_violate_it():
    # "never write after a review": the revision edge is blocked, counts as false, and
    # `else` returns the first draft
    model = MockModel(script={"Writer": [draft(1), draft(2)], "Critic": [NO, YES]})
    outcome = run(ir_of(SHIELDED), {"task": "t"}, model)
    assert outcome.result == draft(1)
    assert outcome.trace.steps() == [(1, ["w"]), (2, ["c"])]
    (blocked,) = [r for r in outcome.trace.firings if r.status == "skipped"]
    assert blocked.node == "w" and "enforce always(w -> historically not c)" in blocked.notes[0]


def test_shielded_runs_are_deterministic_whatever_the_latencies():
    shapes = set()
    for seed in range(10):
        rng = random.Random(seed)
        model = MockModel(latency=lambda request, rng=rng: rng.random() * 0.003)
        shapes.add(repr(run(ir_of(SHIELDED), {"task": "a poem"}, model).trace.shape()))
    assert len(shapes) == 1


COMPOSED = """agent Inner(task: str) -> Draft {
  a = Writer(task)
  b = Writer(task: a.text)
  return b
}
agent Outer(task: str) -> Draft {
  first = Inner(task)
  second = Inner(task: first.text)
  return second
}
"""


def test_an_agent_used_as_a_role_is_a_subgraph_with_a_nested_trace():
    ir = ir_of(COMPOSED, "Outer")
    assert ir.nodes["first"].kind == "agent"
    assert set(ir.nodes["first"].subgraph.nodes) == {"a", "b"}
    assert ir.worst_case_calls() == 4
    mock = MockModel(script={"Writer": [draft(i) for i in range(1, 5)]})
    outcome = run(ir, {"task": "t"}, mock)
    assert outcome.result == draft(4)
    assert [(r.node, r.time) for r in outcome.trace.firings] == [("first", 1), ("second", 2)]
    inner = outcome.trace.firings[1].children[0]
    assert [(r.node, r.time, r.output) for r in inner.firings] == [
        ("a", 1, draft(3)),
        ("b", 2, draft(4)),
    ]
    assert inner.firings[0].inputs["task"] == "draft 2"  # the outer node's argument
    assert outcome.trace.summary()["calls"] == 4


def test_an_agent_that_calls_itself_is_refused():
    checked = rolegraph.check_source(
        PRELUDE
        + """agent Ping(task: str) -> Draft {
  p = Pong(task)
  return p
}
agent Pong(task: str) -> Draft {
  p = Ping(task)
  return p
}
"""
    )
    assert [d.code for d in checked.errors] == ["E0408", "E0408"]
    assert "Ping -> Pong -> Ping" in checked.errors[0].message


def test_two_firings_of_a_node_at_one_time_have_their_own_keys():
    """`d` fires twice at time 2 (an edge from each of `a` and `b`), so its one reader `c`
    joins twice at time 3: four firings, four keys."""
    ir = ir_of(
        """agent A(task: str) -> Draft {
  a = Writer(task)
  b = Writer(task)
  d = Critic(task)
  a -> d(draft: a)
  b -> d(draft: b)
  c = Writer(task, feedback: d.feedback)
  c -> return(c) when c.score > 2.0
  c -> return(a) else
}
"""
    )
    outcome = run(ir, {"task": "t"}, MockModel())
    fired = [r for r in outcome.trace.firings if r.status == "ok"]
    assert [r.node for r in fired].count("d") == 2
    assert [(r.node, r.time) for r in fired].count(("c", 3)) == 2
    assert len({r.key for r in fired}) == len(fired)


def test_a_return_of_an_agent_parameter_returns_its_value():
    ir = ir_of("agent A(task: str) -> str {\n  return task\n}\n")
    assert run(ir, {"task": "hello"}, MockModel()).result == "hello"


def test_the_mock_reply_for_a_deeply_nested_list_type_grows_with_its_depth():
    from rolegraph.runtime.mock import generate

    schema: dict = {"type": "string"}
    for _ in range(60):
        schema = {"type": "array", "items": schema}
    value, depth = generate(schema, seed=7), 0
    while isinstance(value, list):
        assert len(value) <= 3 if depth == 0 else len(value) == 1
        value, depth = value[0], depth + 1
    assert depth == 60 and isinstance(value, str)
