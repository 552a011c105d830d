"""The rows a store writes hold, key for key, what main at c826a9e wrote, on seeded mixes
of runs: a run's checkpoints are now a list of its completed firings' records (`Saves`,
runtime/store.py) that the scheduler appends to with no call per firing, written at the
flush as one row of store format 3 (its keys, one a line, then the JSON list of their
outputs). The oracle is c826a9e's way, kept here whole (`Reference`): a dict per run set
at each completed firing's call, written as format 2 wrote it (the JSON object from each
key to its output), and a flush when `BATCH` wait or `FLUSH_SECONDS` have passed since
the store's last one, read at that firing.

Each mix runs in both stores: seeded agents of inline (`@nonblocking`) tools, some
failing, some yielding to the loop; failed runs resumed (their checkpoints replayed);
two runs at once in one store; with batches of 1, 2, 3 and 256 firings, and with every
firing past the flush's time. Then every row of `runs` (ids replaced by the order the
runs were made, times left out) must be the same text, and every row of `checkpoints`,
read as its format says (`decoded`, written here from the format's description, not
with the store's reader), the same keys in the same order with the same outputs' JSON.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.runtime import MockModel, RunError, Store, run_agent
from rolegraph.runtime import store as store_module
from rolegraph.runtime.errors import StoreError
from rolegraph.runtime.scheduler import AgentRun
from rolegraph.runtime.store import _INSERT_BATCH, _rows_json

from .test_tool_nonblocking import ir_of, tool_agents


class Reference(Store):
    """c826a9e's checkpoints (runtime/store.py there, `checkpointer` and `flush`): a plain
    function per run, so the scheduler tells it of each record (`_tell`), as it did."""

    def __init__(self, path: str | Path):
        super().__init__(path)
        self._pending: dict[str, dict[str, Any]] = {}
        self._flushed_at = time.monotonic()

    def flush(self) -> None:
        with self._lock:
            pending, updates = self._pending, self._updates
            if pending or updates:
                rows = [(run, _rows_json(batch)) for run, batch in pending.items()]
                if len(rows) == 1 and not updates:
                    self._db.execute(_INSERT_BATCH, rows[0])
                else:
                    self._write(rows, updates)
                pending.clear()
                updates.clear()
            self._flushed_at = time.monotonic()

    def checkpointer(self, run: str) -> Callable[[Any], None]:  # type: ignore[override]
        pending = self._pending

        def checkpoint(record: Any) -> None:
            if record.status != "ok":
                return
            batch = pending.get(run)
            if batch is None:
                batch = pending[run] = {}
            batch[record.key] = record.output
            if (
                len(batch) >= store_module.BATCH
                or time.monotonic() - self._flushed_at > store_module.FLUSH_SECONDS
            ):
                self.flush()

        return checkpoint


@st.composite
def mixes(draw: Any) -> tuple[list[str], int, float]:
    """Agents (some `step`s made `picky`, which fails on some values, or `deferred`,
    which yields to the loop), the batch's size, and the flush's time."""
    bodies = []
    for _ in range(draw(st.integers(2, 4))):
        body = draw(tool_agents())
        parts = body.split("= step(")
        body = parts[0] + "".join(
            f"= {draw(st.sampled_from(['step', 'picky', 'deferred']))}({part}" for part in parts[1:]
        )
        bodies.append(body)
    batch = draw(st.sampled_from([1, 2, 3, 256]))
    seconds = draw(st.sampled_from([1e9, -1.0]))  # (never past it; every firing past it)
    return bodies, batch, seconds


async def one(store: Store, body: str, resume: str | None = None) -> str | None:
    """A run of `body` (resumed once if it failed); its id."""
    try:
        done = await run_agent(
            ir_of("marked", body), {"task": "t"}, model=MockModel(), store=store, resume=resume
        )
        return done.run_id
    except RunError as error:
        if resume is None and error.run_id is not None:
            return await one(store, body, error.run_id)
        return error.run_id


async def mix_runs(store: Store, bodies: list[str]) -> None:
    for body in bodies:
        await one(store, body)
    await asyncio.gather(one(store, bodies[0]), one(store, bodies[-1]))  # (two at once)


def rows(path: Path) -> tuple[list[tuple], list[tuple]]:
    """Every run's row (its id as the order it was made, no times) and every checkpoint
    row (the same for its run), as stored."""
    with sqlite3.connect(path) as db:
        runs = db.execute(
            "SELECT id, file, fingerprint, agent, inputs, model, status, result, spent_calls, "
            "spent_tokens, spent_cost, budget, format FROM runs ORDER BY rowid"
        ).fetchall()
        order = {row[0]: index for index, row in enumerate(runs)}
        written = db.execute(
            "SELECT run, CAST(firings AS BLOB) FROM checkpoints ORDER BY rowid"
        ).fetchall()
    return [(order[r[0]], *r[1:]) for r in runs], [(order[run], f) for run, f in written]


def decoded(row: bytes) -> list[tuple[str, str]]:
    """A row of `checkpoints` as (key, its output's JSON) pairs in the order written: format
    3's text (keys, one a line; a last line, the JSON list of their outputs) or the JSON
    object from key to output that format 2 (and `Reference`) wrote."""
    text = row.decode()
    if "\n" in text:
        *keys, last = text.split("\n")
        outputs = json.loads(last)
        assert len(outputs) == len(keys)
        return [(key, json.dumps(output)) for key, output in zip(keys, outputs, strict=True)]
    return [(key, json.dumps(output)) for key, output in json.loads(text).items()]


def written_by(make: type[Store], folder: Path, bodies: list[str]) -> tuple[list, list]:
    store = make(folder / f"{make.__name__}.sqlite")
    asyncio.run(mix_runs(store, bodies))
    store.close()
    return rows(folder / f"{make.__name__}.sqlite")


@settings(max_examples=25, deadline=None, derandomize=True)
@given(mixes())
def test_the_rows_written_hold_what_c826a9e_wrote(tmp_path_factory, mix):
    bodies, batch, seconds = mix
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store_module, "BATCH", batch)
        patch.setattr(store_module, "FLUSH_SECONDS", seconds)
        folder = tmp_path_factory.mktemp("rows")
        runs, checkpoints = written_by(Store, folder, bodies)
        reference_runs, reference = written_by(Reference, folder, bodies)
    assert runs == reference_runs
    assert [(run, decoded(row)) for run, row in checkpoints] == [
        (run, decoded(row)) for run, row in reference
    ]
    assert all(b"\n" in row for _, row in checkpoints)  # (format 3, not the reference's)
    assert all(b"\n" not in row for _, row in reference)
    assert checkpoints  # (every mix checkpoints something)


CHAIN = """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  c = step(b)
  d = step(c)
  e = step(d)
  return e
}"""


def test_a_run_that_never_yields_writes_its_checkpoints_when_due(tmp_path, monkeypatch):
    # A chain of inline tools never yields to its loop: the flush's time is read at each
    # firing's end, so its firings are written while it runs. Each firing ends past the
    # flush's time (`FLUSH_SECONDS` below zero): each is a row, written as it ends.
    monkeypatch.setattr(store_module, "FLUSH_SECONDS", -1.0)
    store = Store(tmp_path / "s.sqlite")
    seen: list[int] = []
    real = store.flush

    def flush() -> None:
        real()
        with sqlite3.connect(store.path) as db:  # (what another process sees)
            seen.append(db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0])

    store.flush = flush  # type: ignore[method-assign]
    asyncio.run(run_agent(ir_of("marked", CHAIN), {"task": "t"}, store=store))
    assert seen == [1, 2, 3, 4, 5, 5]  # (five firings as they end, then the run's end)


def test_a_batch_is_written_when_it_is_full_mid_run(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "BATCH", 2)
    # (never due by time: under load a run's firings spanned FLUSH_SECONDS, and a flush
    # due by time split the batches otherwise than by their size)
    monkeypatch.setattr(store_module, "FLUSH_SECONDS", 3600.0)
    store = Store(tmp_path / "s.sqlite")
    done = asyncio.run(run_agent(ir_of("marked", CHAIN), {"task": "t"}, store=store))
    with sqlite3.connect(store.path) as db:
        written = [f.count("\n") for (f,) in db.execute("SELECT firings FROM checkpoints")]
    assert written == [2, 2, 1]
    assert store.checkpoints(done.run_id) == {r.key: r.output for r in done.trace.firings}


@pytest.mark.parametrize("count", [1, 2, 4])
def test_a_flush_that_fails_on_the_fast_path_ends_the_run_as_with_a_listener(
    tmp_path, monkeypatch, count
):
    # every firing is due (its flush fails at the `count`th): the store alone (the
    # scheduler's own append and check) against the store with a listener (`_tell`)
    monkeypatch.setattr(store_module, "FLUSH_SECONDS", -1.0)
    outcomes, paths = [], []
    real_execute = AgentRun.execute

    async def execute(self: AgentRun) -> Any:
        paths.append(self.saves is not None)
        return await real_execute(self)

    monkeypatch.setattr(AgentRun, "execute", execute)
    for listen in (False, True):
        store = Store(tmp_path / f"{listen}.sqlite")
        real, calls = store.flush, [0]

        def failing(real: Callable[[], None] = real, calls: list[int] = calls) -> None:
            calls[0] += 1
            if calls[0] == count:
                raise StoreError("STORE", "full", "database or disk is full", "saving")
            real()

        store.flush = failing  # type: ignore[method-assign]
        with pytest.raises(StoreError) as caught:
            asyncio.run(
                run_agent(
                    ir_of("marked", CHAIN),
                    {"task": "t"},
                    store=store,
                    on_record=(lambda record: None) if listen else None,
                )
            )
        error = caught.value
        assert error.trace is not None and error.run_id is not None
        firings = [(r.node, r.key, r.status) for r in error.trace.firings]
        message = str(error).replace(error.run_id, "RUN")
        outcomes.append((message, firings, store.checkpoints(error.run_id)))
    assert paths == [True, False]
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][1]) == count  # (the run ends at the firing whose flush failed)
