"""`@nonblocking` plain-function tools run on the event loop, inline; unmarked ones in
worker threads (runtime/tools.py, DESIGN §3.6). Where a tool runs is seen with
`threading.get_ident()`; what a run gives — results, traces, errors, cancellation — is
compared against the same agent with unmarked tools, which run in threads: the oracle.
Then the other way a firing goes without a task of its own: a task carries on with the
firing that its own firing's end started (runtime/scheduler.py `fire`).
"""

import asyncio
import contextvars
import gc
import math
import threading
import warnings
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import FiringFailed, MockModel, RunError, Store, run_agent
from rolegraph.runtime.tools import INLINE, LOOP, THREAD, how_called, is_synchronous

from .checking import PRELUDE

HANG = 10.0  # seconds: a bound on hanging, never a measure of speed
threads_seen: list[tuple[str, int]] = []
calls = {"step": 0}


def plain_step(value: int) -> int:
    threads_seen.append(("plain", threading.get_ident()))
    calls["step"] += 1
    return value + 1


@rolegraph.nonblocking
def marked_step(value: int) -> int:
    threads_seen.append(("marked", threading.get_ident()))
    calls["step"] += 1
    return value + 1


def plain_total(values: list[int]) -> int:
    return sum(values)


@rolegraph.nonblocking
def marked_total(values: list[int]) -> int:
    return sum(values)


def plain_add(a: int, b: int) -> int:
    return a + b


@rolegraph.nonblocking
def marked_add(a: int, b: int) -> int:
    return a + b


def plain_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


@rolegraph.nonblocking
def marked_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


def plain_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


@rolegraph.nonblocking
def marked_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


async def _later(value: int) -> int:
    await asyncio.sleep(0)
    return value + 1


def plain_deferred(value: int) -> int:
    return _later(value)  # type: ignore[return-value]  # (a coroutine, awaited by the runtime)


@rolegraph.nonblocking
def marked_deferred(value: int) -> int:
    return _later(value)  # type: ignore[return-value]


SEEN: contextvars.ContextVar[int] = contextvars.ContextVar("SEEN", default=0)


def plain_setv(value: int) -> int:
    SEEN.set(1000)  # (in its firing's context: no other firing sees it)
    return 1


@rolegraph.nonblocking
def marked_setv(value: int) -> int:
    SEEN.set(1000)
    return 1


async def seen(value: int) -> int:
    return SEEN.get()


async def slow(value: int) -> int:
    await asyncio.sleep(HANG)
    return value


async def afail(value: int) -> int:
    raise ValueError(f"no {value}")  # (at its first step)


def tools(kind: str) -> str:
    """The same tool names, bound to the plain or to the marked functions."""
    here = "tests.test_tool_nonblocking"
    return (
        "".join(
            f'tool {name}({params}) -> int = "{here}:{kind}_{name}"\n'
            for name, params in [
                ("step", "value: int"),
                ("total", "values: list[int]"),
                ("add", "a: int, b: int"),
                ("picky", "value: int"),
                ("wrong", "value: int"),
                ("deferred", "value: int"),
                ("setv", "value: int"),
            ]
        )
        + f'tool slow(value: int) -> int = "{here}:slow"\n'
        + f'tool afail(value: int) -> int = "{here}:afail"\n'
        + f'tool seen(value: int) -> int = "{here}:seen"\n'
    )


def ir_of(kind: str, body: str):
    return rolegraph.load_agent("test.agent", "A", text=PRELUDE + tools(kind) + body)


def run(kind: str, body: str, **options):
    threads_seen.clear()
    options.setdefault("model", MockModel())
    return asyncio.run(run_agent(ir_of(kind, body), {"task": "t"}, **options))


def outcome(kind: str, body: str, **options):
    """What a run gives that must not depend on where its tools ran: its result (or its
    error), and every firing's time, node, status, output and error, in key order."""
    try:
        done = run(kind, body, **options)
        result, trace = done.result, done.trace
    except RunError as error:
        result, trace = f"{type(error).__name__}: {error}", error.trace
    records = sorted(trace.firings, key=lambda r: r.key)
    return result, [(r.time, r.node, r.status, r.output, r.error) for r in records]


# -- the mark ------------------------------------------------------------------------------


def test_the_mark_keeps_the_function_and_says_how_it_is_called():
    def f(x: int) -> int:
        return x

    async def g(x: int) -> int:
        return x

    assert how_called(f) == THREAD and is_synchronous(f)
    assert rolegraph.nonblocking(f) is f
    assert how_called(f) == INLINE and not is_synchronous(f)
    assert how_called(g) == LOOP and not is_synchronous(g)
    assert rolegraph.nonblocking is rolegraph.runtime.nonblocking


def test_an_async_def_cannot_be_marked():
    async def g(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="runs on the event loop already"):
        rolegraph.nonblocking(g)


def test_a_function_that_takes_no_attribute_is_wrapped():
    root = rolegraph.nonblocking(math.sqrt)
    assert root is not math.sqrt and how_called(math.sqrt) == THREAD
    assert how_called(root) == INLINE and root(16.0) == 4.0


# -- where each runs -----------------------------------------------------------------------

CHAIN = """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  return b
}"""


def test_a_marked_tool_runs_on_the_loop_thread_and_an_unmarked_one_in_a_worker():
    here = threading.get_ident()  # (asyncio.run runs the loop in this thread)
    assert run("marked", CHAIN).result == 3
    assert threads_seen == [("marked", here)] * 2
    assert run("plain", CHAIN).result == 3
    assert len(threads_seen) == 2 and all(ident != here for _, ident in threads_seen)


def test_a_marked_tool_runs_on_the_loop_in_replicas_maps_and_tool_loops():
    here = threading.get_ident()
    body = """role Helper(task: str) -> Draft {
  model m
  prompt "{{ task }}"
  tools [step] max 1
}
agent A(task: str) -> list[int] {
  xs = step(1) x 2
  ys = step(item) for item in xs max 4
  h = Helper(task)
  return ys
}"""
    call = {"tool": "step", "arguments": {"value": 7}}
    model = MockModel(script={"Helper": [call, {"text": "done", "score": 1.0}]})
    assert run("marked", body, model=model).result == [3, 3]
    assert len(threads_seen) == 5 and {ident for _, ident in threads_seen} == {here}
    model = MockModel(script={"Helper": [call, {"text": "done", "score": 1.0}]})
    assert run("plain", body, model=model).result == [3, 3]
    assert len(threads_seen) == 5 and here not in {ident for _, ident in threads_seen}


# -- the same run either way ---------------------------------------------------------------

AGENTS = {
    "chain": CHAIN,
    "loop": """agent A(task: str) -> int {
  n = step(0)
  n -> n(value: n) when n < 20 max 30
  n -> return(n) else
}""",
    "fan-out and join": """agent A(task: str) -> int {
  s = step(0)
  a = step(s)
  b = step(s)
  c = step(b)
  j = total([a, c])
  w = Writer(task)
  return j
}""",
    "errors and their edges": """agent A(task: str) -> int {
  n = picky(0)
  n -> n(value: n) when n < 9 max 12
  n -> fix(value: 10) on error
  n -> return(n) else
  fix = step(0)
  fix -> return(fix)
}""",
    "an error with no edge": """agent A(task: str) -> int {
  a = step(1)
  b = picky(a)
  return b
}""",
    "a result of the wrong type": """agent A(task: str) -> int {
  a = wrong(1)
  return a
}""",
    "a function that returns an awaitable": """agent A(task: str) -> int {
  a = deferred(1)
  b = step(a)
  c = deferred(b)
  return c
}""",
    "a return that cancels what comes after it": """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  c = step(b)
  d = step(c)
  w = Writer(task)
  a -> return(a) when a > 0
  a -> b else
}""",
    "a sibling's context variables": """agent A(task: str) -> list[int] {
  s = seen(0)
  a = seen(s)
  b = setv(s)
  c = seen(s)
  return [a, b, c]
}""",
    "reads of latest outputs": """agent A(task: str) -> int {
  s = step(0)
  n = add(s, s)
  n -> n(a: n) when n < 9 max 10
  n -> return(n) else
}""",
}


@pytest.mark.parametrize("name", list(AGENTS))
def test_a_run_is_the_same_with_marked_and_unmarked_tools(name):
    marked, plain = outcome("marked", AGENTS[name]), outcome("plain", AGENTS[name])
    assert marked == plain
    assert marked[1]  # (it fired)


def test_the_outcomes_compared_are_what_each_agent_means():
    assert outcome("marked", AGENTS["loop"])[0] == 20
    assert outcome("marked", AGENTS["reads of latest outputs"])[0] == 9
    assert outcome("marked", AGENTS["errors and their edges"])[0] == 11
    no_edge = outcome("marked", AGENTS["an error with no edge"])[0]
    assert no_edge.startswith("FiringFailed") and "no 2" in no_edge
    assert outcome("marked", AGENTS["a result of the wrong type"])[0].startswith("FiringFailed")
    assert outcome("marked", AGENTS["a function that returns an awaitable"])[0] == 4
    assert outcome("marked", AGENTS["a sibling's context variables"])[0] == [0, 1, 0]
    result, records = outcome("marked", AGENTS["a return that cancels what comes after it"])
    assert result == 2 and ("skipped" in {r[2] for r in records})


def test_a_failing_marked_tool_fails_its_firing_as_an_unmarked_one_does():
    for kind in ("marked", "plain"):
        with pytest.raises(FiringFailed, match="node `b` failed: no 2"):
            run(kind, AGENTS["an error with no edge"])


def test_a_resumed_run_replays_marked_tools_without_calling_them(tmp_path):
    ir = ir_of("marked", CHAIN)
    store = Store(tmp_path / "store.sqlite")
    first = asyncio.run(run_agent(ir, {"task": "t"}, store=store))
    made = calls["step"]
    again = asyncio.run(run_agent(ir, {}, store=store, resume=first.run_id))
    store.close()
    assert (again.result, calls["step"]) == (3, made)
    assert all("replayed from a checkpoint" in r.notes for r in again.trace.firings)


@pytest.mark.parametrize("kind", ["marked", "plain"])
def test_a_run_cancelled_by_a_timeout_leaves_nothing_running(kind):
    """Marked tools before and beside a slow one: the timeout cancels the run, which
    cancels and awaits its firings, whichever way its tools run."""
    body = """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  s = slow(b)
  c = step(b)
  return s
}"""
    records = []

    async def main():
        try:
            await asyncio.wait_for(
                run_agent(ir_of(kind, body), {"task": "t"}, on_record=records.append), 0.2
            )
        except TimeoutError:
            pass
        else:
            raise AssertionError("the run should have timed out")
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(main()) == set()
    assert sorted((r.node, r.status) for r in records) == [
        ("a", "ok"),
        ("b", "ok"),
        ("c", "ok"),
        ("s", "cancelled"),
    ]


def test_a_marked_firing_a_return_overtakes_before_it_begins_never_begins():
    """`a` starts `b` (time 2) before `z` runs; `z` returns at time 2, so `b` is not part
    of the run: a firing waiting for its turn with no task is dropped, as a task
    cancelled before its first step is, and its function is never called."""
    body = """agent A(task: str) -> int {
  a = step(0)
  z = step(10)
  b = step(0)
  a -> b(value: a)
  z -> return(z)
}"""
    before = calls["step"]
    done = run("marked", body)
    assert done.result == 11 and calls["step"] - before == 2
    assert sorted(r.node for r in done.trace.firings) == ["a", "z"]
    assert run("plain", body).result == 11


# -- a task that carries the firings that follow its own ------------------------------------

events: dict[str, asyncio.Event] = {}


async def astep(value: int) -> int:
    return value + 1


async def amark(value: int) -> int:
    events["ready"].set()
    return value + 1


async def agate(value: int) -> int:
    await events["ready"].wait()
    for _ in range(3):  # (turns of the loop: `x` begins to wait for this firing meanwhile)
        await asyncio.sleep(0)
    return value + 1


async def ablock(value: int) -> int:
    await asyncio.wait_for(events["done"].wait(), HANG)
    return value


async def alook(value: int, seen: list[int]) -> int:
    events["done"].set()
    return value + len(seen)


def test_a_task_carries_no_firing_while_another_waits_for_it():
    """`x` waits for `f` (it reads `history(p)`, and `f` leads to `p`). When `f` ends, its
    task must not go on to run `g`, which waits for `x`: `x` would wait for `g` too, and
    neither would ever end."""
    here = "tests.test_tool_nonblocking"
    text = PRELUDE + "".join(
        f'tool {name}({params}) -> int = "{here}:{name}"\n'
        for name, params in [
            ("astep", "value: int"),
            ("amark", "value: int"),
            ("agate", "value: int"),
            ("ablock", "value: int"),
            ("alook", "value: int, seen: list[int]"),
        ]
    )
    text += """agent A(task: str) -> int {
  s = astep(0)
  f = agate(s)
  g = ablock(f)
  p = astep(f)
  m1 = astep(s)
  m2 = astep(m1)
  m3 = amark(m2)
  x = alook(m3, history(p))
  return x
}"""

    async def main():
        events.update(ready=asyncio.Event(), done=asyncio.Event())
        ir = rolegraph.load_agent("test.agent", "A", text=text)
        return await run_agent(ir, {"task": "t"}, model=MockModel())

    done = asyncio.run(main())
    assert done.result == 5
    assert {r.node: r.status for r in done.trace.firings}["g"] == "ok"


counted = {"acount": 0}


async def acount(value: int) -> int:
    counted["acount"] += 1
    return value + 1


def test_a_carried_firing_a_return_overtakes_before_it_begins_never_begins():
    """`a` starts `b` (its task would carry it) and offers a return at the same logical
    time, decided once `z` (in flight) ends: `b` is not part of the run, and its function
    is never called — as a task cancelled before its first step never runs."""
    here = "tests.test_tool_nonblocking"
    text = PRELUDE + f'tool acount(value: int) -> int = "{here}:acount"\n'
    text += f'tool astep(value: int) -> int = "{here}:astep"\n'
    text += """agent A(task: str) -> int {
  a = acount(0)
  z = astep(0)
  b = acount(5)
  a -> b(value: a) when a > 0
  a -> return(a) when a > 0
  b -> return(b)
}"""
    counted["acount"] = 0
    ir = rolegraph.load_agent("test.agent", "A", text=text)
    done = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    assert done.result == 1 and counted["acount"] == 1
    assert sorted(r.node for r in done.trace.firings) == ["a", "z"]


# -- random agents, either way -------------------------------------------------------------


@st.composite
def tool_agents(draw) -> str:
    """A random agent of `step` and `add` tool nodes: joins of earlier nodes or literals,
    and, at the end, a bounded loop or a return of every node."""
    lines: list[str] = []
    nodes: list[str] = []

    def argument() -> str:
        if nodes and draw(st.booleans()):
            return draw(st.sampled_from(nodes))
        return str(draw(st.integers(0, 5)))

    for index in range(draw(st.integers(1, 8))):
        name = f"n{index}"
        if nodes and draw(st.booleans()):
            lines.append(f"  {name} = add({argument()}, {argument()})")
        else:
            lines.append(f"  {name} = step({argument()})")
        nodes.append(name)
    last = nodes[-1]
    if lines[-1].startswith(f"  {last} = step(") and draw(st.booleans()):
        bound = draw(st.integers(1, 4))
        lines.append(f"  {last} -> {last}(value: {last}) when {last} < 12 max {bound}")
        lines.append(f"  {last} -> return([{last}]) else")
    else:
        lines.append(f"  return [{', '.join(nodes)}]")
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}"


def shape(kind: str, body: str):
    done = run(kind, body)
    return done.result, done.trace.shape()


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tool_agents())
def test_random_agents_give_the_same_trace_with_marked_and_unmarked_tools(body):
    assert shape("marked", body) == shape("plain", body)


def test_a_loop_of_marked_tools_gives_the_event_loop_its_turns():
    # Found in review: firings with no task ran one after another in one `settle`, so a
    # loop of `@nonblocking` tools held the event loop for the whole run (no timeout, no
    # other branch, no other run of a server could run meanwhile). Counted in turns of
    # the loop, not in seconds.
    from rolegraph.runtime.scheduler import CARRY

    rounds = 2000
    ir = ir_of(
        "marked",
        f"agent A(task: str) -> int {{\n  n = step(0)\n"
        f"  n -> n(value: n) when n < {rounds} max {rounds + 10}\n  n -> return(n) else\n}}\n",
    )
    turns = 0

    async def ticker():
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    async def main():
        counting = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        before = turns
        result = await run_agent(ir, {"task": "t"}, model=MockModel())
        during = turns - before
        counting.cancel()
        return result, during

    result, during = asyncio.run(main())
    assert result.result == rounds
    assert during >= rounds // CARRY - 1  # a turn at least every CARRY firings


def _most_firings_between_turns(kind: str, body: str, ir=None) -> tuple[int, int]:
    """A run of `body` beside a ticker task: the run's result, and the most firings
    (calls of `step`, or of `astep_counted`) made between two turns the loop gave the
    ticker."""
    ir = ir or ir_of(kind, body)
    marks: list[int] = []

    async def ticker():
        while True:
            marks.append(calls["step"])
            await asyncio.sleep(0)

    async def main():
        counting = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        done = await run_agent(ir, {"task": "t"}, model=MockModel())
        marks.append(calls["step"])
        counting.cancel()
        return done.result

    result = asyncio.run(main())
    return result, max(after - before for before, after in pairwise(marks))


def test_a_chain_of_marked_tools_started_by_joins_gives_the_event_loop_its_turns():
    # `CARRY` bounded the firings of one `_run_ready`; a join starts one firing, which
    # `settle` then ran with a bound of its own, so a chain of `@nonblocking` tools ran
    # whole with no turn of the loop (1,000 firings, 0 turns of the ticker). The bound
    # counts firings run since the loop last had a turn, however they were started.
    from rolegraph.runtime.scheduler import CARRY

    size = 1000
    lines = ["  n0 = step(0)"] + [f"  n{i} = step(n{i - 1})" for i in range(1, size)]
    body = "agent A(task: str) -> int {\n" + "\n".join(lines) + f"\n  return n{size - 1}\n}}\n"
    result, most = _most_firings_between_turns("marked", body)
    assert result == size
    # (the loop's turn may come just before the bound is reached and just after it)
    assert most <= 2 * CARRY


async def astep_counted(value: int) -> int:
    calls["step"] += 1
    return value + 1


def test_a_chain_of_async_tools_carried_by_one_task_gives_the_event_loop_its_turns():
    # the other place firings are run in a row: a task carrying the firing its firing's
    # end started (`fire`), under the same bound
    from rolegraph.runtime.scheduler import CARRY

    size = 300
    here = "tests.test_tool_nonblocking"
    lines = ["  n0 = step(0)"] + [f"  n{i} = step(n{i - 1})" for i in range(1, size)]
    text = PRELUDE + f'tool step(value: int) -> int = "{here}:astep_counted"\n'
    text += "agent A(task: str) -> int {\n" + "\n".join(lines) + f"\n  return n{size - 1}\n}}\n"
    ir = rolegraph.load_agent("test.agent", "A", text=text)
    result, most = _most_firings_between_turns("", "", ir)
    assert result == size and most <= 2 * CARRY


def test_a_loop_of_marked_tools_makes_at_most_twice_carry_firings_between_turns():
    from rolegraph.runtime.scheduler import CARRY

    rounds = 500
    body = (
        f"agent A(task: str) -> int {{\n  n = step(0)\n"
        f"  n -> n(value: n) when n < {rounds} max {rounds + 10}\n  n -> return(n) else\n}}\n"
    )
    result, most = _most_firings_between_turns("marked", body)
    assert result == rounds and most <= 2 * CARRY


async def never_waits(value: int) -> int:
    calls["step"] += 1
    return value + 1


def test_a_task_carrying_firings_does_not_starve_the_firings_with_no_task():
    """An `async def` loop carried by one task beside `@nonblocking` firings it starts:
    each turn of the loop, the firings with no task run too, so the return they offer
    cuts the loop short. (The review's reproduction of f9e51fa: the carrying task spent
    every turn's count first, the marked firings never ran, and the loop ran all its
    2,000 rounds, 1,960 of them discarded.)"""
    from rolegraph.runtime.scheduler import CARRY

    here = "tests.test_tool_nonblocking"
    rounds = 2000
    text = PRELUDE + f'tool n_step(value: int) -> int = "{here}:never_waits"\n'
    text += f'tool r_step(value: int) -> int = "{here}:marked_step"\n'
    text += (
        "agent A(task: str) -> int {\n  n = n_step(0)\n  r = r_step(n)\n"
        f"  n -> n(value: n) when n < {rounds} max {rounds + 10}\n"
        "  r -> return(r) when r >= 40\n}\n"
    )
    ir = rolegraph.load_agent("test.agent", "A", text=text)
    calls["step"] = 0
    outcome = asyncio.run(asyncio.wait_for(run_agent(ir, {"task": "t"}, model="mock"), HANG))
    assert outcome.result == 40
    # the loop runs on past the return's time by at most what a few turns hold
    assert calls["step"] <= 40 + 4 * CARRY, calls["step"]


# -- an awaitable a tool returned, abandoned when its firing is cancelled ------------------

gates: dict[str, threading.Event] = {}


def gated(value: int) -> int:
    """A plain function (a worker thread) that returns a coroutine, once let go."""
    gates["started"].set()
    gates["go"].wait(HANG)
    return _later(value)  # type: ignore[return-value]


async def fails_once_gated_started(value: int) -> int:
    for _ in range(int(HANG * 1000)):
        if gates["started"].is_set():
            raise ValueError("no")
        await asyncio.sleep(0.001)
    raise AssertionError("`gated` never started")


def _unawaited(run_it) -> list[str]:
    """The 'never awaited' warnings of the coroutines that `run_it` leaves behind."""
    gc.collect()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_it()
        gc.collect()
    return [str(w.message) for w in caught if "never awaited" in str(w.message)]


def test_an_awaitable_a_marked_tool_returned_is_closed_when_its_firing_is_cancelled():
    # `a` (time 2) returns a coroutine, awaited by a task; `b` fails the run at time 1
    # before that task's first step, so the task is cancelled before it awaits the
    # coroutine. The coroutine was collected later, warning in whatever test ran then;
    # it is closed now. (`a` one step after the failure: the firings of a failure's own
    # time complete, docs/semantics.md.)
    body = """agent A(task: str) -> int {
  x = step(1)
  b = afail(2)
  a = deferred(x)
  return a
}"""

    def run_it():
        with pytest.raises(FiringFailed, match="no 2"):
            run("marked", body)

    assert _unawaited(run_it) == []


def test_an_awaitable_a_thread_returned_is_closed_when_its_firing_was_cancelled():
    # `a`'s function returns a coroutine from its worker thread after its firing was
    # cancelled (`b` failed the run meanwhile): the thread's result is dropped, and the
    # coroutine in it must be closed, not left to warn when collected.
    from rolegraph.runtime.tools import _pool

    here = "tests.test_tool_nonblocking"
    text = PRELUDE + f'tool step(value: int) -> int = "{here}:marked_step"\n'
    text += f'tool gated(value: int) -> int = "{here}:gated"\n'
    text += f'tool fails(value: int) -> int = "{here}:fails_once_gated_started"\n'
    text += """agent A(task: str) -> int {
  x = step(1)
  a = gated(x)
  b = fails(2)
  return a
}"""
    ir = rolegraph.load_agent("test.agent", "A", text=text)

    def run_it():
        gates.update(started=threading.Event(), go=threading.Event())
        with pytest.raises(FiringFailed, match="no"):
            asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel(), tool_threads=1))
        gates["go"].set()
        _pool(1).submit(int).result(HANG)  # (one thread: `gated`'s call has ended)

    assert _unawaited(run_it) == []


async def slowish(value: int) -> int:
    for _ in range(3):  # (turns of the loop: the chain of `b` runs meanwhile)
        await asyncio.sleep(0)
    return value + 1


async def count_seen(value: int, seen: list[int]) -> int:
    return len(seen)


@pytest.mark.parametrize("kind", ["marked", "plain"])
def test_a_reader_waits_for_earlier_marked_firings_left_for_the_next_turn(kind):
    # `r` (time 101) reads `history(a50)` (time 53): it must wait for the `a` chain's
    # firings before its time. Marked ones have no task, and the bound on firings in a
    # row leaves some for the loop's next turn: `wait_for_earlier` waited only for tasks,
    # so `r` read an empty history (0) where unmarked tools, in threads, give 1.
    here = "tests.test_tool_nonblocking"
    text = PRELUDE + f'tool inl(value: int) -> int = "{here}:{kind}_step"\n'
    for name, params in [
        ("astep_counted", "value: int"),
        ("slowish", "value: int"),
        ("count_seen", "value: int, seen: list[int]"),
    ]:
        text += f'tool {name}({params}) -> int = "{here}:{name}"\n'
    lines = ["  s = slowish(0)", "  a0 = inl(s)"] + [
        f"  a{i} = inl(a{i - 1})" for i in range(1, 80)
    ]
    lines += ["  b0 = astep_counted(0)"] + [
        f"  b{i} = astep_counted(b{i - 1})" for i in range(1, 100)
    ]
    lines += ["  r = count_seen(b99, history(a50))", "  return r"]
    ir = rolegraph.load_agent(
        "test.agent", "A", text=text + "agent A(task: str) -> int {\n" + "\n".join(lines) + "\n}\n"
    )
    assert asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel())).result == 1
