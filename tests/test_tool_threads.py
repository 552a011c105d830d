"""Synchronous tools run in worker threads: they never hold the event loop (DESIGN §3.6).

Overlap is proven with barriers and events that the tools must reach together, never
with timings: run one after the other, these tests fail (after a generous hang bound).
"""

import asyncio
import os
import random
import threading
import time

import pytest

import rolegraph
from rolegraph.runtime import MockModel, ModelReply, ModelRequest, RunError, Store, run_agent

from .checking import PRELUDE

HANG = 10.0  # seconds: a bound on hanging, never a measure of speed
meeting = threading.Barrier(2, timeout=HANG)
role_started = threading.Event()
threads_seen: set[str] = set()
active = {"now": 0, "peak": 0}
active_lock = threading.Lock()


@pytest.fixture(autouse=True)
def fresh_signals():
    global meeting
    meeting = threading.Barrier(2, timeout=HANG)
    role_started.clear()
    threads_seen.clear()
    active.update(now=0, peak=0)


def meet(value: int) -> int:
    """Returns only once another call of `meet` is running at the same time."""
    meeting.wait()
    return value


def after_the_role(value: int) -> int:
    """Returns only once a role's model call has started."""
    if not role_started.wait(HANG):
        raise TimeoutError("the role never started while this tool ran")
    return value


def where(value: int) -> int:
    threads_seen.add(threading.current_thread().name)
    return value


def counted(value: int) -> int:
    """Counts how many calls run at once; waits for a second call that may never come."""
    with active_lock:
        active["now"] += 1
        active["peak"] = max(active["peak"], active["now"])
    role_started.wait(0.2)  # (only gives a second call a chance to overlap)
    with active_lock:
        active["now"] -= 1
    return value


def jitter(value: int) -> int:
    """value + 1, after a random pause: threads finish in any order."""
    time.sleep(random.random() * 0.003)
    return value + 1


def total(values: list[int]) -> int:
    return sum(values)


calls = {"step": 0}


def step(value: int) -> int:
    calls["step"] += 1
    return value + 1


class SignallingModel(MockModel):
    """The mock model, saying when a call starts."""

    async def complete(self, request: ModelRequest) -> ModelReply:
        role_started.set()
        return await super().complete(request)


TOOLS = """
tool meet(value: int) -> int = "tests.test_tool_threads:meet"
tool after_the_role(value: int) -> int = "tests.test_tool_threads:after_the_role"
tool where(value: int) -> int = "tests.test_tool_threads:where"
tool counted(value: int) -> int = "tests.test_tool_threads:counted"
tool jitter(value: int) -> int = "tests.test_tool_threads:jitter"
tool total(values: list[int]) -> int = "tests.test_tool_threads:total"
tool step(value: int) -> int = "tests.test_tool_threads:step"
"""


def ir_of(body: str):
    return rolegraph.load_agent("test.agent", "A", text=PRELUDE + TOOLS + body)


def run(body: str, model=None, **options):
    return asyncio.run(run_agent(ir_of(body), {"task": "t"}, model=model or MockModel(), **options))


def test_two_independent_synchronous_tools_run_at_the_same_time():
    outcome = run("""agent A(task: str) -> list[int] {
  a = meet(1)
  b = meet(2)
  return [a, b]
}""")
    assert outcome.result == [1, 2]


def test_a_role_starts_while_a_synchronous_tool_runs():
    outcome = run(
        """agent A(task: str) -> int {
  a = after_the_role(1)
  w = Writer(task)
  return a
}""",
        SignallingModel(),
    )
    assert outcome.result == 1


def test_synchronous_tools_called_in_tool_loops_run_at_the_same_time():
    call = {"tool": "meet", "arguments": {"value": 7}}
    answer = {"text": "done", "score": 1.0}
    model = MockModel(script={"Helper": [call, call, answer, answer]})
    outcome = run(
        """role Helper(task: str) -> Draft {
  model m
  prompt "{{ task }}"
  tools [meet] max 1
}
agent A(task: str) -> list[Draft] {
  h = Helper(task) x 2
  return h
}""",
        model,
    )
    assert outcome.result == [answer, answer]
    (firing,) = [f for f in outcome.trace.firings if f.node == "h"]
    assert [c["result"] for c in firing.tool_calls] == [7, 7]


def test_traces_are_the_same_whatever_order_tool_threads_finish_in():
    body = """agent A(task: str) -> int {
  a = jitter(0)
  b = jitter(10)
  c = jitter(a)
  j = total([b, c])
  n = jitter(j)
  n -> n(value: n) when n < 16 max 8
  n -> return(n) else
}"""
    shapes = set()
    for seed in range(20):
        random.seed(seed)
        outcome = run(body)
        shapes.add((repr(outcome.trace.shape()), outcome.result))
    assert len(shapes) == 1


def test_a_resumed_run_replays_synchronous_tools_without_calling_them(tmp_path):
    ir = ir_of("""agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  return b
}""")
    store = Store(tmp_path / "store.sqlite")
    first = asyncio.run(run_agent(ir, {"task": "t"}, store=store))
    made = calls["step"]
    again = asyncio.run(run_agent(ir, {}, store=store, resume=first.run_id))
    store.close()
    assert (again.result, calls["step"]) == (3, made)
    assert all("replayed from a checkpoint" in r.notes for r in again.trace.firings)


def test_a_synchronous_tool_runs_in_a_worker_thread():
    run("""agent A(task: str) -> int {
  a = where(1)
  return a
}""")
    assert threads_seen and all(name.startswith("rolegraph-tool") for name in threads_seen)


def test_the_thread_bound_keeps_synchronous_tools_from_running_together():
    run(
        """agent A(task: str) -> list[int] {
  a = counted(1)
  b = counted(2)
  return [a, b]
}""",
        tool_threads=1,
    )
    assert active["peak"] == 1


def test_a_tool_threads_setting_that_is_not_a_number_is_a_run_error(monkeypatch):
    monkeypatch.setenv("ROLEGRAPH_TOOL_THREADS", "many")
    with pytest.raises(RunError, match="ROLEGRAPH_TOOL_THREADS"):
        run("""agent A(task: str) -> int {
  a = where(1)
  return a
}""")


@pytest.mark.parametrize("value", [None, "8", " 3 ", "", "many", "é∂"])
def test_the_setting_is_read_as_os_environ_reads_it_at_every_run(monkeypatch, value):
    # (runtime/tools.py reads `os.environ`'s own dict, not through `os.environ.get`: the
    # same value, set or changed after the import, as `os.environ.get` gives)
    from rolegraph.runtime import tools

    if value is None:
        monkeypatch.delenv("ROLEGRAPH_TOOL_THREADS", raising=False)
    else:
        monkeypatch.setenv("ROLEGRAPH_TOOL_THREADS", value)
    read = tools._environment_value("ROLEGRAPH_TOOL_THREADS")
    assert read == os.environ.get("ROLEGRAPH_TOOL_THREADS", "")


def test_the_setting_is_read_from_an_environment_that_replaced_os_environ(monkeypatch):
    # (a test or an embedding program may put a plain mapping in `os.environ`'s place: the
    # setting is read from it, as `os.environ.get` reads it, never from the one it replaced)
    from rolegraph.runtime import tools

    monkeypatch.setenv("ROLEGRAPH_TOOL_THREADS", "5")
    monkeypatch.setattr(os, "environ", {"ROLEGRAPH_TOOL_THREADS": "3"})
    assert tools._environment_value("ROLEGRAPH_TOOL_THREADS") == "3"
    assert tools.tool_threads() == 3
    monkeypatch.setattr(os, "environ", {})
    assert tools.tool_threads() == tools.DEFAULT_TOOL_THREADS
