"""The rolegraph runtime: executes the IR built by the compiler.

    result = await run_agent(ir, {"task": "..."}, model="mock")

It imports the compiler's IR and semantics, never the front end (`rolegraph.grammar`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .budget import Budget, BudgetError, BudgetExceeded, UnpricedModel
from .calls import Cache, answer
from .errors import (
    ConstraintViolation,
    FiringFailed,
    ModelCallError,
    ModelOutputError,
    PromptTooLarge,
    RenderError,
    RunError,
    Stalled,
    StoreError,
)
from .executor import AgentRun, Context
from .human import (
    DeadlineMissed,
    Desk,
    MockDesk,
    Paused,
    ScriptedDesk,
    StoreDesk,
    TerminalDesk,
)
from .mock import MockModel
from .models import CallFailed, Model, ModelReply, ModelRequest, ToolCall
from .prompts import RenderLimits, prompt_limits, render_prompt
from .providers import DEFAULT_MAX_TOKENS, Provider, is_mock, mock_latency
from .questions import AnswerError, Question
from .questions import answer as answer_question
from .questions import pending as pending_questions
from .sink import EventSink
from .store import RunCache, Store
from .tools import nonblocking
from .tools import tool_threads as resolve_tool_threads
from .trace import FiringRecord, Trace

if TYPE_CHECKING:
    from .events import Event, trace_of
    from .events import RunEnded as RunEnded
    from .events import RunFailed as RunFailed
    from .events import RunPaused as RunPaused
    from .streaming import stream_agent

#: What a run told as events needs (runtime/events.py, runtime/streaming.py), loaded when
#: first asked for: a run that is not told as events never makes one.
_ON_FIRST_USE = {
    "Event": "events",
    "RunEnded": "events",
    "RunFailed": "events",
    "RunPaused": "events",
    "trace_of": "events",
    "stream_agent": "streaming",
}


if not TYPE_CHECKING:  # (a type checker reads the imports above, and flags a name misspelt)

    def __getattr__(name: str) -> Any:
        if name in _ON_FIRST_USE or name in ("events", "streaming"):
            import importlib

            module = importlib.import_module(f".{_ON_FIRST_USE.get(name, name)}", __name__)
            value = getattr(module, name) if name in _ON_FIRST_USE else module
            globals()[name] = value
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted({*globals(), *_ON_FIRST_USE, "events", "streaming"})


__all__ = [
    "DEFAULT_MAX_TOKENS",
    "AgentRun",
    "AnswerError",
    "Budget",
    "BudgetError",
    "BudgetExceeded",
    "CallFailed",
    "ConstraintViolation",
    "Context",
    "DeadlineMissed",
    "Desk",
    "Event",
    "EventSink",
    "FiringFailed",
    "FiringRecord",
    "MockDesk",
    "MockModel",
    "Model",
    "ModelCallError",
    "ModelOutputError",
    "ModelReply",
    "ModelRequest",
    "ModelsByName",
    "Paused",
    "PromptTooLarge",
    "Provider",
    "Question",
    "RenderError",
    "RenderLimits",
    "RunError",
    "RunResult",
    "ScriptedDesk",
    "Stalled",
    "Store",
    "StoreDesk",
    "StoreError",
    "TerminalDesk",
    "ToolCall",
    "Trace",
    "UnpricedModel",
    "answer_question",
    "model_router",
    "nonblocking",
    "pending_questions",
    "prompt_limits",
    "provider_of",
    "render_prompt",
    "run_agent",
    "stream_agent",
    "trace_of",
]


@dataclass
class RunResult:
    result: Any
    trace: Trace
    run_id: str | None = None


class ModelsByName:
    """A model for each provider string a request names: "mock" is the embedded model,
    "mock:latency=0.05" adds a delay (seconds) to each call, and any other provider string
    goes to litellm."""

    def __init__(self) -> None:
        self.models: dict[str, Model] = {}

    def model(self, name: str) -> Model:
        found = self.models.get(name)
        if found is None:
            found = self.models[name] = _model_for(name)
        return found

    async def complete(self, request: ModelRequest) -> ModelReply:
        return await self.model(request.model).complete(request)

    async def stream(self, request: ModelRequest, on_text: Callable[[str], None]) -> ModelReply:
        return await answer(self.model(request.model), request, on_text)

    def price(self, request: ModelRequest) -> Any:
        lookup = getattr(self.model(request.model), "price", None)
        return lookup(request) if lookup is not None else None


def model_router(model: str | Model | None = None) -> Callable[[Any], Model]:
    """Which model object serves a node's calls: `model` when it is a `Model` object,
    else the model its requests name (see `ModelsByName`)."""
    chosen: Model = model if model is not None and not isinstance(model, str) else ModelsByName()
    return lambda node: chosen


def _model_for(name: str) -> Model:
    if is_mock(name):
        try:
            delay = mock_latency(name)
        except ValueError as error:  # (the CLI refuses such a --model before the run)
            raise RunError(str(error)) from None
        return MockModel(latency=(lambda request: delay) if delay else None)
    from .litellm_model import LiteLLMModel

    return LiteLLMModel()


def provider_of(model: str | Model | None, params: Mapping[str, Any] | None) -> Provider:
    """What `run_agent(model=..., params=...)` means for each role's calls."""
    # (no `getattr` of a string or of None: the AttributeError it makes and drops costs
    # more than the rest of a run's set-up)
    own = None if model is None or isinstance(model, str) else getattr(model, "provider", None)
    if isinstance(own, Provider):  # LiteLLMModel(model=..., **params)
        return Provider(own.model, {**own.params, **(params or {})})
    if not params:
        return _plain_provider(model if isinstance(model, str) else None)
    return Provider(model if isinstance(model, str) else None, dict(params))


@functools.lru_cache(maxsize=64)
def _plain_provider(model: str | None) -> Provider:
    """`Provider(model, {})`, one for every run that names no parameters (a frozen
    dataclass is dear to make: ~6,500 machine instructions a run, bench/RESULTS.md
    runtime-s19; nothing changes a provider's parameters once it is made)."""
    return Provider(model, {})


async def run_agent(
    ir: Any,
    inputs: Mapping[str, Any],
    *,
    model: str | Model | None = None,
    params: Mapping[str, Any] | None = None,
    provider: Provider | None = None,
    on_record: Callable[[FiringRecord], None] | None = None,
    budget: Budget | None = None,
    store: Store | None = None,
    resume: str | None = None,
    source: tuple[str, str] | None = None,
    tracer: Any = None,
    tool_threads: int | None = None,
    on_event: EventSink | None = None,
    human: Desk | None = None,
    answers: Mapping[str, list[Any]] | str | None = None,
    cache: Cache | None = None,
) -> RunResult:
    """Run one agent's IR on `inputs`. Raises a `RunError` (with `.trace`) on failure.

    `model` is the model every role calls — a provider string ("mock",
    "openai/gpt-4o-mini") or a `Model` — or None: each role calls the model it declares.
    `params` are laid over every role's model parameters (`api_base`, `temperature`,
    `timeout`, `concurrency`, ...). A `provider` says both at once (and then `model` may be
    a `Model` object that serves the calls `provider` addresses).

    A `budget` bounds the run's calls, tokens and cost; it is never exceeded. With a
    `store`, replies are cached and each firing is checkpointed; `resume=RUN_ID` continues
    a run of that store (its inputs and model come from the store, and its budget goes on
    from what it had spent) without repeating a completed firing or model call. Without a
    store, `cache` (`cached_reply`/`save_reply`, runtime/calls.py) is the response cache. `source`
    is (file, fingerprint), recorded with the run. With a `tracer` (OpenTelemetry), the
    run is exported as spans when it ends. Synchronous tools run in a pool of
    `tool_threads` worker threads (default: the environment's `ROLEGRAPH_TOOL_THREADS`,
    else `DEFAULT_TOOL_THREADS`).

    `on_event` is told every event of the run as it happens (runtime/events.py): firings
    as they start and end, the text of model replies as it arrives, and, once the run
    has begun, a `result`, an `error` or a `paused` event last. `stream_agent` gives the
    same events as an async iterator.

    Human steps (docs/human.md) ask `human`, a `Desk`: by default, with a `store`, the
    answers given to the run's questions in the store (`StoreDesk`), else none. A step
    with no answer yet parks; when all that is left waits for answers, the run raises
    `Paused` (a `RunError`, with `.questions`), its state kept in the store: answer with
    `answer(store, run_id, question_id, value)` and resume it. `answers` scripts the
    answers of steps by name, in order (as a test block's `mock Step [...]` does);
    `answers="mock"` answers every question at once as the mock model would (`MockDesk`).
    """
    threads = resolve_tool_threads(tool_threads)  # (a bad setting fails before any firing)
    context = Context(
        model_router(model),
        on_record,
        on_event,
        budget=budget,
        tool_threads=threads,
        provider=provider if provider is not None else provider_of(model, params),
    )
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
            if model is None:
                context.model_for = model_router(info.model)
                context.provider = provider_of(info.model, params)
            if budget is None:
                budget = Budget.parse(info.budget) if info.budget else Budget()
            budget.spent_calls += info.spent_calls
            budget.spent_tokens += info.spent_tokens
            budget.spent_cost += info.spent_cost
            context.replay = store.checkpoints(run_id)
        else:
            file, fingerprint = source or ("", "")
            label = model if isinstance(model, str) or model is None else type(model).__name__
            run_id = store.new_run(
                file,
                fingerprint,
                ir.name,
                dict(inputs),
                label,
                budget.text() if budget is not None and budget.limited else None,
            )
        budget = budget if budget is not None else Budget()
        budget.on_spend = lambda spent: store.save_spent(
            run_id, spent.spent_calls, spent.spent_tokens, spent.spent_cost
        )
        context.budget = budget
        context.cache = RunCache(store, run_id)
        context.checkpoint = store.checkpointer(run_id)
    elif cache is not None:
        context.cache = cache
    if human is None and store is not None and run_id is not None:
        human = StoreDesk(store, run_id)
    if answers == "mock":
        human = MockDesk()
    elif isinstance(answers, str):
        raise RunError(f"answers: a mapping of steps to their answers, or 'mock'; not {answers!r}")
    elif answers:
        human = ScriptedDesk(dict(answers), human)
    context.human = human
    run = AgentRun(ir, inputs, context)
    try:
        result = await run.execute()
    except RunError as error:
        if tracer is not None:
            from .telemetry import export_trace

            export_trace(run.trace, tracer)
        paused = isinstance(error, Paused)
        if store is not None and run_id is not None:
            # (the run's own error is the one to report; a store that also fails to
            # record it says so the next time it is used)
            with contextlib.suppress(StoreError):
                store.finish_run(run_id, "paused" if paused else f"failed: {type(error).__name__}")
        error.run_id = run_id  # type: ignore[attr-defined]
        if on_event is not None:
            from .events import RunFailed, RunPaused

            on_event(
                RunPaused.of(ir.name, error, run_id)
                if paused
                else RunFailed.of(ir.name, error, run_id)
            )
        raise
    finally:
        if context.mcp is not None:  # (its sessions end with the run, however it ends)
            from .mcp_tools import close_sessions

            await close_sessions(context)
    if store is not None and run_id is not None:
        try:
            store.finish_run(run_id, "returned", result)
        except StoreError as error:
            error.trace, error.run_id = run.trace, run_id  # (the trace holds the result)
            raise
    if tracer is not None:
        from .telemetry import export_trace

        export_trace(run.trace, tracer)
    trace = run.trace
    if on_event is not None:
        from .events import RunEnded

        on_event(RunEnded(ir.name, result, trace.returned_at, trace.summary(), run_id, trace))
    return RunResult(result, trace, run_id)
