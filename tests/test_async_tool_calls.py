"""An `async def` tool is awaited in its firing's own frame (runtime/scheduler.py `fire`),
where every other Python tool goes through `firing.call_python`: its arguments coerced to
the declared types, its result too, and the tool's import scope set around the call and
reset after it. Held against the same tools as plain functions, which run in worker
threads through `call_tool`: the oracle (the same results, firings and errors), on the
agents of tests/test_tool_nonblocking.py and on seeded random ones."""

import asyncio
import contextvars
import re
from typing import Any

import anyio
import pytest
from hypothesis import given, settings

import rolegraph
from rolegraph.compiler import pyimport
from rolegraph.runtime import MockModel, RunError, run_agent, tools, trace_of
from rolegraph.runtime.events import FiringEnded, FiringStarted

from .checking import PRELUDE
from .test_tool_nonblocking import AGENTS, tool_agents


def plain_step(value: int) -> int:
    return value + 1


async def async_step(value: int) -> int:
    return value + 1


def plain_total(values: list[int]) -> int:
    return sum(values)


async def async_total(values: list[int]) -> int:
    await asyncio.sleep(0)  # (one that suspends)
    return sum(values)


def plain_add(a: int, b: int) -> int:
    return a + b


async def async_add(a: int, b: int) -> int:
    return a + b


def plain_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


async def async_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


def plain_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


async def async_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


def plain_half(value: int) -> float:
    return value  # (an int where a float is declared: the result is coerced to 3.0)


async def async_half(value: int) -> float:
    return value


def plain_kind(value: float) -> str:
    return type(value).__name__  # (an int given where a float is declared: coerced)


async def async_kind(value: float) -> str:
    return type(value).__name__


def plain_scope(value: int) -> str:
    return str(pyimport._FOLDER.get())  # (the tool's import scope, during its call)


async def async_scope(value: int) -> str:
    return str(pyimport._FOLDER.get())


# the same tools, each suspending once before it begins (awaited in a task of its own,
# where those above, which never await, run inline: tools.call_through)
async def suspending_step(value: int) -> int:
    await asyncio.sleep(0)
    return await async_step(value)


async def suspending_total(values: list[int]) -> int:
    await asyncio.sleep(0)
    return await async_total(values)


async def suspending_add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return await async_add(a, b)


async def suspending_picky(value: int) -> int:
    await asyncio.sleep(0)
    return await async_picky(value)


async def suspending_wrong(value: int) -> int:
    await asyncio.sleep(0)
    return await async_wrong(value)


async def suspending_half(value: int) -> float:
    await asyncio.sleep(0)
    return await async_half(value)


async def suspending_kind(value: float) -> str:
    await asyncio.sleep(0)
    return await async_kind(value)


async def suspending_scope(value: int) -> str:
    await asyncio.sleep(0)
    return await async_scope(value)


def plain_slow(value: int) -> int:
    return value + 10


async def suspending_slow(value: int) -> int:
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # (twice)
    return value + 10


def plain_scoped(value: int) -> int:
    return value + 1


async def async_scoped(value: int) -> int:
    with anyio.CancelScope():  # (entered in the first step, exited in the second)
        await asyncio.sleep(0)
    return value + 1


TOOLS = [
    ("step", "value: int", "int"),
    ("total", "values: list[int]", "int"),
    ("add", "a: int, b: int", "int"),
    ("picky", "value: int", "int"),
    ("wrong", "value: int", "int"),
    ("half", "value: int", "float"),
    ("scope", "value: int", "str"),
    ("kind", "value: float", "str"),
    ("slow", "value: int", "int"),
    ("scoped", "value: int", "int"),
    ("set", "value: int", "int"),
    ("seen", "value: int", "int"),
    ("hang", "value: int", "int"),
]

# the agents of tests/test_tool_nonblocking.py whose tools are all here
SAME = [
    "chain",
    "loop",
    "fan-out and join",
    "errors and their edges",
    "an error with no edge",
    "a result of the wrong type",
    "a return that cancels what comes after it",
    "reads of latest outputs",
]


def ir_of(kind: str | tuple[str, dict[str, str]], body: str) -> Any:
    """The agent, its tools those of `kind` (or of a kind per tool, else one kind)."""
    here = "tests.test_async_tool_calls"
    default, kinds = (kind, {}) if isinstance(kind, str) else kind
    declared = "".join(
        f'tool {name}({params}) -> {result} = "{here}:{kinds.get(name, default)}_{name}"\n'
        for name, params, result in TOOLS
        if re.search(rf"\b{name}\(", body)  # (those it calls: not every kind has every tool)
    )
    return rolegraph.load_agent("test.agent", "A", text=PRELUDE + declared + body)


def outcome(
    kind: str | tuple[str, dict[str, str]], body: str, **options: Any
) -> tuple[Any, list[tuple]]:
    """The result (or the error) and every firing's time, node, status, output (with its
    type: 3 == 3.0) and error, in key order."""
    try:
        done = asyncio.run(run_agent(ir_of(kind, body), {"task": "t"}, model=MockModel()))
        result, trace = done.result, done.trace
    except RunError as error:
        result, trace = f"{type(error).__name__}: {error}", error.trace
    records = sorted(trace.firings, key=lambda r: r.key)
    return result, [(r.time, r.node, r.status, r.output, type(r.output), r.error) for r in records]


def test_runs_of_async_def_tools_are_those_of_the_same_tools_in_threads():
    for name in SAME:
        awaited, threaded = outcome("async", AGENTS[name]), outcome("plain", AGENTS[name])
        assert awaited == threaded, name
        assert awaited[1], name  # (it fired)
    assert outcome("async", AGENTS["a result of the wrong type"])[0].startswith("FiringFailed")


def test_the_result_of_an_async_def_is_coerced_to_its_declared_type():
    body = """agent A(task: str) -> float {
  a = step(2)
  h = half(a)
  return h
}"""
    awaited, threaded = outcome("async", body), outcome("plain", body)
    assert awaited == threaded
    assert awaited[0] == 3.0 and type(awaited[0]) is float


def test_the_arguments_of_an_async_def_are_coerced_to_their_declared_types():
    body = """agent A(task: str) -> str {
  a = step(2)
  k = kind(a)
  return k
}"""
    awaited, threaded = outcome("async", body), outcome("plain", body)
    assert awaited == threaded
    assert awaited[0] == "float"


@pytest.mark.parametrize("kind", ["async", "suspending"])  # (inline; in a task)
def test_an_async_def_is_called_in_its_import_scope_and_leaves_it_after(kind):
    body = """agent A(task: str) -> list[str] {
  a = scope(1)
  b = scope(2)
  return [a, b]
}"""
    after: list[Any] = []
    ir = ir_of(kind, body)
    done = asyncio.run(
        run_agent(
            ir,
            {"task": "t"},
            model=MockModel(),
            # (told in the task that ran the firing, right after its call)
            on_record=lambda record: after.append(pyimport._FOLDER.get()),
        )
    )
    folder = ir.nodes["a"].target_folder
    assert done.result == [str(folder), str(folder)]
    assert done.result == outcome("plain", body)[0]
    assert after == [None, None]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tool_agents())
def test_random_agents_give_the_same_run_with_async_def_and_threaded_tools(body):
    # inline where they never await, in tasks where they do: the same result and
    # firings (a firing at or after the return's time is not part of the run: cancelled,
    # discarded or never begun by where its tool ran, as tests/test_firing_paths.py
    # `bound_alike` says; `n4 = step(n1)` beside `n5 -> return([n5])` tells each apart)
    plain = _fired(outcome("plain", body))
    assert _fired(outcome("async", body)) == plain == _fired(outcome("suspending", body))


def _fired(told: tuple[Any, list[tuple]]) -> tuple[Any, list[tuple]]:
    return told[0], [r for r in told[1] if r[2] in ("ok", "failed")]


def test_an_async_def_runs_inline_exactly_when_its_code_has_no_await():
    async def awaits_in_a_with() -> None:
        async with asyncio.Lock():
            pass

    async def awaits_in_a_for() -> None:
        async for _ in _nothing():
            pass

    async def calls_a_coroutine_function_it_never_awaits() -> None:
        async def inner() -> None:
            await asyncio.sleep(0)

        inner().close()

    assert tools.never_suspends(async_step) and tools.never_suspends(async_picky)
    assert tools.never_suspends(calls_a_coroutine_function_it_never_awaits)
    for awaits in (async_total, suspending_step, awaits_in_a_with, awaits_in_a_for):
        assert not tools.never_suspends(awaits), awaits
    assert not tools.never_suspends(plain_step)  # (not a coroutine function)
    assert not tools.never_suspends(_Stepper())  # (a callable object: awaited in a task)
    # (called as `fire_inline` calls it: in a copy of the context, which keeps the scope)
    assert contextvars.copy_context().run(tools.call_through, "f", async_picky, {"value": 3}) == 4
    with pytest.raises(ValueError, match="no 2"):
        contextvars.copy_context().run(tools.call_through, "f", async_picky, {"value": 2})
    assert pyimport._FOLDER.get() is None


async def _nothing() -> Any:
    for item in ():
        yield item


class _Stepper:
    async def __call__(self, value: int) -> int:
        return value + 1


def told(kind: str, body: str) -> tuple[list[Any], Any]:
    """The events of a run, and its trace."""
    events: list[Any] = []
    try:
        done = asyncio.run(
            run_agent(ir_of(kind, body), {"task": "t"}, model=MockModel(), on_event=events.append)
        )
        trace = done.trace
    except RunError as error:
        trace = error.trace
    return events, trace


def _firing_events(events: list[Any]) -> list[tuple]:
    """The firings told as started and as ended, and the order of each firing's own events:
    what does not depend on which of two branches in flight happened to end first."""
    said = []
    for event in events:
        if isinstance(event, FiringStarted):
            said.append(("started", event.key, event.node))
        elif isinstance(event, FiringEnded):
            record = event.record
            said.append(("ended", record.key, record.status, record.output, record.error))
    return said


def test_async_defs_that_never_await_run_as_the_same_tools_suspending_in_tasks():
    """Those of `SAME` that never await run inline (`tools.call_through`); the suspending
    ones each in a task, as every `async def` did before: the same results, firings and
    errors, by key; the same events, each firing's started before its ended, and the
    stream's ended firings the trace, record for record (`trace_of`)."""
    for name in SAME:
        inline = outcome("async", AGENTS[name])
        assert inline == outcome("suspending", AGENTS[name]) == outcome("plain", AGENTS[name])
        events, trace = told("async", AGENTS[name])
        suspended, _ = told("suspending", AGENTS[name])
        said = _firing_events(events)
        assert sorted(map(repr, said)) == sorted(map(repr, _firing_events(suspended))), name
        for started in (s for s in said if s[0] == "started"):
            ended = next(i for i, s in enumerate(said) if s[0] == "ended" and s[1] == started[1])
            assert said.index(started) < ended, name
        assert [r.key for r in trace_of(events).firings] == [r.key for r in trace.firings]


def test_a_fan_out_of_async_defs_some_suspending_some_not_is_that_of_threads():
    body = """agent A(task: str) -> int {
  s = step(0)
  a = step(s)
  b = slow(s)
  c = step(b)
  d = slow(a)
  e = picky(a)
  e -> fix(value: 7) on error
  fix = slow(0)
  j = total([a, b, c, d, fix])
  return j
}"""
    mixed = ("async", {"slow": "suspending"})
    assert outcome(mixed, body) == outcome("plain", body)
    assert outcome(mixed, body)[1]  # (it fired)


def test_an_async_def_that_enters_an_anyio_cancel_scope_exits_it_in_the_same_task():
    """Its first step binds the task it runs in: an `async def` that awaits is never begun
    outside the task that runs the rest of it (which `tools.never_suspends` keeps; a
    first step run eagerly, the rest handed to a task, fails here)."""
    body = """agent A(task: str) -> int {
  a = step(1)
  b = scoped(a)
  c = scoped(b)
  return c
}"""
    assert outcome(("async", {"scoped": "async"}), body)[0] == 4


VAR: contextvars.ContextVar[int] = contextvars.ContextVar("VAR", default=-1)


def plain_set(value: int) -> int:
    VAR.set(value)
    return value


async def async_set(value: int) -> int:
    VAR.set(value)
    return value


def plain_seen(value: int) -> int:
    return VAR.get()


async def async_seen(value: int) -> int:
    return VAR.get()


async def suspending_set(value: int) -> int:
    await asyncio.sleep(0)
    VAR.set(value)
    return value


async def suspending_seen(value: int) -> int:
    await asyncio.sleep(0)
    return VAR.get()


@pytest.mark.parametrize("kind", ["async", "suspending"], ids=["never awaits", "awaits"])
def test_what_an_async_def_sets_in_its_context_no_other_firing_sees(kind):
    # (one that awaits ran in the task of its firing: `b`, `c`, `d`, carried by `a`'s
    # task, saw its 5 — [5, 5, 5, 5]; now each such call is awaited in a task of its own,
    # `tools.awaited_alone`; one that never awaits runs inline in a copy of the context)
    body = """agent A(task: str) -> list[int] {
  a = set(5)
  b = seen(a)
  c = set(b)
  d = seen(c)
  return [a, b, c, d]
}"""
    assert outcome(kind, body) == outcome("plain", body)
    assert outcome(kind, body)[0] == [5, -1, -1, -1]


def test_a_run_cancelled_while_an_async_def_is_suspended_records_it_cancelled():
    body = """agent A(task: str) -> int {
  a = step(1)
  b = hang(a)
  return b
}"""
    records: list[Any] = []

    async def main() -> None:
        run = asyncio.ensure_future(
            run_agent(
                ir_of("async", body), {"task": "t"}, model=MockModel(), on_record=records.append
            )
        )
        while not HANGING:
            await asyncio.sleep(0)
        run.cancel()
        with pytest.raises(asyncio.CancelledError):
            await run

    HANGING.clear()
    asyncio.run(main())
    assert [(r.node, r.status) for r in records] == [("a", "ok"), ("b", "cancelled")]
    assert HANGING == [2]


HANGING: list[int] = []


def plain_hang(value: int) -> int:
    raise AssertionError("(only the async one hangs)")


async def async_hang(value: int) -> int:
    HANGING.append(value)
    await asyncio.Event().wait()
    return value


async def _later(value: int) -> int:
    await asyncio.sleep(0)
    return value + 100


async def forgets_its_await(value: int) -> int:
    return _later(value)  # type: ignore[return-value]  # (its value is a coroutine)


async def forgets_its_await_after_one(value: int) -> int:
    await asyncio.sleep(0)
    return _later(value)  # type: ignore[return-value]


def test_an_async_def_that_returns_a_coroutine_returns_it_whether_it_awaits_or_not():
    """Its value is what `await` gives: the coroutine, never awaited again (a result of
    the wrong type, as before run_through), inline or in a task."""
    errors = []
    for name in ("forgets_its_await", "forgets_its_await_after_one"):
        ir = rolegraph.load_agent(
            "test.agent",
            "A",
            text=f'tool t(value: int) -> int = "tests.test_async_tool_calls:{name}"\n'
            "agent A(value: int) -> int {\n  a = t(value)\n  return a\n}\n",
        )
        with pytest.raises(RunError) as error:
            asyncio.run(run_agent(ir, {"value": 1}))
        errors.append("valid integer" in str(error.value))
    assert errors == [True, True]


async def async_library(value: int) -> int:
    import sniffio

    assert sniffio.current_async_library() == "asyncio"  # (it needs a current task)
    assert asyncio.current_task() is not None
    return value + 1


def test_an_async_def_run_inline_has_a_current_task_past_a_streak_of_carry_firings():
    steps = "\n".join(f"  s{i} = t(s{i - 1})" for i in range(1, 40))  # (past CARRY)
    ir = rolegraph.load_agent(
        "test.agent",
        "A",
        text='tool t(value: int) -> int = "tests.test_async_tool_calls:async_library"\n'
        "agent A(value: int) -> int {\n  s0 = t(value)\n" + steps + "\n  return s39\n}\n",
    )
    assert asyncio.run(run_agent(ir, {"value": 0})).result == 40


async def cancels_itself(value: int) -> int:
    raise asyncio.CancelledError()


def test_an_async_def_run_inline_that_raises_cancelled_error_fails_its_firing():
    ir = rolegraph.load_agent(
        "test.agent",
        "A",
        text='tool t(value: int) -> int = "tests.test_async_tool_calls:cancels_itself"\n'
        "agent A(value: int) -> int {\n  a = t(value)\n  return a\n}\n",
    )

    async def main() -> Any:
        return await asyncio.wait_for(run_agent(ir, {"value": 0}), 5)

    with pytest.raises(RunError, match="CancelledError"):
        asyncio.run(main())
