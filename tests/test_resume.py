"""Kill -9 in the middle of a run, resume it: the same result, no model call repeated."""

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT

DEBATE = str(ROOT / "examples" / "debate.agent")
INPUT = json.dumps({"question": "Is P equal to NP?"})
ROLEGRAPH = Path(sys.executable).parent / "rolegraph"

pytestmark = pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed")


def calls(store: Path, run: str | None = None) -> int:
    try:
        with sqlite3.connect(store) as db:
            if run is None:
                return db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
            return db.execute("SELECT COUNT(*) FROM calls WHERE run = ?", (run,)).fetchone()[0]
    except sqlite3.OperationalError:  # the other process has not created the tables yet
        return 0


def test_a_killed_run_resumes_without_repeating_a_call(tmp_path):
    reference_store = tmp_path / "reference.sqlite"
    reference = subprocess.run(
        [
            ROLEGRAPH,
            "run",
            DEBATE,
            "--input",
            INPUT,
            "--model",
            "mock",
            "--store",
            reference_store,
            "-q",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    expected = json.loads(reference.stdout)
    assert calls(reference_store) == 7  # 3 openings, 3 rebuttals, 1 verdict

    store = tmp_path / "killed.sqlite"
    process = subprocess.Popen(
        [
            ROLEGRAPH,
            "run",
            DEBATE,
            "--input",
            INPUT,
            "--model",
            "mock:latency=0.4",
            "--store",
            store,
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if store.exists() and calls(store) >= 3:  # the openings are done
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    made_before = calls(store)
    assert 3 <= made_before < 7
    with sqlite3.connect(store) as db:
        ((run_id, status),) = db.execute("SELECT id, status FROM runs").fetchall()
    assert status == "running"

    resumed = subprocess.run(
        [ROLEGRAPH, "run", DEBATE, "--store", store, "--resume", run_id, "-q"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(resumed.stdout) == expected
    assert calls(store, run_id) == 7  # every call made exactly once, across both processes
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT status FROM runs").fetchone()[0] == "returned"


def test_resume_refuses_a_changed_agent(tmp_path):
    agent = tmp_path / "a.agent"
    agent.write_text(Path(DEBATE).read_text())
    store = tmp_path / "s.sqlite"
    subprocess.run(
        [ROLEGRAPH, "run", agent, "--input", INPUT, "--model", "mock", "--store", store, "-q"],
        check=True,
        capture_output=True,
    )
    with sqlite3.connect(store) as db:
        ((run_id,),) = db.execute("SELECT id FROM runs").fetchall()
    agent.write_text(agent.read_text().replace("temperature: 0.7", "temperature: 0.9"))
    resumed = subprocess.run(
        [ROLEGRAPH, "run", agent, "--store", store, "--resume", run_id],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 1
    assert "cannot be resumed" in resumed.stderr


def test_the_cache_answers_a_repeated_request(tmp_path):
    import asyncio

    import rolegraph
    from rolegraph.runtime import MockModel, Store, run_agent

    ir = rolegraph.load_agent(DEBATE)
    store = Store(tmp_path / "s.sqlite")
    model = MockModel()
    first = asyncio.run(run_agent(ir, {"question": "q"}, model=model, store=store))
    second = asyncio.run(run_agent(ir, {"question": "q"}, model=model, store=store))
    assert first.result == second.result
    assert len(model.calls) == 7  # the second run was answered from the cache


def test_checkpoints_are_written_in_batches_and_read_back_by_key(tmp_path):
    from rolegraph.runtime import Store
    from rolegraph.runtime import store as store_module

    store = Store(tmp_path / "batches.sqlite")
    run = store.new_run("a.agent", "fp", "A", {"x": 1}, "mock")
    other = store.new_run("a.agent", "fp", "A", {"x": 2}, "mock")
    for index in range(store_module.BATCH + 10):  # two batches at least
        store.checkpoint(run, f"k{index}", "n", index, "ok", {"i": index}, None)
    store.checkpoint(run, "k0", "n", 0, "ok", {"i": "again"}, None)  # a later one wins
    store.checkpoint(run, "bad", "n", 1, "failed", None, "ValueError: no")
    store.checkpoint(other, "k0", "n", 0, "ok", 7, None)
    store.close()

    reopened = Store(tmp_path / "batches.sqlite")
    found = reopened.checkpoints(run)
    assert len(found) == store_module.BATCH + 10
    assert found["k0"] == {"i": "again"} and found["k5"] == {"i": 5}
    assert "bad" not in found  # failed firings run again
    assert reopened.checkpoints(other) == {"k0": 7}
    with sqlite3.connect(tmp_path / "batches.sqlite") as db:
        rows = db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]
    assert rows < 10  # one row per batch, not per firing
