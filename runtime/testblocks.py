"""Run the `test` blocks of a checked `.agent` file on the mock model.

Each test runs its agent with its `mock` replies scripted per role (and its answers per
human step: a step whose answers run out pauses the run, which fails the test), then
judges each
`expect` formula on the run's trace (LTLf over the steps of logical time, the return as
the last step). Conditions read the nodes' outputs where those nodes fire, and
`result`, `calls(Role)`, `firings(node)` and the agent's parameters everywhere.
A run that fails (a stall, a budget, a broken reply) fails the test with its reason.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from rolegraph.compiler import ast, ltl
from rolegraph.compiler.printer import to_source

from .errors import RunError
from .expressions import EvaluationError, evaluate, holds, references
from .mock import MockModel
from .trace import FIRED, Condition, Trace, ltl_steps


@dataclass
class TestOutcome:
    name: str
    passed: bool
    seconds: float
    failures: list[str] = field(default_factory=list)
    trace: Trace | None = None


async def run_test(test: ast.TestDecl, ir: Any) -> TestOutcome:
    """Run one test block against the IR of the agent it runs."""
    from . import run_agent

    began = time.perf_counter()
    run = test.run
    assert run is not None  # the checker made sure of it
    names = list(ir.param_types)
    inputs = {
        (arg.name or names[index]): _constant(arg.value) for index, arg in enumerate(run.args)
    }
    script = {
        mock.role.rsplit(".", 1)[-1]: [_scripted(r) for r in mock.replies.items]  # type: ignore[attr-defined]
        for mock in test.body
        if isinstance(mock, ast.TestMock)
    }
    model = MockModel(script=script)
    try:  # (a human step's `mock` scripts its answers: runtime/human.py)
        outcome = await run_agent(ir, inputs, model=model, answers=script)
    except RunError as error:
        return TestOutcome(
            test.name,
            False,
            time.perf_counter() - began,
            [f"the run failed: {error}"],
            getattr(error, "trace", None),
        )
    failures = []
    for expect in (s for s in test.body if isinstance(s, ast.TestExpect)):
        problem = judge(expect.formula, outcome.trace, outcome.result, inputs, ir, model)
        if problem is not None:
            failures.append(problem)
    return TestOutcome(
        test.name, not failures, time.perf_counter() - began, failures, outcome.trace
    )


def judge(
    formula: ast.Node, trace: Trace, result: Any, inputs: dict[str, Any], ir: Any, model: MockModel
) -> str | None:
    """None if the formula holds on the trace, else why not (in words)."""
    calls: dict[str, int] = {}
    for request in model.calls:  # by the role's name, qualified (`std.x.Write`) or not
        for name in {request.role, request.role.rsplit(".", 1)[-1]}:
            calls[name] = calls.get(name, 0) + 1
    firings: dict[str, int] = {}
    for record in trace.firings:
        if record.status in FIRED:  # a failed firing fired too
            firings[record.node] = firings.get(record.node, 0) + 1
    env_everywhere = {**inputs, "result": result}

    def resolve_calls(expr: ast.Node) -> ast.Node:
        def replace(_: ast.Node, node: ast.Node) -> ast.Node | None:
            if isinstance(node, ast.Call) and node.func in ("calls", "firings") and node.args:
                arg = node.args[0]
                name = arg.parts[-1] if isinstance(arg, ast.Ref) else to_source(arg)
                counts = calls if node.func == "calls" else firings
                return ast.IntLit(value=counts.get(name, 0))
            return None

        return expr.transform(replace)

    conditions = [a for a in formula.walk() if isinstance(a, ast.LtlHolds)]
    values: dict[str, Any] = {}
    about_firings: list[Condition] = []
    about_the_run: list[str] = []
    for atom in conditions:
        expr = resolve_calls(atom.expr)
        nodes = references(expr) & set(ir.nodes)
        if nodes:
            about_firings.append((ltl.proposition(atom), holds(expr), nodes))
            continue
        try:  # about the whole run: the same at every step
            if evaluate(expr, env_everywhere):
                about_the_run.append(ltl.proposition(atom))
        except EvaluationError as error:
            return f"`expect {to_source(formula)}`: {error}"
        if isinstance(atom.expr, ast.Compare):
            values[to_source(atom.expr.left)] = _shown(atom.expr, resolve_calls, env_everywhere)
    by_time = ltl_steps(trace.firings, about_firings, env_everywhere)
    steps = [by_time[t] for t in sorted(by_time)]
    if trace.returned_at is not None:
        steps.append({ltl.RETURN})
    if not steps:
        steps = [set()]
    for step in steps:
        step.update(about_the_run)
    if ltl.evaluate(formula, steps):
        return None
    shown = "; ".join(f"{k} is {v}" for k, v in values.items() if v is not None)
    lines = [f"`expect {to_source(formula)}` does not hold" + (f" ({shown})" if shown else "")]
    lines.append("the trace: " + " | ".join(", ".join(sorted(s)) for s in steps))
    return "\n".join(lines)


def _shown(expr: ast.Node, resolve: Any, env: dict[str, Any]) -> Any:
    """The left side of a comparison, evaluated: what a failure message shows."""
    if isinstance(expr, ast.Compare):
        try:
            return repr(evaluate(resolve(expr.left), env))
        except EvaluationError:
            return None
    return None


def _scripted(expr: ast.Node) -> Any:
    """A `mock` entry as the mock model replies it: a value of the role's result type
    (a string too: `mock Writer ["a draft"]` is a `str` role's value, sent as JSON, not
    as a raw reply the runtime would have to repair)."""
    value = _constant(expr)
    return json.dumps(value) if isinstance(value, str) else value


def _constant(expr: ast.Node) -> Any:
    return None if isinstance(expr, ast.NullLit) else ast.constant_value(expr)
