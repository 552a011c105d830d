"""A run as an async stream of its events (runtime/events.py).

    async for event in stream_agent(ir, {"task": "..."}, model="mock"):
        if event.kind == "tokens":
            print(event.text, end="", flush=True)

The run goes on in a task of its own while the events wait in a queue for the loop
that reads them; it ends with a `result` or an `error` event. A reader that stops early
(`break`) cancels the run, which then records its in-flight firings as cancelled and is
charged for its calls in flight, as any cancelled run is.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from typing import Any

from .budget import Budget
from .errors import RunError
from .events import Event, RunFailed
from .models import Model
from .providers import Provider
from .store import Store


async def stream_agent(
    ir: Any,
    inputs: Mapping[str, Any],
    *,
    model: str | Model | None = None,
    params: Mapping[str, Any] | None = None,
    provider: Provider | None = None,
    budget: Budget | None = None,
    store: Store | None = None,
    resume: str | None = None,
    source: tuple[str, str] | None = None,
    tracer: Any = None,
    tool_threads: int | None = None,
) -> AsyncIterator[Event]:
    """The events of a run of `ir` on `inputs`, as they happen; the options are
    `run_agent`'s. The last event is a `RunEnded` (kind `result`, with the trace) or a
    `RunFailed` (kind `error`, with the `RunError`): a run error is an event, never
    raised. Anything else that goes wrong (a bug, a bad `tool_threads`) is raised."""
    from . import run_agent  # (the package's: it imports this module)

    queue: asyncio.Queue[Event | None] = asyncio.Queue()
    ended = False

    def emit(event: Event) -> None:
        nonlocal ended
        ended = ended or event.kind in ("result", "error", "paused")
        queue.put_nowait(event)

    async def run() -> None:
        try:
            await run_agent(
                ir,
                inputs,
                model=model,
                params=params,
                provider=provider,
                budget=budget,
                store=store,
                resume=resume,
                source=source,
                tracer=tracer,
                tool_threads=tool_threads,
                on_event=emit,
            )
        except RunError as error:
            if not ended:  # it failed before it began (bad inputs, no such run to resume)
                emit(RunFailed.of(ir.name, error, getattr(error, "run_id", None)))
        finally:
            queue.put_nowait(None)

    task = asyncio.get_running_loop().create_task(run())
    try:
        while (event := await queue.get()) is not None:
            yield event
        await task  # (raises what is not a run error)
    finally:
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
