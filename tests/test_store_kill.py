"""A run killed at any point resumes from its last checkpoint (docs/runtime.md, the
store): the process dies before each of the store's statements in turn — nothing of the
transaction it was in is kept, and its connection is gone — and a new store on the file
resumes the run to the same firings and result as a run never killed, never repeating
a model call whose reply was committed (tests/test_resume.py kills a real process once).
"""

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import rolegraph
from rolegraph.runtime import MockModel, Store, run_agent
from rolegraph.runtime import store as store_module

from .conftest import ROOT

AGENT = ROOT / "examples" / "reflexion.agent"  # (8 firings, 8 model calls on the mock)
INPUTS = {"task": "x"}


class Died(SystemExit):
    """The process ends here, as `kill -9` would end it (a `SystemExit`: asyncio stops the
    loop at once, as it does for one, rather than keeping it in a firing's task)."""


class DyingConnection:
    """A connection whose process dies before its `at`-th statement (counted from 0)."""

    def __init__(self, real: sqlite3.Connection, at: int):
        self.real, self.at, self.count = real, at, 0

    def _next(self) -> None:
        if self.count >= self.at:
            self.count += 1
            raise Died
        self.count += 1

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._next()
        return self.real.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        self._next()
        return self.real.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class CountingModel(MockModel):
    """The mock, counting the requests that reach it (a cached reply never does)."""

    made = 0

    async def complete(self, request: Any) -> Any:
        CountingModel.made += 1
        return await super().complete(request)


def attempt(path: Path, at: int | None, resume: str | None = None) -> tuple[Any, str | None]:
    """One process's attempt: the run (or its resumption), dying before statement `at`;
    its result (None if it died) and the run's id."""
    store = Store(path)
    real = store._db
    if at is not None:
        store._db = DyingConnection(real, at)  # type: ignore[assignment]
    ir = rolegraph.load_agent(AGENT)
    try:
        result = asyncio.run(
            run_agent(ir, INPUTS, model=CountingModel(), store=store, resume=resume)
        )
    except Died:
        real.close()  # (the process is gone: its open transaction with it)
        with sqlite3.connect(path) as db:
            ids = [row[0] for row in db.execute("SELECT id FROM runs")]
        return None, ids[0] if ids else None
    store.close()
    return result, result.run_id


def outcome(result: Any) -> list[tuple[str, str, Any]]:
    return [(r.key, r.status, r.output) for r in result.trace.firings]


@pytest.mark.parametrize("flush_seconds", [store_module.FLUSH_SECONDS, 0.0])
def test_a_run_killed_before_any_statement_resumes_to_the_same_run(
    tmp_path, monkeypatch, flush_seconds
):
    # (0: a batch at every firing, so kills fall between batches too)
    monkeypatch.setattr(store_module, "FLUSH_SECONDS", flush_seconds)
    CountingModel.made = 0
    reference, _ = attempt(tmp_path / "reference.sqlite", None)
    calls = CountingModel.made
    assert calls == 8
    at, kept_before = 0, 0
    while True:
        path = tmp_path / f"killed-{at}.sqlite"
        CountingModel.made = 0
        died, run_id = attempt(path, at)
        if died is not None:  # (the run needs fewer statements: every point was tried)
            assert outcome(died) == outcome(reference)
            break
        if run_id is None:  # (killed before its row was committed: nothing to resume)
            assert at == 0
            at += 1
            continue
        kept = Store(path).checkpoints(run_id)  # (what the dead process had committed)
        if flush_seconds == 0:  # (a batch at every firing: a later death keeps no fewer)
            assert len(kept) >= kept_before, at
            kept_before = len(kept)
        resumed, _ = attempt(path, None, resume=run_id)
        replayed = {r.key for r in resumed.trace.firings if "replayed from a checkpoint" in r.notes}
        assert replayed == set(kept), at  # (from its last checkpoint: every one of them)
        assert resumed.result == reference.result, at
        assert outcome(resumed) == outcome(reference), at
        # a call is made again only if its reply was not committed when the process died
        assert calls <= CountingModel.made <= calls + 1, at
        with sqlite3.connect(path) as db:
            assert db.execute("SELECT COUNT(*) FROM calls").fetchone()[0] == calls, at
            assert db.execute("SELECT status FROM runs").fetchone()[0] == "returned", at
        at += 1
    assert at > 8 * 3  # (a reply and its call, at least, for each of the 8 calls)
    if flush_seconds == 0:
        assert kept_before == len([r for r in reference.trace.firings if r.status == "ok"])
