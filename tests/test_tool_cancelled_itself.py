"""A tool that raises `asyncio.CancelledError` of its own fails its firing; the run goes on.

The failure (session 16's runtime helper): an `async def` tool that raised
`CancelledError` while nothing cancelled it was taken for a cancel of its firing; the
firing stayed in flight and the run never ended (`wait_for` timed out). A `@nonblocking`
one sent the `CancelledError` out of `run_agent`. Now it is the firing's failure
(`CancelledItself`), whatever kind of function the tool is: the oracle is the same agent
whose tool raises a `RuntimeError` instead — the same routes, the same statuses.
"""

from __future__ import annotations

import asyncio

import pytest

import rolegraph
from rolegraph.runtime import FiringFailed, MockModel, run_agent

HERE = "tests.test_tool_cancelled_itself"
RAISES = {"error": asyncio.CancelledError}


def _raised() -> BaseException:
    return RAISES["error"]()


async def awaits(value: int) -> int:
    await asyncio.sleep(0)
    raise _raised()


async def never_awaits(value: int) -> int:  # (runs inline: `tools.never_suspends`)
    raise _raised()


@rolegraph.nonblocking
def on_the_loop(value: int) -> int:
    raise _raised()


def in_a_thread(value: int) -> int:
    raise _raised()


async def ok(value: int) -> int:
    await asyncio.sleep(0)
    return value + 1


KINDS = ("awaits", "never_awaits", "on_the_loop", "in_a_thread")


def agent(kind: str, handled: bool) -> str:
    tools = "".join(
        f'tool {name}(value: int) -> int = "{HERE}:{name}"\n' for name in (*KINDS, "ok")
    )
    body = ["  a = ok(1)", f"  b = {kind}(a)", "  c = ok(b)"]
    if handled:
        body += ["  h = ok(100)", "  b -> h on error", "  return h", "  c -> return(c)"]
    else:
        body.append("  return c")
    return tools + "agent A(task: str) -> int {\n" + "\n".join(body) + "\n}\n"


def ended(kind: str, handled: bool, error: type[BaseException]) -> tuple:
    """How a run ends (within 5 s: never a hang), and each firing's node and status."""
    RAISES["error"] = error
    ir = rolegraph.check_source(agent(kind, handled), "cancel.agent").irs["A"]

    async def run():
        return await asyncio.wait_for(run_agent(ir, {"task": "t"}, model=MockModel()), 5)

    try:
        result = asyncio.run(run())
    except FiringFailed as failure:
        statuses = sorted((f.node, f.status) for f in failure.trace.firings)
        return ("failed", failure.node, statuses)
    statuses = sorted((f.node, f.status) for f in result.trace.firings)
    return ("returned", result.result, statuses)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("handled", [False, True], ids=["unhandled", "on error"])
def test_a_tool_raising_cancelled_error_fails_its_firing_as_any_error_would(kind, handled):
    cancelled = ended(kind, handled, asyncio.CancelledError)
    assert cancelled == ended(kind, handled, RuntimeError)
    assert cancelled[:2] == (("returned", 101) if handled else ("failed", "b"))


def test_the_failure_says_what_the_tool_raised():
    RAISES["error"] = asyncio.CancelledError
    ir = rolegraph.check_source(agent("awaits", False), "cancel.agent").irs["A"]
    with pytest.raises(FiringFailed) as failure:
        asyncio.run(asyncio.wait_for(run_agent(ir, {"task": "t"}, model=MockModel()), 5))
    assert "CancelledError" in str(failure.value)
    (firing,) = [f for f in failure.value.trace.firings if f.node == "b"]
    assert firing.error.startswith("CancelledItself: it raised asyncio.CancelledError")


async def slow(value: int) -> int:
    await asyncio.sleep(30)
    return value


def test_a_run_cancelled_from_outside_is_still_cancelled():
    # (the cancel of the run reaches its firings' tasks: `cancelling()` counts it, and
    # the firing in flight is recorded cancelled — not failed — as the run ends)
    text = f'tool slow(value: int) -> int = "{HERE}:slow"\nagent A(task: str) -> int {{\n'
    text += "  a = slow(1)\n  return a\n}\n"
    ir = rolegraph.check_source(text, "cancel.agent").irs["A"]
    records: list = []

    async def run():
        task = asyncio.ensure_future(
            run_agent(ir, {"task": "t"}, model=MockModel(), on_record=records.append)
        )
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(run(), 5))
    assert [(r.node, r.status) for r in records if r.status != "running"] == [("a", "cancelled")]


def test_a_firing_that_a_return_cancels_is_still_cancelled():
    # (the return that wins, at time 2, makes `a` of time 2, in flight, pointless: its
    # task is cancelled — a cancel that `cancelling()` counts — and it is recorded
    # skipped, not failed; the run returns)
    text = (
        f'tool slow(value: int) -> int = "{HERE}:slow"\n'
        f'tool ok(value: int) -> int = "{HERE}:ok"\n'
        "agent A(task: str) -> int {\n  b = ok(1)\n  a = slow(b)\n"
        "  b -> return(b)\n  return a\n}\n"
    )
    ir = rolegraph.check_source(text, "cancel.agent").irs["A"]
    result = asyncio.run(asyncio.wait_for(run_agent(ir, {"task": "t"}, model=MockModel()), 5))
    assert result.result == 2
    assert [f.status for f in result.trace.firings if f.node == "a"] == ["skipped"]
