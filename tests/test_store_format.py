"""The store records its format (`PRAGMA user_version`) and each run the format it was
written in: a store of an older format is migrated when opened (a pure addition, in one
transaction), its runs resume as before; a run this version cannot resume is refused
with a store error; a store of a newer format is refused, untouched (runtime/store.py)."""

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.runtime import MockModel, Store, run_agent
from rolegraph.runtime import store as store_module
from rolegraph.runtime.errors import StoreError
from rolegraph.runtime.keys import label

from .conftest import ROOT

AGENT = ROOT / "examples" / "reflexion.agent"  # (8 firings on the mock, a loop)
INPUTS = {"task": "x"}

#: The store's tables exactly as main at 542edfa (format 0, no version written) made them.
SCHEMA_542EDFA = """
CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created REAL);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, file TEXT, fingerprint TEXT, agent TEXT, inputs TEXT, model TEXT,
    status TEXT, result TEXT, created REAL, updated REAL,
    spent_calls INTEGER DEFAULT 0, spent_tokens INTEGER DEFAULT 0, spent_cost REAL DEFAULT 0,
    budget TEXT);
CREATE TABLE IF NOT EXISTS checkpoints (run TEXT NOT NULL, firings TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS checkpoints_of_run ON checkpoints (run);
CREATE TABLE IF NOT EXISTS calls (run TEXT, node TEXT, request TEXT, created REAL);
CREATE TABLE IF NOT EXISTS questions (
    run TEXT NOT NULL, id TEXT NOT NULL, node TEXT, step TEXT, text TEXT, type TEXT,
    asked REAL, deadline REAL, answer TEXT, answered REAL, PRIMARY KEY (run, id));
"""
#: Before runs kept what they spent (an older format 0 still): `runs` without those columns.
SCHEMA_BEFORE_SPENT = SCHEMA_542EDFA.replace(
    """,
    spent_calls INTEGER DEFAULT 0, spent_tokens INTEGER DEFAULT 0, spent_cost REAL DEFAULT 0,
    budget TEXT);""",
    ");",
)
OLD_RUN = "0123456789ab"


def run(store: Store | None, resume: str | None = None) -> Any:
    ir = rolegraph.load_agent(AGENT)
    return asyncio.run(run_agent(ir, INPUTS, model=MockModel(), store=store, resume=resume))


def old_store(path: Path, schema: str, checkpointed: list[Any]) -> None:
    """A store as 542edfa wrote it, holding run `OLD_RUN` killed after the firings
    `checkpointed` (one batch of `[key, node, time, status, output, error]` rows)."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
        db.execute(
            "INSERT INTO runs (id, file, fingerprint, agent, inputs, model, status, result, "
            "created, updated) VALUES (?, '', '', 'Reflexion', ?, 'MockModel', 'running', "
            "NULL, 0, 0)",
            (OLD_RUN, json.dumps(INPUTS)),
        )
        rows = [[r.key, r.node, r.time, r.status, r.output, r.error] for r in checkpointed]
        db.execute(
            "INSERT INTO checkpoints VALUES (?, ?)", (OLD_RUN, json.dumps(rows, default=str))
        )
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0


def format_of(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("PRAGMA user_version").fetchone()[0])


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


def resumes_as_never_killed(store: Store, kept: list, fresh: Any) -> None:
    """The run `OLD_RUN`, killed with `kept` checkpointed, read back and resumed: its
    checkpoints are those kept, they are replayed, and the run ends as `fresh`, the same
    run never killed (result, and each firing's key, status and output, in order)."""
    assert store.checkpoints(OLD_RUN) == {r.key: r.output for r in kept}
    resumed = run(store, resume=OLD_RUN)
    assert resumed.result == fresh.result
    replayed = [r.key for r in resumed.trace.firings if "replayed from a checkpoint" in r.notes]
    assert replayed == [r.key for r in kept]
    assert [(r.key, r.status, r.output) for r in resumed.trace.firings] == [
        (r.key, r.status, r.output) for r in fresh.trace.firings
    ]


def test_a_new_store_records_its_format_and_each_run_its_own(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = run(store).run_id
    info = store.run_info(run_id)
    store.close()
    assert format_of(tmp_path / "s.sqlite") == store_module.FORMAT
    assert info is not None and info.format == store_module.FORMAT
    assert Store(tmp_path / "s.sqlite").run_info(run_id) == info  # (reopened: the same)


@pytest.mark.parametrize("schema", [SCHEMA_542EDFA, SCHEMA_BEFORE_SPENT])
def test_an_old_store_is_migrated_and_its_killed_run_resumes_from_its_checkpoints(tmp_path, schema):
    fresh = run(None)
    ok = [r for r in fresh.trace.firings if r.status == "ok"]
    assert len(ok) >= 4
    kept = ok[: len(ok) // 2]
    path = tmp_path / "old.sqlite"
    old_store(path, schema, kept)

    store = Store(path)  # (migrated: the format, and the columns each format added)
    assert format_of(path) == store_module.FORMAT
    assert {"spent_calls", "budget", "format"} <= set(columns(path, "runs"))
    info = store.run_info(OLD_RUN)
    assert info is not None and info.format == 0  # (written before formats)
    resumes_as_never_killed(store, kept, fresh)
    # the old batch and the new ones read back together, under the same keys
    assert store.checkpoints(OLD_RUN) == {r.key: r.output for r in ok}
    assert store.run_info(OLD_RUN).status == "returned"  # type: ignore[union-attr]
    store.close()


def test_migrating_is_one_transaction_a_failure_leaves_the_old_store(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite"
    old_store(path, SCHEMA_542EDFA, [])
    real_connect = sqlite3.connect

    class FailsSettingTheFormat:
        def __init__(self, real: sqlite3.Connection):
            self.real = real

        def execute(self, sql: str, *args: Any) -> Any:
            if sql.startswith("PRAGMA user_version ="):
                raise sqlite3.OperationalError("disk I/O error")
            return self.real.execute(sql, *args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.real, name)

    monkeypatch.setattr(
        "rolegraph.runtime.store.sqlite3.connect",
        lambda *a, **k: FailsSettingTheFormat(real_connect(*a, **k)),
    )
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "failed"
    monkeypatch.undo()
    assert format_of(path) == 0
    assert "format" not in columns(path, "runs")  # (the column added is rolled back too)
    assert Store(path).checkpoints(OLD_RUN) == {}  # (and it migrates the next time)
    assert format_of(path) == store_module.FORMAT


def test_two_stores_open_an_old_one_and_migrate_it_once(tmp_path):
    path = tmp_path / "old.sqlite"
    old_store(path, SCHEMA_542EDFA, [])
    first, second = Store(path), Store(path)
    assert columns(path, "runs").count("format") == 1
    assert first.run_info(OLD_RUN) == second.run_info(OLD_RUN)


def test_a_run_of_a_format_this_version_cannot_resume_is_refused(tmp_path, monkeypatch):
    fresh = run(None)
    path = tmp_path / "old.sqlite"
    old_store(path, SCHEMA_542EDFA, [r for r in fresh.trace.firings if r.status == "ok"][:2])
    # (as a version whose firing keys changed in format 1 would see it)
    monkeypatch.setattr(store_module, "RESUMES_FROM", 1)
    store = Store(path)
    with pytest.raises(StoreError) as caught:
        run(store, resume=OLD_RUN)
    error = caught.value
    assert error.kind == "older"
    message = str(error)
    assert "\n" not in message
    assert f"run {OLD_RUN} was written by an older rolegraph, in store format 0" in message
    assert "run the agent again with its inputs" in message
    assert store.calls() == 0  # (refused before any firing)
    # a run of this format still resumes
    assert run(store).result == fresh.result


def test_the_cli_refuses_an_older_run_in_one_line(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    args = ["run", str(AGENT), "--input", json.dumps(INPUTS), "--model", "mock"]
    made = CliRunner().invoke(app, [*args, "--store", str(path)])
    assert made.exit_code == 0, made.output
    with sqlite3.connect(path) as db:
        ((run_id,),) = db.execute("SELECT id FROM runs").fetchall()
        db.execute("UPDATE runs SET format = NULL")  # (as a run written before formats)
    monkeypatch.setattr(store_module, "RESUMES_FROM", 1)
    result = CliRunner().invoke(app, [*args, "--store", str(path), "--resume", run_id])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert f"run {run_id} was written by an older rolegraph" in errors[0]


def test_a_store_of_a_newer_format_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.sqlite"
    newer = store_module.FORMAT + 1
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, shape TEXT)")
        db.execute(f"PRAGMA user_version = {newer}")
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        Store(path)
    error = caught.value
    assert error.kind == "newer"
    assert f"written by a newer rolegraph, in store format {newer}" in str(error)
    assert f"reads formats up to {store_module.FORMAT}" in str(error)
    assert "use that version of rolegraph" in str(error)
    assert path.read_bytes() == before  # (no table made, no journal mode changed)


def test_the_cli_refuses_a_newer_store_as_a_usage_error(tmp_path):
    path = tmp_path / "newer.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {store_module.FORMAT + 1}")
    result = CliRunner().invoke(
        app,
        ["run", str(AGENT), "--input", json.dumps(INPUTS), "--model", "mock", "--store", path],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: cannot open the store {path}: it was written by a newer rolegraph, in store "
        f"format {store_module.FORMAT + 1}, and this version reads formats up to "
        f"{store_module.FORMAT}"
    ], result.output


def test_a_run_whose_format_does_not_read_back_is_a_damaged_store(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = run(store).run_id
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE runs SET format = 'two'")
    for read in (store.run_info, store.checkpoints):
        with pytest.raises(StoreError) as caught:
            read(run_id)
        assert caught.value.kind == "damaged"
        assert "a row of `runs` does not read back" in str(caught.value)


def format_2_store(path: Path, checkpointed: list[Any]) -> None:
    """A store as main at 87c4cad (format 2) wrote it, holding run `OLD_RUN` killed after
    the firings `checkpointed`, in two batches: each a JSON object from key to output."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(store_module.SCHEMA)  # (no table changed since)
        db.execute(
            "INSERT INTO runs (id, file, fingerprint, agent, inputs, model, status, result, "
            "created, updated, budget, format) VALUES (?, '', '', 'Reflexion', ?, "
            "'MockModel', 'running', NULL, 0, 0, NULL, 2)",
            (OLD_RUN, json.dumps(INPUTS)),
        )
        half = len(checkpointed) // 2
        for batch in (checkpointed[:half], checkpointed[half:]):
            row = json.dumps({r.key: r.output for r in batch}, default=str)
            db.execute("INSERT INTO checkpoints VALUES (?, ?)", (OLD_RUN, row))
        db.execute("PRAGMA user_version = 2")


def test_a_format_2_store_is_migrated_and_its_killed_run_resumes_beside_new_rows(tmp_path):
    fresh = run(None)  # (the oracle: the same run, never interrupted)
    ok = [r for r in fresh.trace.firings if r.status == "ok"]
    kept = ok[: len(ok) // 2]
    path = tmp_path / "two.sqlite"
    format_2_store(path, kept)

    store = Store(path)
    assert format_of(path) == store_module.FORMAT == 3
    info = store.run_info(OLD_RUN)
    assert info is not None and info.format == 2
    resumes_as_never_killed(store, kept, fresh)
    store.close()
    with sqlite3.connect(path) as db:
        rows = [row for (row,) in db.execute("SELECT firings FROM checkpoints ORDER BY rowid")]
    assert ["\n" in row for row in rows] == [False, False, True]  # (two old rows, one new)
    assert Store(path).checkpoints(OLD_RUN) == {r.key: r.output for r in ok}


def test_a_checkpoint_row_holds_its_keys_a_line_each_then_their_outputs(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "FLUSH_SECONDS", 3600.0)  # (one batch: the run's end)
    store = Store(tmp_path / "s.sqlite")
    done = run(store)
    store.close()
    ok = [r for r in done.trace.firings if r.status == "ok"]
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        ((row,),) = db.execute("SELECT firings FROM checkpoints").fetchall()
    *keys, outputs = row.split("\n")
    assert keys == [r.key for r in ok]  # (each as the trace writes it, in completed order)
    assert outputs == json.dumps([r.output for r in ok], default=str)


@given(st.text(), st.integers(min_value=0), st.text(alphabet="0123456789abcdef"))
@settings(max_examples=200, derandomize=True)
def test_no_key_holds_a_line_break(name: str, time: int, digest: str) -> None:
    """What makes a row's lines its keys (`store._row`): a label is `repr` of the key,
    which escapes a line break in the node's name (or anywhere), whatever the name."""
    made = label((time, name, digest), repr(name))
    assert made == repr((time, name, digest)) and "\n" not in made and "\r" not in made


def test_a_row_whose_keys_and_outputs_do_not_pair_is_a_damaged_store(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    run_id = run(store).run_id
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE checkpoints SET firings = firings || ?", ("\n[1]",))
    with pytest.raises(StoreError) as caught:
        store.checkpoints(run_id)
    assert caught.value.kind == "damaged"
    assert "a row of `checkpoints` does not read back" in str(caught.value)
