"""OpenTelemetry spans for a run (the optional `otel` extra: `pip install rolegraph[otel]`).

After a run (or a failed one), `export_trace` turns its trace into spans: one for the run,
one per firing as its child (with the node, logical time, status, calls, tokens and cost
as attributes), and the firings of a nested agent as children of the firing that ran it.
Exporting after the fact keeps the executor's hot path free of tracing work.
"""

from __future__ import annotations

import time
from typing import Any

from .trace import FiringRecord, Trace


def export_trace(trace: Trace, tracer: Any = None) -> None:
    """Record `trace` as spans with `tracer` (default: the global "rolegraph" tracer)."""
    import opentelemetry.trace as otel

    tracer = tracer or otel.get_tracer("rolegraph")
    offset = time.time_ns() - time.perf_counter_ns()  # perf_counter seconds → epoch ns
    _export(trace, tracer, offset, None, otel)


def _ns(seconds: float, offset: int) -> int:
    return int(seconds * 1e9) + offset


def _export(trace: Trace, tracer: Any, offset: int, parent: Any, otel: Any) -> None:
    timed = [r for r in trace.firings if r.started]
    start = min((r.started for r in timed), default=time.perf_counter())
    end = max((r.ended for r in timed if r.ended), default=start)
    context = otel.set_span_in_context(parent) if parent is not None else None
    summary = trace.summary()
    run = tracer.start_span(
        f"rolegraph.run {trace.agent}",
        context=context,
        start_time=_ns(start, offset),
        attributes={
            "rolegraph.agent": trace.agent,
            "rolegraph.returned_at": trace.returned_at or 0,
            **{f"rolegraph.{k}": v for k, v in summary.items()},
        },
    )
    for record in trace.firings:
        _firing(record, tracer, offset, run, otel, start)
    run.end(end_time=_ns(end, offset))


def _firing(
    record: FiringRecord, tracer: Any, offset: int, run: Any, otel: Any, run_start: float
) -> None:
    began = record.started or run_start
    span = tracer.start_span(
        f"rolegraph.firing {record.node}",
        context=otel.set_span_in_context(run),
        start_time=_ns(began, offset),
        attributes={
            "rolegraph.node": record.node,
            "rolegraph.time": record.time,
            "rolegraph.status": record.status,
            "rolegraph.calls": record.calls,
            "rolegraph.input_tokens": record.input_tokens,
            "rolegraph.output_tokens": record.output_tokens,
            "rolegraph.cost": record.cost,
        },
    )
    if record.error:
        span.set_status(otel.Status(otel.StatusCode.ERROR, record.error))
    for child in record.children:
        _export(child, tracer, offset, span, otel)
    span.end(end_time=_ns(record.ended or began, offset))
