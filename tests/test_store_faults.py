"""A damaged or full store is a store error — what happened, what was kept, what to do —
never a traceback, and never a node's failure (issue 12)."""

import asyncio
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.runtime import FiringFailed, MockModel, RunError, Store, run_agent
from rolegraph.runtime.errors import StoreError
from rolegraph.search import SearchStore
from rolegraph.search.store import RunRecord

from .conftest import ROOT

SELF_REFINE = ROOT / "examples" / "self_refine.agent"
INPUTS = {"task": "Explain recursion."}
FULL = sqlite3.OperationalError("database or disk is full")


class FaultyConnection:
    """A SQLite connection whose statements that `fails` picks raise `error` (a full disk
    fails a write this way); every other statement goes to the real connection."""

    def __init__(self, real: sqlite3.Connection, fails: Callable[[str], bool], error: Exception):
        self.real = real
        self.fails = fails
        self.error = error

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fails(sql):
            raise self.error
        return self.real.execute(sql, *args)

    def executemany(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fails(sql):
            raise self.error
        return self.real.executemany(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def fail_on(prefix: str) -> Callable[[str], bool]:
    return lambda sql: sql.lstrip().upper().startswith(prefix.upper())


def run(store: Store, resume: str | None = None):
    ir = rolegraph.load_agent(SELF_REFINE)
    return asyncio.run(run_agent(ir, INPUTS, model=MockModel(), store=store, resume=resume))


def stored_run(path: Path) -> str:
    """A store at `path` holding one finished run; its id."""
    store = Store(path)
    run_id = run(store).run_id
    store.close()
    assert run_id is not None
    return run_id


def damage(path: Path, sql: str) -> None:
    with sqlite3.connect(path) as db:
        db.execute(sql)


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def assert_one_error_line(output: str) -> str:
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert "failed:" not in errors[0]  # (not a node's failure)
    return errors[0]


# -- a full disk -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement", ["INSERT OR REPLACE INTO responses", "INSERT INTO checkpoints", "UPDATE runs"]
)
def test_a_full_disk_mid_run_is_a_store_error_not_a_failed_node(tmp_path, statement):
    store = Store(tmp_path / "s.sqlite")
    store._db = FaultyConnection(store._db, fail_on(statement), FULL)
    with pytest.raises(StoreError) as caught:
        run(store)
    assert not isinstance(caught.value, FiringFailed)
    assert "is full" in str(caught.value)


def test_a_full_disk_says_what_was_kept_and_how_to_resume(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store._db = FaultyConnection(store._db, fail_on("INSERT INTO checkpoints"), FULL)
    with pytest.raises(StoreError) as caught:
        run(store)
    message = str(caught.value)
    run_id = caught.value.run_id
    assert run_id is not None
    assert "kept" in message
    assert f"--resume {run_id}" in message
    assert "\n" not in message


def test_the_cli_reports_a_full_disk_in_one_line_and_exits_1(tmp_path, monkeypatch):
    real_connect = sqlite3.connect

    def connect(*args: Any, **kwargs: Any) -> FaultyConnection:
        return FaultyConnection(real_connect(*args, **kwargs), fail_on("INSERT OR REPLACE"), FULL)

    monkeypatch.setattr("rolegraph.runtime.store.sqlite3.connect", connect)
    result = cli(
        "run", SELF_REFINE, "--input", json.dumps(INPUTS), "--model", "mock",
        "--store", tmp_path / "s.sqlite", "-q",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    line = assert_one_error_line(result.output)
    assert "is full" in line


def test_save_reply_writes_its_two_rows_in_one_transaction(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    store._db = FaultyConnection(store._db, fail_on("INSERT INTO calls"), FULL)
    with pytest.raises(StoreError):
        run(store)
    store._db = store._db.real
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        responses = db.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
        calls = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    assert responses == calls == 0  # the reply whose call was not recorded was not kept


def test_a_store_write_that_failed_leaves_no_transaction_open(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    faulty = FaultyConnection(store._db, fail_on("INSERT INTO calls"), FULL)
    store._db = faulty
    with pytest.raises(StoreError):
        run(store)
    assert not faulty.real.in_transaction
    store._db = faulty.real
    assert run(store).result is not None  # the store works again once there is room


# -- a damaged file ---------------------------------------------------------------------------


def test_random_bytes_in_the_store_file_are_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert "damaged" in str(caught.value)


def test_random_bytes_over_a_stored_run_are_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite"
    run_id = stored_run(path)
    data = bytearray(path.read_bytes())
    data[100:] = os.urandom(len(data) - 100)  # the header survives, the pages do not
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError):
        run(Store(path), resume=run_id)


def test_a_truncated_store_is_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite"
    run_id = stored_run(path)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)
    with pytest.raises(StoreError) as caught:
        run(Store(path), resume=run_id)
    assert "damaged" in str(caught.value)


def test_a_broken_reply_in_the_cache_is_a_store_error_not_a_failed_node(tmp_path):
    path = tmp_path / "s.sqlite"
    stored_run(path)
    damage(path, "UPDATE responses SET reply = '{not json'")
    with pytest.raises(StoreError) as caught:
        run(Store(path))  # the same run again: the cache answers, from broken rows
    assert not isinstance(caught.value, FiringFailed)
    assert "responses" in str(caught.value)


def test_a_broken_checkpoint_is_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite"
    run_id = stored_run(path)
    damage(path, "UPDATE checkpoints SET firings = '[[1, 2]'")
    with pytest.raises(StoreError) as caught:
        run(Store(path), resume=run_id)
    assert "checkpoints" in str(caught.value)


def test_a_broken_run_row_is_a_store_error(tmp_path):
    path = tmp_path / "s.sqlite"
    run_id = stored_run(path)
    damage(path, "UPDATE runs SET inputs = 'nope'")
    with pytest.raises(StoreError) as caught:
        Store(path).run_info(run_id)
    assert "runs" in str(caught.value)


def test_the_cli_reports_a_broken_run_row_in_one_line_and_exits_1(tmp_path):
    path = tmp_path / "s.sqlite"
    run_id = stored_run(path)
    damage(path, "UPDATE runs SET inputs = 'nope'")
    result = cli("run", SELF_REFINE, "--store", path, "--resume", run_id, "-q")
    assert result.exit_code == 1, result.output
    line = assert_one_error_line(result.output)
    assert "damaged" in line


def test_the_cli_reports_a_broken_cache_in_one_line_and_exits_1(tmp_path):
    path = tmp_path / "s.sqlite"
    args = ("run", SELF_REFINE, "--input", json.dumps(INPUTS), "--model", "mock", "--store", path)
    assert cli(*args).exit_code == 0
    damage(path, "UPDATE responses SET reply = '[]'")
    result = cli(*args)  # the same run again: the cache answers, from broken rows
    assert result.exit_code == 1, result.output
    assert "damaged" in assert_one_error_line(result.output)


def test_a_store_error_is_a_run_error():
    assert issubclass(StoreError, RunError)


# -- the search's store ---------------------------------------------------------------------

KEY = ("fingerprint", "Agent", "example", 0, "mock")


def test_a_broken_search_run_row_is_a_store_error(tmp_path):
    path = tmp_path / "search.sqlite"
    store = SearchStore(path)
    store.put_run(KEY, RunRecord({"a": 1}, None, 1, 2, 0.0))
    store.close()
    damage(path, "UPDATE runs SET result = '{'")
    with pytest.raises(StoreError) as caught:
        SearchStore(path).run(KEY)
    assert "damaged" in str(caught.value)


def test_a_full_disk_under_a_search_is_a_store_error(tmp_path):
    store = SearchStore(tmp_path / "search.sqlite")
    store._db = FaultyConnection(store._db, fail_on("INSERT"), FULL)
    with pytest.raises(StoreError) as caught:
        store.put_run(KEY, RunRecord(1, None, 1, 2, 0.0))
    assert "is full" in str(caught.value)


def test_random_bytes_in_a_search_store_are_a_store_error(tmp_path):
    path = tmp_path / "search.sqlite"
    path.write_bytes(os.urandom(8192))
    with pytest.raises(StoreError):
        SearchStore(path)


def test_the_cli_reports_a_damaged_search_store_in_one_line_and_exits_1(tmp_path):
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": INPUTS, "expected": "x"}) + "\n")
    path = tmp_path / "search.sqlite"
    args = ("search", SELF_REFINE, "--data", data, "-n", "1", "--store", path, "-q")
    assert cli(*args).exit_code == 0
    damage(path, "UPDATE runs SET result = '{'")
    result = cli(*args)
    assert result.exit_code == 1, result.output
    assert "damaged" in assert_one_error_line(result.output)
