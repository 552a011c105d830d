"""The rolegraph runtime: executes the IR built by the compiler.

    result = await run_agent(ir, {"task": "..."}, model="mock")

It imports the compiler's IR and semantics, never the front end (`rolegraph.grammar`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .budget import Budget, BudgetExceeded
from .errors import (
    ConstraintViolation,
    FiringFailed,
    ModelCallError,
    ModelOutputError,
    RunError,
    Stalled,
)
from .executor import AgentRun, Context
from .mock import MockModel
from .models import Model, ModelReply, ModelRequest, ToolCall
from .store import CachedModel, Store
from .tools import tool_threads as resolve_tool_threads
from .trace import FiringRecord, Trace

__all__ = [
    "AgentRun",
    "Budget",
    "BudgetExceeded",
    "ConstraintViolation",
    "Context",
    "FiringFailed",
    "FiringRecord",
    "MockModel",
    "Model",
    "ModelCallError",
    "ModelOutputError",
    "ModelReply",
    "ModelRequest",
    "RunError",
    "RunResult",
    "Stalled",
    "Store",
    "ToolCall",
    "Trace",
    "run_agent",
]


@dataclass
class RunResult:
    result: Any
    trace: Trace
    run_id: str | None = None


def model_router(model: str | Model | None = None) -> Callable[[Any], Model]:
    """Which model serves a node: `model` for every node when given, else the node's own
    provider. "mock" is the embedded model; "mock:latency=0.05" adds a delay (seconds) to
    each call; any other provider string goes to litellm."""
    shared: dict[str, Model] = {}

    def route(node: Any) -> Model:
        choice = model if model is not None else (node.model or "mock")
        if not isinstance(choice, str):
            return choice
        if choice not in shared:
            shared[choice] = _model_for(choice)
        return shared[choice]

    return route


def _model_for(name: str) -> Model:
    if name == "mock" or name.startswith("mock:"):
        options = dict(part.split("=", 1) for part in name[5:].split(",") if "=" in part)
        delay = float(options.get("latency", 0))
        return MockModel(latency=(lambda request: delay) if delay else None)
    from .litellm_model import LiteLLMModel

    return LiteLLMModel()


async def run_agent(
    ir: Any,
    inputs: Mapping[str, Any],
    *,
    model: str | Model | None = None,
    on_record: Callable[[FiringRecord], None] | None = None,
    budget: Budget | None = None,
    store: Store | None = None,
    resume: str | None = None,
    source: tuple[str, str] | None = None,
    tracer: Any = None,
    tool_threads: int | None = None,
) -> RunResult:
    """Run one agent's IR on `inputs`. Raises a `RunError` (with `.trace`) on failure.

    A `budget` bounds the run's calls, tokens and cost; it is never exceeded. With a
    `store`, replies are cached and each firing is checkpointed; `resume=RUN_ID` continues
    a run of that store (its inputs and model come from the store) without repeating a
    completed firing or model call. `source` is (file, fingerprint), recorded with the run.
    With a `tracer` (OpenTelemetry), the run is exported as spans when it ends.
    Synchronous tools run in a pool of `tool_threads` worker threads (default: the
    environment's `ROLEGRAPH_TOOL_THREADS`, else `DEFAULT_TOOL_THREADS`).
    """
    route = model_router(model)
    threads = resolve_tool_threads(tool_threads)  # (a bad setting fails before any firing)
    context = Context(route, on_record, budget=budget, tool_threads=threads)
    run_id = None
    if store is not None:
        if resume is not None:
            info = store.run_info(resume)
            if info is None:
                raise RunError(f"no run {resume!r} in {store.path}")
            if source is not None and info.fingerprint != source[1]:
                raise RunError(
                    f"run {resume} was made from another version of {info.file}: "
                    "the agent changed since, so it cannot be resumed"
                )
            run_id, inputs = resume, info.inputs
            route = model_router(info.model if model is None else model)
            context.replay = store.checkpoints(run_id)
        else:
            file, fingerprint = source or ("", "")
            label = model if isinstance(model, str) or model is None else type(model).__name__
            run_id = store.new_run(file, fingerprint, ir.name, dict(inputs), label)
        cached: dict[int, Model] = {}

        def through_cache(node: Any) -> Model:
            inner = route(node)
            if id(inner) not in cached:
                cached[id(inner)] = CachedModel(inner, store, run_id)
            return cached[id(inner)]

        context.model_for = through_cache
        context.checkpoint = lambda record: store.checkpoint(
            run_id, record.key, record.node, record.time, record.status, record.output, record.error
        )
    run = AgentRun(ir, inputs, context)
    try:
        result = await run.execute()
    except RunError as error:
        if tracer is not None:
            from .telemetry import export_trace

            export_trace(run.trace, tracer)
        if store is not None and run_id is not None:
            store.finish_run(run_id, f"failed: {type(error).__name__}")
        error.run_id = run_id  # type: ignore[attr-defined]
        raise
    if store is not None and run_id is not None:
        store.finish_run(run_id, "returned", result)
    if tracer is not None:
        from .telemetry import export_trace

        export_trace(run.trace, tracer)
    return RunResult(result, run.trace, run_id)
