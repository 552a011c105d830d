"""A run's LTL constraints (DESIGN §4): `ensure` formulas checked on the trace when the
run returns, and `enforce` shields, which decide before each route is taken whether the
formula stays satisfiable — in logical-time order, so the same whatever the timing.

The state is the run's (runtime/scheduler.py `AgentRun`: `shields`, `shield_time`,
`admitted`); these functions are its rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rolegraph.compiler.ir import IREdge
from rolegraph.compiler.ltl import evaluate as evaluate_formula

from .errors import ConstraintViolation
from .trace import FiringRecord, ltl_steps

if TYPE_CHECKING:
    from .scheduler import AgentRun, Inflight


def steps_by_time(run: AgentRun) -> dict[int, set[str]]:
    """Completed firings grouped by logical time, with the conditions that held."""
    return ltl_steps(run.trace.firings, run.plan.conditions, run.params)


def steps(run: AgentRun) -> list[set[str]]:
    """The trace as LTL steps: firings grouped by logical time, then the return."""
    by_time = steps_by_time(run)
    found = [by_time[t] for t in sorted(by_time)]
    if run.returned_at is not None:
        found.append({"return"})
    return found


def check_constraints(run: AgentRun) -> None:
    """Raise `ConstraintViolation` when the returned run violates an `ensure`."""
    if not any(c.mode == "ensure" for c in run.ir.constraints):
        return
    trace_steps = steps(run)
    for constraint in run.ir.constraints:
        if constraint.mode == "ensure" and not evaluate_formula(constraint.formula, trace_steps):
            raise ConstraintViolation(constraint.text, [sorted(s) for s in trace_steps], run.trace)


def step_shields(run: AgentRun, upto: int) -> None:
    """Step the `enforce` monitors over the trace to logical time `upto`, before a route
    of that time is taken (runtime/scheduler.py `_take_routes` takes the routes of time t
    in key order once no firing of t or before is still to come, so that the shield
    decides on the whole trace so far, whatever the timing)."""
    if upto <= run.shield_time:
        return
    by_time = steps_by_time(run)
    for time in range(run.shield_time + 1, upto + 1):
        if time in by_time:
            for _, monitor in run.shields:
                monitor.step(by_time[time])
    run.shield_time = upto


def allowed(run: AgentRun, edge: IREdge, flight: Inflight) -> bool:
    """Whether taking `edge` keeps every `enforce` formula satisfiable. Its target would
    fire at the next logical time, beside what was admitted there already; what its
    output will be is unknown, so conditions on it count as false."""
    if not run.shields:
        return True
    target = "return" if edge.kind == "return" else edge.target
    step = run.admitted.get(flight.time + 1, set()) | {target}
    for text, monitor in run.shields:
        trial = monitor.copy()
        trial.step(step)
        if (not trial.accepts()) if target == "return" else trial.verdict() is False:
            run.record(
                FiringRecord(
                    node=target,
                    time=flight.time + 1,
                    key="",
                    status="skipped",
                    notes=[f"blocked by `enforce {text}`"],
                )
            )
            return False
    return True
