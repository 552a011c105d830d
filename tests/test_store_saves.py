"""A run whose store alone listens to its records checkpoints each firing that succeeded
at once (`AgentRun.saves`, runtime/scheduler.py), not through `_tell`'s tests: held to
the general path, the same run with another listener (`on_record`), on seeded agents —
the same checkpoints, the same trace, the same store error when a checkpoint fails."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings

from rolegraph.runtime import MockModel, RunError, Store, run_agent
from rolegraph.runtime.errors import StoreError
from rolegraph.runtime.scheduler import AgentRun

from .test_tool_nonblocking import ir_of, tool_agents

KINDS = ["plain", "marked"]


def stored(kind: str, body: str, store: Store, listen: bool) -> tuple[Any, list, list]:
    """The run's result (or its error), its firings, and what `on_record` was told."""
    told: list = []
    ir = ir_of(kind, body)
    options: dict[str, Any] = {"model": MockModel(), "store": store}
    if listen:
        options["on_record"] = told.append
    try:
        done = asyncio.run(run_agent(ir, {"task": "t"}, **options))
        result, trace, run_id = done.result, done.trace, done.run_id
    except RunError as error:
        result = f"{type(error).__name__}: {error}".replace(str(error.run_id), "RUN")
        trace, run_id = error.trace, error.run_id
    firings = [(r.time, r.node, r.key, r.status, r.output, r.error) for r in trace.firings]
    checkpoints = store.checkpoints(run_id) if run_id is not None else None
    return (result, checkpoints), firings, told


@settings(max_examples=30, deadline=None, derandomize=True)
@given(tool_agents())
def test_the_store_alone_checkpoints_what_it_does_with_another_listener(tmp_path_factory, body):
    for kind in KINDS:
        store = Store(tmp_path_factory.mktemp("s") / "s.sqlite")
        alone, firings, _ = stored(kind, body, store, listen=False)
        general, general_firings, told = stored(kind, body, store, listen=True)
        store.close()
        assert alone == general
        if kind == "plain":  # (worker threads: independent firings may end in either order)
            assert sorted(firings, key=repr) == sorted(general_firings, key=repr)
        else:
            assert firings == general_firings
        assert alone[1] == {
            key: output for (_, _, key, status, output, _) in firings if status == "ok"
        }
        # the listener is told of every record of its run, the store's fast path aside
        assert [r.key for r in told] == [f[2] for f in general_firings]


def failing_at(store: Store, count: int) -> Callable[[str], Callable[[Any], None]]:
    """`store.checkpointer`, whose checkpoint raises a store error at its `count`th call."""
    real = store.checkpointer

    def checkpointer(run: str) -> Callable[[Any], None]:
        checkpoint, calls = real(run), [0]

        def failing(record: Any) -> None:
            calls[0] += 1
            if calls[0] == count:
                raise StoreError(str(store.path), "full", "database or disk is full", "saving")
            checkpoint(record)

        return failing

    return checkpointer


CHAIN = """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  c = add(a, b)
  d = step(c)
  return d
}"""


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("count", [1, 2, 4])
def test_a_checkpoint_that_fails_ends_the_run_as_with_another_listener(tmp_path, kind, count):
    outcomes = []
    for listen in (False, True):
        store = Store(tmp_path / f"{listen}.sqlite")
        store.checkpointer = failing_at(store, count)  # type: ignore[method-assign]
        with pytest.raises(StoreError) as caught:
            asyncio.run(
                run_agent(
                    ir_of(kind, CHAIN),
                    {"task": "t"},
                    model=MockModel(),
                    store=store,
                    on_record=(lambda record: None) if listen else None,
                )
            )
        error = caught.value
        assert error.trace is not None and error.run_id is not None
        firings = [(r.node, r.key, r.status) for r in error.trace.firings]
        message = str(error).replace(error.run_id, "RUN").replace(str(store.path), "STORE")
        outcomes.append((message, firings))
        store.close()
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) >= count  # (the firing whose checkpoint failed is in the trace)


def test_the_store_alone_takes_the_fast_path_and_a_listener_the_general_one(tmp_path):
    seen: list[AgentRun] = []
    real = AgentRun.execute

    async def execute(self: AgentRun) -> Any:
        seen.append(self)
        return await real(self)

    AgentRun.execute = execute  # type: ignore[method-assign]
    try:
        store = Store(tmp_path / "s.sqlite")
        for listen in (False, True):
            asyncio.run(
                run_agent(
                    ir_of("plain", CHAIN),
                    {"task": "t"},
                    model=MockModel(),
                    store=store,
                    on_record=(lambda record: None) if listen else None,
                )
            )
        store.close()
    finally:
        AgentRun.execute = real  # type: ignore[method-assign]
    alone, listened = seen
    assert alone.saves is not None and alone.saves is alone.checkpoint
    assert listened.saves is None and listened.checkpoint is not None
