"""Two runtime bugs of issue 17, each pinned: a run cancelled from outside cancels and
awaits its firings, and the replicas of a called agent are separate calls to the
response cache."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import warnings

import rolegraph
from rolegraph.runtime import MockModel, Store, run_agent
from rolegraph.runtime.models import ModelReply, ModelRequest

from .checking import PRELUDE


def ir_of(body: str, agent: str):
    return rolegraph.load_agent("test.agent", agent, text=PRELUDE + body)


PARALLEL = """agent A(task: str) -> Draft {
  a = Writer(task)
  b = Writer(task: "other")
  m = Merger(task, drafts: [a, b])
  return m
}
"""


class SlowModel(MockModel):
    """The mock, slow enough that a short timeout cancels the run mid-call; it counts
    the calls that started and those that were cancelled."""

    def __init__(self) -> None:
        super().__init__()
        self.started = 0
        self.cancelled = 0

    async def complete(self, request: ModelRequest) -> ModelReply:
        self.started += 1
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return await super().complete(request)


def test_cancelling_a_run_cancels_and_awaits_its_firings():
    model = SlowModel()
    ir = ir_of(PARALLEL, "A")

    async def main() -> set[asyncio.Task]:
        try:
            await asyncio.wait_for(run_agent(ir, {"task": "t"}, model=model), 0.05)
        except TimeoutError:
            pass
        else:  # pragma: no cover - the model sleeps 10 s
            raise AssertionError("the run should have been cancelled")
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        left = asyncio.run(main())
        gc.collect()
    assert left == set()  # no firing left running once `run_agent` was cancelled
    assert model.started == 2  # both entry firings were in flight...
    assert model.cancelled == 2  # ...and both were cancelled, before run_agent returned


def test_cancelling_a_task_running_a_run_leaves_nothing_pending():
    model = SlowModel()
    ir = ir_of(PARALLEL, "A")

    async def main() -> tuple[int, set[asyncio.Task]]:
        task = asyncio.create_task(run_agent(ir, {"task": "t"}, model=model))
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return model.cancelled, {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    cancelled, left = asyncio.run(main())
    assert cancelled == 2 and left == set()


REPLICATED = """agent Chain(task: str) -> Draft {
  a = Writer(task)
  return a
}
agent Outer(task: str) -> list[Draft] {
  c = Chain(task) x 2
  return c
}
"""


class Counting(MockModel):
    """The mock, counting the calls that reach it (not those the cache answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[ModelRequest] = []

    async def complete(self, request: ModelRequest) -> ModelReply:
        self.made.append(request)
        return await super().complete(request)


def test_the_replicas_of_a_called_agent_are_not_answered_from_each_others_cache(tmp_path):
    ir = ir_of(REPLICATED, "Outer")
    store = Store(tmp_path / "runs.sqlite")
    model = Counting()
    outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model, store=store))
    assert len(model.made) == 2  # one call per replica: neither is a cached reply
    assert outcome.trace.summary()["calls"] == 2
    assert store.calls() == 2
    # the same run again hits the cache for both replicas: the key is stable
    again = Counting()
    asyncio.run(run_agent(ir, {"task": "t"}, model=again, store=store))
    assert len(again.made) == 0


ASKING = """
type Approval { approved: bool, note: str }
human Approve(task: str) -> Approval {
  prompt "Approve {{ task }}?"
}
agent Asking(task: str) -> Draft {
  draft = Writer(task)
  approval = Approve(task)
  final = Writer(task: approval.note, feedback: draft.text)
  return final
}
"""


def test_a_run_cancelled_from_outside_keeps_its_questions_for_a_resume(tmp_path):
    """`rolegraph serve` cancels its runs when it stops, to resume them when it starts:
    their questions stay asked (only a return that comes first withdraws them)."""
    from rolegraph.runtime import pending_questions

    ir = ir_of(ASKING, "Asking")
    store = Store(tmp_path / "runs.sqlite")
    model = SlowModel()  # the writer is still working when the question is asked

    async def main() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run_agent(ir, {"task": "t"}, model=model, store=store), 0.1)

    asyncio.run(main())
    assert model.cancelled == 1
    assert [q.step for q in pending_questions(store)] == ["Approve"]
