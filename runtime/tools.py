"""How the runtime calls a Python tool: imported once, and run off the event loop.

An `async def` tool runs on the event loop, as asyncio code does (it must not block).
A plain function runs in a worker thread of a bounded pool, so that a slow synchronous
tool never holds the loop: two of them overlap with each other and with model calls
(DESIGN §3.6: a slow branch never holds back a fast one).

The pool is shared by every run in the process, one pool per size: at most
`tool_threads` synchronous tool calls run at once, and the others wait for a thread.
The size is `Context.tool_threads` (`run_agent(..., tool_threads=N)`), else the
environment variable `ROLEGRAPH_TOOL_THREADS`, else `DEFAULT_TOOL_THREADS`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .errors import RunError

# (the standard library's default for thread pools: I/O-bound work, a bound on threads)
DEFAULT_TOOL_THREADS = min(32, (os.cpu_count() or 1) + 4)
TOOL_THREADS_VARIABLE = "ROLEGRAPH_TOOL_THREADS"


def tool_threads(requested: int | None = None) -> int:
    """The number of worker threads for synchronous tools: `requested`, else the
    environment's `ROLEGRAPH_TOOL_THREADS`, else `DEFAULT_TOOL_THREADS`."""
    if requested is None:
        text = os.environ.get(TOOL_THREADS_VARIABLE, "").strip()
        if not text:
            return DEFAULT_TOOL_THREADS
        if not text.isdigit():
            raise RunError(f"{TOOL_THREADS_VARIABLE}={text!r}: expected a whole number, like 8")
        requested = int(text)
    if requested < 1:
        raise RunError(f"tool threads: at least 1, not {requested}")
    return requested


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    # One pool per size for the whole process: runs share it (threads start lazily and
    # are reused), so the bound holds across concurrent runs, as in a search.
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="rolegraph-tool")


async def call_in_thread(function: Callable[..., Any], kwargs: dict[str, Any], threads: int) -> Any:
    """`function(**kwargs)` in a worker thread, awaited without holding the loop.

    The call sees the caller's context variables (as with `asyncio.to_thread`).
    Cancelling the await abandons the call: a call not yet started never starts, one
    that has started runs to its end in its thread (Python cannot stop a thread), and
    its result is dropped."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    call = functools.partial(context.run, function, **kwargs)
    return await loop.run_in_executor(_pool(threads), call)


def is_synchronous(function: Callable[..., Any]) -> bool:
    """Whether a tool is a plain function (run in a thread) rather than a coroutine
    function (run on the loop). A callable object counts by its `__call__`."""
    if inspect.iscoroutinefunction(function):
        return False
    call = getattr(function, "__call__", None)  # noqa: B004 - the method, not callability
    return not (call is not None and inspect.iscoroutinefunction(call))
