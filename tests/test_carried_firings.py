"""Firings a task carries (runtime/scheduler.py `AgentRun._carry`), held to the path with
a task of its own per firing (`AgentRun.carries = False`: the oracle).

A task that ends a firing runs the firings that end started, in the order they started:
one alone is awaited; of several, each takes its first step at once, in a copy of the
context a task would have given it; the first that suspends keeps the task and those
after it get tasks of their own. Compared on seeded random agents of `async def` tools
that do or do not suspend (and fail, or not, before or after suspending), role calls
with and without latency, joins, loops, error edges and returns: the result or error,
every firing's record (time, node, key, status, inputs, output, error), the events of
each firing and the store's checkpoints. Then what a task gives a coroutine: its context
variables, `asyncio.current_task()` and `asyncio.timeout`, cancellation, and turns of
the loop."""

import asyncio
import contextvars
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import MockModel, RunError, Store, run_agent
from rolegraph.runtime.scheduler import CARRY, AgentRun
from rolegraph.runtime.trace import FIRED

from .checking import PRELUDE

HANG = 10.0  # seconds: a bound on hanging, never a measure of speed
HERE = "tests.test_carried_firings"


async def astep(value: int) -> int:
    return value + 1


async def ayield(value: int) -> int:
    await asyncio.sleep(0)
    return value + 1


async def asleep(value: int) -> int:
    await asyncio.sleep(0.001 * (value % 3))
    return value + 1


async def apicky(value: int) -> int:
    if value % 4 == 3:
        raise ValueError(f"no {value}")
    return value + 1


async def alate(value: int) -> int:
    await asyncio.sleep(0)
    if value % 3 == 1:
        raise ValueError(f"not {value} either")
    return value + 1


async def aadd(a: int, b: int) -> int:
    return a + b


async def ayadd(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def atotal(values: list[int]) -> int:
    return sum(values)


SEEN: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar("seen", default=())


async def actx(value: int) -> int:
    """What this firing's context holds of the firings before it, then its own mark."""
    seen = SEEN.get()
    SEEN.set((*seen, value))
    if value % 2:
        await asyncio.sleep(0)
    return value + len(seen)


tasks_seen: list[tuple[Any, Any]] = []


async def atask(value: int) -> int:
    """The task it began in and the task it ended in, around a suspension under a
    timeout (which cancels the task current when it was entered)."""
    first = asyncio.current_task()
    async with asyncio.timeout(HANG):
        await asyncio.sleep(0)
    tasks_seen.append((first, asyncio.current_task()))
    return value + 1


async def aslow(value: int) -> int:
    await asyncio.sleep(HANG)
    return value


log: list[str] = []


async def atick(value: int) -> int:
    log.append("firing")
    return value + 1


ONE = ["astep", "ayield", "asleep", "apicky", "alate", "actx", "atask", "aslow", "atick"]
TWO = ["aadd", "ayadd"]
TOOLS = "".join(f'tool {name}(value: int) -> int = "{HERE}:{name}"\n' for name in ONE)
TOOLS += "".join(f'tool {name}(a: int, b: int) -> int = "{HERE}:{name}"\n' for name in TWO)
TOOLS += f'tool atotal(values: list[int]) -> int = "{HERE}:atotal"\n'


def ir_of(body: str, name: str = "A"):
    return rolegraph.load_agent("test.agent", name, text=PRELUDE + TOOLS + body)


def latency(request) -> float:
    return (0.0, 0.0, 0.001)[sum(map(ord, request.node)) % 3]


def outcome(body: str, carries: bool, tmp_path=None) -> tuple:
    """What a run gives that must not depend on which task ran each firing: the result
    or error, the records of the firings in the run (succeeded or failed: DESIGN §3 rule
    7), each one's events in order, and the store's checkpoints of them. Of the firings
    not in the run (cancelled, skipped, discarded), only that each is at or after the
    winning return's logical time: whether one began before the return was decided
    depends on timing, here as with latencies."""
    events: list[Any] = []
    store = Store(tmp_path / f"store-{carries}.sqlite") if tmp_path is not None else None

    async def main():
        return await run_agent(
            ir_of(body),
            {"task": "t"},
            model=MockModel(latency=latency),
            on_event=events.append,
            store=store,
        )

    AgentRun.carries = carries
    try:
        done = asyncio.run(main())
        result, trace, run_id = done.result, done.trace, done.run_id
    except RunError as error:
        result, trace, run_id = f"{type(error).__name__}: {error}", error.trace, None
    finally:
        AgentRun.carries = True
    fired = [r for r in trace.firings if r.status in FIRED]
    records = sorted(
        (r.time, r.node, r.key, r.status, repr(r.inputs), repr(r.output), r.error) for r in fired
    )
    keys = {r.key for r in fired}
    if trace.returned_at is not None:
        assert all(r.time >= trace.returned_at for r in trace.firings if r.status not in FIRED)
    by_firing: dict[str, list[str]] = {}  # (a firing starts, streams, then ends)
    for event in events:
        key = getattr(event, "key", None)
        if key in keys:
            by_firing.setdefault(key, []).append(event.kind)
    rows = None
    if store is not None:
        written = store.checkpoints(run_id) if run_id is not None else {}
        rows = sorted((key, repr(output)) for key, output in written.items() if key in keys)
        store.close()
    return result, records, sorted(by_firing.items()), rows


@st.composite
def async_agents(draw) -> str:
    """A random agent of `async def` tool nodes that do or do not suspend and may fail,
    role nodes (the mock, with or without latency), joins of two or of a list, and at the
    end a bounded loop, an error edge, or a return of every node."""
    lines: list[str] = []
    nodes: list[str] = []

    def argument() -> str:
        if nodes and draw(st.integers(0, 3)):
            return draw(st.sampled_from(nodes))
        return str(draw(st.integers(0, 5)))

    for index in range(draw(st.integers(1, 9))):
        name = f"n{index}"
        kind = draw(st.integers(0, 9))
        if kind == 0:
            lines.append(f"  w{index} = Writer(task)")
            lines.append(f"  {name} = astep(round(w{index}.score))")
        elif kind == 1 and len(nodes) >= 2:
            picked = draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=4, unique=True))
            lines.append(f"  {name} = atotal([{', '.join(picked)}])")
        elif kind in (2, 3) and nodes:
            tool = draw(st.sampled_from(TWO))
            lines.append(f"  {name} = {tool}({argument()}, {argument()})")
        else:
            tool = draw(st.sampled_from(["astep", "ayield", "asleep", "apicky", "alate"]))
            lines.append(f"  {name} = {tool}({argument()})")
        nodes.append(name)
    last = nodes[-1]
    ending = draw(st.integers(0, 3))
    if ending == 0:
        bound = draw(st.integers(1, 4))
        body = draw(st.sampled_from(["ayield", "astep", "apicky"]))
        lines.append(f"  loop = {body}({last})")
        lines.append(f"  loop -> loop(value: loop) when loop < 9 max {bound}")
        lines.append("  loop -> return([loop]) else")
    elif ending == 1:
        lines.append(f"  {last} -> fix(value: 10) on error")
        lines.append(f"  {last} -> return([{last}]) else")
        lines.append("  fix = astep(0)")
        lines.append("  fix -> return([fix])")
    else:
        lines.append(f"  return [{', '.join(nodes)}]")
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}\n"


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=async_agents())
def test_random_agents_run_alike_carried_or_each_in_a_task_of_its_own(body, tmp_path):
    checked = rolegraph.check_source(PRELUDE + TOOLS + body, "random.agent")
    assume(not checked.errors)
    carried, alone = outcome(body, True, tmp_path), outcome(body, False, tmp_path)
    assert carried[1]  # (it fired)
    if isinstance(carried[0], str) and carried[0].startswith("FiringFailed"):
        # a failure with no edge ends the run at once: which firings in parallel with the
        # one that failed began or ended before it is timing, here as with latencies;
        # those that ran in both runs ran alike
        assert isinstance(alone[0], str) and alone[0].startswith("FiringFailed")
        same = {r[2] for r in carried[1]} & {r[2] for r in alone[1]}
        assert [r for r in carried[1] if r[2] in same] == [r for r in alone[1] if r[2] in same]
        return
    assert carried == alone


FAN = """agent A(task: str) -> list[int] {
  s = astep(0)
  a = ayield(s)
  b = astep(s)
  c = asleep(s)
  d = apicky(b)
  e = alate(b)
  f = apicky(d)
  f -> g(value: 5) on error
  g = astep(0)
  j = atotal([a, b, c, d])
  return [j, e, g]
}
"""


def test_the_outcome_compared_is_what_the_agent_means(tmp_path):
    carried = outcome(FAN, True, tmp_path)
    assert carried[0] == [9, 3, 6]
    assert [(r[1], r[3]) for r in carried[1]] == [
        *[("s", "ok"), ("a", "ok"), ("b", "ok"), ("c", "ok"), ("d", "ok"), ("e", "ok")],
        *[("f", "failed"), ("j", "ok"), ("g", "ok")],
    ]
    assert len(carried[3]) == 8  # (every firing that succeeded, checkpointed)
    assert carried == outcome(FAN, False, tmp_path)


def test_a_fan_out_of_firings_that_end_in_their_first_step_makes_no_task():
    body = "agent A(task: str) -> int {\n  s = astep(0)\n"
    body += "".join(f"  b{i} = astep(s)\n" for i in range(16))
    body += f"  j = atotal([{', '.join(f'b{i}' for i in range(16))}])\n  return j\n}}\n"
    made: list[str] = []

    async def main():
        loop = asyncio.get_running_loop()
        loop.set_task_factory(
            lambda loop, coro, **kw: (
                made.append(coro.__qualname__) or asyncio.Task(coro, loop=loop, **kw)
            )
        )
        return await run_agent(ir_of(body), {"task": "t"})

    for carries, tasks in ((True, 1), (False, 18)):
        made.clear()
        AgentRun.carries = carries
        try:
            assert asyncio.run(main()).result == 32
        finally:
            AgentRun.carries = True
        assert made.count("AgentRun.fire") == tasks  # (carried: the entry's alone)


CONTEXT = """agent A(task: str) -> list[int] {
  s = actx(0)
  b1 = actx(s)
  b2 = actx(s)
  b3 = actx(b2)
  c = actx(b1)
  return [b1, b2, b3, c]
}
"""


@pytest.mark.parametrize("carries", [True, False])
def test_a_firing_sees_the_context_of_the_firing_that_started_it_and_not_a_siblings(carries):
    AgentRun.carries = carries
    try:
        done = asyncio.run(run_agent(ir_of(CONTEXT), {"task": "t"}))
    finally:
        AgentRun.carries = True
    # s sees nothing; b1 and b2 see s's mark (not each other's: else one would give 2);
    # c sees s's and b1's, b3 (which suspends) s's and b2's
    assert done.result == [1, 1, 3, 3]
    assert SEEN.get() == ()  # (the caller's context is left as it was)


def test_a_carried_coroutine_ends_in_the_task_it_began_in_and_its_timeout_holds_there():
    body = "agent A(task: str) -> int {\n  s = astep(0)\n"
    body += "".join(f"  b{i} = atask(s)\n" for i in range(4))
    body += "  j = atotal([b0, b1, b2, b3])\n  return j\n}\n"
    tasks_seen.clear()
    done = asyncio.run(asyncio.wait_for(run_agent(ir_of(body), {"task": "t"}), HANG))
    assert done.result == 8
    assert len(tasks_seen) == 4 and all(first is last for first, last in tasks_seen)
    assert len({first for first, _ in tasks_seen}) == 4  # (each suspended in a task of its own)


def test_a_run_cancelled_while_carried_firings_wait_leaves_nothing_running():
    body = """agent A(task: str) -> int {
  s = astep(0)
  a = aslow(s)
  b = astep(s)
  c = aslow(s)
  d = ayield(s)
  return a
}
"""
    records = []

    async def main():
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(
                run_agent(ir_of(body), {"task": "t"}, on_record=records.append), 0.2
            )
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(main()) == set()
    assert sorted((r.node, r.status) for r in records) == [
        ("a", "cancelled"),
        ("b", "ok"),
        ("c", "cancelled"),
        ("d", "ok"),
        ("s", "ok"),
    ]


@pytest.mark.parametrize("shape", ["loop", "fan-out"])
def test_carried_firings_that_never_suspend_give_the_event_loop_its_turns(shape):
    """The most firings that run between two turns of the loop (a task that yields at
    each), carried, is at most what tasks of their own give, or `CARRY`: a loop is a
    firing a turn with tasks, a fan-out's branches all run in the turn after the one
    that started them."""
    rounds = 500
    if shape == "loop":
        body = (
            "agent A(task: str) -> int {\n  n = atick(0)\n"
            f"  n -> n(value: n) when n < {rounds} max {rounds + 10}\n"
            "  n -> return(n) else\n}\n"
        )
    else:
        body = "agent A(task: str) -> int {\n  s = atick(0)\n"
        body += "".join(f"  b{i} = atick(s)\n" for i in range(rounds))
        body += f"  j = atotal([{', '.join(f'b{i}' for i in range(rounds))}])\n"
        body += "  return j\n}\n"
    ir = ir_of(body)

    async def ticker():
        while True:
            await asyncio.sleep(0)
            log.append("turn")

    async def main():
        counting = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        result = await run_agent(ir, {"task": "t"})
        counting.cancel()
        return result.result

    def longest(carries: bool) -> int:
        log.clear()
        AgentRun.carries = carries
        try:
            assert asyncio.run(main()) == (rounds if shape == "loop" else 2 * rounds)
        finally:
            AgentRun.carries = True
        assert log.count("firing") == rounds + (shape == "fan-out")
        most = stretch = 0
        for entry in log:
            stretch = stretch + 1 if entry == "firing" else 0
            most = max(most, stretch)
        return most

    alone = longest(False)
    assert alone == (1 if shape == "loop" else rounds)  # (what the measure reads)
    assert longest(True) <= max(alone, CARRY)
