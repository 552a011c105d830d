"""How the runtime calls a Python tool: imported once, and run off the event loop unless
its author says it never blocks.

An `async def` tool runs on the event loop, as asyncio code does (it must not block);
one whose code has no `await` cannot suspend, and is run to its end inline, as a
`@nonblocking` function is (`call_through`).
A plain function runs in a worker thread of a bounded pool, so that a slow synchronous
tool never holds the loop: two of them overlap with each other and with model calls
(DESIGN §3.6: a slow branch never holds back a fast one). A plain function marked
`@nonblocking` (pure, fast, never waits) is called on the loop, inline, with no thread
hand-off: while it runs, nothing else of the process does (`how_called`).

The pool is shared by every run in the process, one pool per size: at most
`tool_threads` synchronous tool calls run at once, and the others wait for a thread.
The size is `Context.tool_threads` (`run_agent(..., tool_threads=N)`), else the
environment variable `ROLEGRAPH_TOOL_THREADS`, else `DEFAULT_TOOL_THREADS`.
"""

from __future__ import annotations

import asyncio
import contextvars
import dis
import functools
import inspect
import os
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from rolegraph.compiler.pyimport import enter_folder

from .errors import RunError

F = TypeVar("F", bound=Callable[..., Any])

#: How a tool is called: in a worker thread (a plain function), awaited on the event loop
#: (a coroutine function), or called on the loop, inline (a `@nonblocking` plain function).
HowCalled = Literal["thread", "loop", "inline"]
THREAD: HowCalled = "thread"
LOOP: HowCalled = "loop"
INLINE: HowCalled = "inline"

# the attribute `nonblocking` sets on a function
MARK = "__rolegraph_nonblocking__"

# (the standard library's default for thread pools: I/O-bound work, a bound on threads)
DEFAULT_TOOL_THREADS = min(32, (os.cpu_count() or 1) + 4)
TOOL_THREADS_VARIABLE = "ROLEGRAPH_TOOL_THREADS"


def tool_threads(requested: int | None = None) -> int:
    """The number of worker threads for synchronous tools: `requested`, else the
    environment's `ROLEGRAPH_TOOL_THREADS`, else `DEFAULT_TOOL_THREADS`."""
    if requested is None:
        text = _environment_value(TOOL_THREADS_VARIABLE).strip()
        if not text:
            return DEFAULT_TOOL_THREADS
        if not text.isdigit():
            raise RunError(f"{TOOL_THREADS_VARIABLE}={text!r}: expected a whole number, like 8")
        requested = int(text)
    if requested < 1:
        raise RunError(f"tool threads: at least 1, not {requested}")
    return requested


# the process's environment as `os.environ` keeps it (a dict of encoded names and values,
# changed in place by every `os.environ[...] = ...` and `del`), read by
# `_environment_value` while `os.environ` is still the object it was read from (one that
# replaced it, a test's dict say, is asked as it asks); None where it keeps no such dict
_ENVIRONMENT = os.environ
_ENVIRON: dict[Any, Any] | None = getattr(os.environ, "_data", None)


def _environment_value(name: str) -> str:
    """`os.environ.get(name, "")`, read at every run (`tool_threads`) without the two
    `KeyError`s that `os.environ.get` raises and catches for a variable that is not set
    (~9,000 machine instructions a run, bench/RESULTS.md runtime-s19): the value looked up
    in `os.environ`'s own dict, by the name encoded as `os.environ` encodes it."""
    environment = os.environ
    if _ENVIRON is None or environment is not _ENVIRONMENT:
        return environment.get(name, "")
    raw = _ENVIRON.get(environment.encodekey(name))
    return "" if raw is None else environment.decodevalue(raw)


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
    its result is dropped (an awaitable in it closed: `abandon`)."""
    context = contextvars.copy_context()
    call = _pool(threads).submit(functools.partial(context.run, function, **kwargs))
    try:
        return await asyncio.wrap_future(call)
    except asyncio.CancelledError:
        call.add_done_callback(_abandon_result)  # (now, or when the thread's call ends)
        raise


async def awaited_alone(awaitable: Any) -> Any:
    """What an `async def` tool's call gives, awaited in a task of its own, which runs it
    in a copy of the context: what it sets in context variables no other firing sees, as
    with a worker thread's call or an inline one (`copy_context().run`), whatever task
    awaits it (a firing's task carries the firings its end starts: runtime/scheduler.py
    `fire`). Its `asyncio.current_task()` is its own, from its first step to its last.
    A cancel of the awaiting task reaches it; a `CancelledError` it raises itself reaches
    the firing as one (runtime/scheduler.py `_cancelled_from_outside`)."""
    if not asyncio.iscoroutine(awaitable):  # (a future, an object with `__await__`)
        return await awaitable
    return await asyncio.get_running_loop().create_task(awaitable)


def abandon(value: Any) -> None:
    """What a tool returned that nobody will await, because its firing was cancelled: a
    coroutine is closed (one not begun never runs, as if cancelled at its first step;
    left to the collector, it would warn that it was never awaited, in whatever code
    runs then)."""
    if inspect.iscoroutine(value):
        value.close()


def _abandon_result(call: Future[Any]) -> None:
    if not call.cancelled() and call.exception() is None:
        abandon(call.result())


def nonblocking(function: F) -> F:
    """Mark a plain-function tool as non-blocking: the runtime calls it on the event loop,
    inline, as it awaits an `async def` tool, instead of handing it to a worker thread.

        from rolegraph import nonblocking

        @nonblocking
        def add(a: int, b: int) -> int:
            return a + b

    For pure, fast functions that never wait (no I/O, no sleep, no lock held by another
    thread): while one runs, every other branch of every run of the process waits for it.
    Unmarked plain functions keep running in worker threads (docs/runtime.md). Returns
    the function itself, marked (a callable that takes no attribute, such as a built-in,
    is wrapped first); an `async def` is refused: it runs on the loop already."""
    if _is_coroutine_function(function):
        raise TypeError(
            f"@nonblocking marks a plain function; {_name(function)} is `async def`, which "
            "runs on the event loop already"
        )
    global _marks
    _marks += 1  # (what runs found of how their tools are called is found again: `marks`)
    try:
        setattr(function, MARK, True)
    except (AttributeError, TypeError):  # (a built-in, a slotted object: wrap it)
        original = function

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return original(*args, **kwargs)

        setattr(wrapper, MARK, True)
        return wrapper  # type: ignore[return-value]
    if type(function) is _FUNCTION:
        _KNOWN.pop(function, None)  # (asked before it was marked: ask again)
    return function


# how many times `nonblocking` has marked a function, in this process
_marks = 0


def marks() -> int:
    """How many functions `nonblocking` has marked so far in this process: what a run
    remembers of how its tools are called (runtime/scheduler.py) holds until it changes."""
    return _marks


# functions → how they are called, found once per process (every run asks, and the
# coroutine test is `inspect`'s, several µs); only functions are kept here: a callable
# object's class or `__call__` may change, so it is looked at every time
_KNOWN: weakref.WeakKeyDictionary[Callable[..., Any], HowCalled] = weakref.WeakKeyDictionary()


def how_called(function: Callable[..., Any]) -> HowCalled:
    """How the runtime calls a tool: `LOOP` for a coroutine function (a callable object
    counts by its `__call__`), `INLINE` for a plain function marked `@nonblocking`,
    `THREAD` for any other."""
    if type(function) is _FUNCTION:
        found = _KNOWN.get(function)
        if found is None:
            found = _KNOWN[function] = _how_called(function)
        return found
    return _how_called(function)


def _how_called(function: Callable[..., Any]) -> HowCalled:
    if _is_coroutine_function(function):
        return LOOP
    return INLINE if getattr(function, MARK, False) is True else THREAD


_FUNCTION = type(_how_called)


def is_synchronous(function: Callable[..., Any]) -> bool:
    """Whether a tool runs in a worker thread: a plain function not marked
    `@nonblocking` (`how_called`)."""
    return how_called(function) == THREAD


def call_through(folder: str, function: Callable[..., Any], args: dict[str, Any]) -> Any:
    """A call of the coroutine function `function`, which cannot suspend
    (`never_suspends`), run to its end here and now in its import scope: the same value
    or error as awaiting it in a task of its own, with no task, no turn of the loop. The
    runtime calls it inline, as a `@nonblocking` function (runtime/scheduler.py
    `python_call`, `fire_inline`), and only in a copy of the context made for this call
    and dropped after it: the scope is entered (`enter_folder`) and never left, as the
    copy goes with it (what `call_beside` does, and an `async def` wrapped to be called
    by it: one frame, a token and a dict of arguments fewer)."""
    enter_folder(folder)
    coroutine = function(**args)
    try:
        coroutine.send(None)  # (it has no `await`: it ends in its first step)
    except StopIteration as end:
        return end.value
    coroutine.close()
    raise RuntimeError(f"{_name(function)} suspended, though its code has no `await`")


def never_suspends(function: Callable[..., Any]) -> bool:
    """Whether `function` is an `async def` whose code has no `await` (nor `async for`,
    `async with`): its coroutine ends in its first step, so awaiting it in a task only
    adds the task. An `async def` that awaits is never run that way, even where what it
    awaits happens to be ready: its first step may bind the task it runs in (an anyio
    cancel scope, `asyncio.timeout`), which must be the task its later steps run in."""
    if type(function) is not _FUNCTION:
        return False  # (a callable object, a method: awaited in a task, as ever)
    found = _NEVER_SUSPENDS.get(function)
    if found is None:
        code = function.__code__
        found = _NEVER_SUSPENDS[function] = bool(code.co_flags & inspect.CO_COROUTINE) and all(
            instruction.opname != "YIELD_VALUE" for instruction in dis.get_instructions(code)
        )
    return found


# functions → whether they never suspend (`never_suspends`), found once per process
_NEVER_SUSPENDS: weakref.WeakKeyDictionary[Callable[..., Any], bool] = weakref.WeakKeyDictionary()


def _is_coroutine_function(function: Callable[..., Any]) -> bool:
    if inspect.iscoroutinefunction(function):
        return True
    call = getattr(function, "__call__", None)  # noqa: B004 - the method, not callability
    return call is not None and inspect.iscoroutinefunction(call)


def _name(function: Callable[..., Any]) -> str:
    return f"`{getattr(function, '__qualname__', repr(function))}`"
