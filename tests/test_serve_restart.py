"""Kill -9 the server while it runs agents, start it again on the same store: every run
it accepted finishes, with the result of the same run from the CLI, and no completed
model call is paid for twice. A real uvicorn process, over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import ROOT
from .serving import ROLEGRAPH, cli_run, server, sse_events, wait_for_end

pytest.importorskip("uvicorn", reason="the `serve` extra is not installed")
httpx = pytest.importorskip("httpx", reason="httpx is not installed")

EXAMPLES = ROOT / "examples"

pytestmark = [
    pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed"),
    pytest.mark.slow,  # a real server process per test, killed and started again
]


def store_rows(store: Path, sql: str, args: tuple = ()) -> list[tuple]:
    with sqlite3.connect(store, timeout=30) as db:
        return db.execute(sql, args).fetchall()


RUNS = [("SelfRefine", "task", f"Task {n}.") for n in range(5)] + [
    ("PlanAndExecute", "task", f"Plan {n}.") for n in range(5)
]
FILES = {"SelfRefine": "self_refine.agent", "PlanAndExecute": "plan_execute.agent"}


def test_every_accepted_run_finishes_after_the_server_is_killed(tmp_path):
    store = tmp_path / "store.sqlite"
    accepted: dict[str, tuple[str, dict]] = {}
    with server(EXAMPLES, store, "mock:latency=0.15") as (process, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            for agent, name, value in RUNS[:-1]:
                answer = client.post(f"/agents/{agent}/runs", json={name: value})
                assert answer.status_code == 202, answer.text
                accepted[answer.json()["id"]] = (agent, {name: value})
            deadline = time.monotonic() + 30
            while store_rows(store, "SELECT COUNT(*) FROM calls")[0][0] < 6:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            agent, name, value = RUNS[-1]
            answer = client.post(f"/agents/{agent}/runs", json={name: value})
            assert answer.status_code == 202
            accepted[answer.json()["id"]] = (agent, {name: value})
        os.kill(process.pid, signal.SIGKILL)  # (right after the last 202)
        process.wait()
    started = dict(store_rows(store, "SELECT id, attempts FROM serve_runs"))
    unfinished = {
        run for (run,) in store_rows(store, "SELECT id FROM serve_runs WHERE state = 'accepted'")
    }
    assert unfinished, "the kill came after every run had ended: nothing was tested"
    assert set(accepted) >= unfinished
    assert len(store_rows(store, "SELECT id FROM serve_runs")) == len(accepted)

    # (started with another --model: a run keeps the model it was accepted with, so its
    # calls made before the kill are found in the cache, not paid for again)
    with (
        server(EXAMPLES, store, "mock") as (_process, url),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        for run, (agent, inputs) in accepted.items():
            data = wait_for_end(client.get, run)
            expected_result, expected_trace = cli_run(EXAMPLES / FILES[agent], inputs, tmp_path)
            assert data["state"] == "returned", data
            assert data["result"] == expected_result, (run, agent)
            # (a run accepted but not yet started at the kill had no attempt before it)
            assert data["attempts"] == started[run] + (1 if run in unfinished else 0)
            assert data["attempts"] >= 1
            trace = client.get(f"/runs/{run}/trace").json()
            shape = sorted(
                (t["time"], t["node"], t["status"], json.dumps(t["output"], sort_keys=True))
                for t in trace
                if "event" not in t and t["depth"] == 0 and t["status"] in ("ok", "failed")
            )
            expected = sorted(
                (t["time"], t["node"], t["status"], json.dumps(t["output"], sort_keys=True))
                for t in expected_trace
                if "event" not in t and t["depth"] == 0 and t["status"] in ("ok", "failed")
            )
            assert shape == expected, run
            # every completed call was paid for once: the calls the store counts for the
            # run (one row per reply received) are those of an uninterrupted run
            paid = store_rows(store, "SELECT COUNT(*) FROM calls WHERE run = ?", (run,))[0][0]
            assert paid == expected_trace[-1]["calls"], run
            events = sse_events(client.get(f"/runs/{run}/events").text)
            assert events[-1]["kind"] == "result" and events[-1]["result"] == expected_result


def test_a_run_accepted_and_killed_at_once_is_resumable_from_the_cli(tmp_path):
    """The server's runs are the store's: `rolegraph run --resume ID` finishes one too."""
    store = tmp_path / "store.sqlite"
    with server(EXAMPLES, store, "mock:latency=0.3") as (process, url):
        answer = httpx.post(f"{url}/agents/SelfRefine/runs", json={"task": "t"}, timeout=30)
        assert answer.status_code == 202
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    run = answer.json()["id"]
    from typer.testing import CliRunner

    from rolegraph.cli import app

    resumed = CliRunner().invoke(
        app,
        [
            "run",
            str(EXAMPLES / "self_refine.agent"),
            "--resume",
            run,
            "--store",
            str(store),
            "-q",
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    expected, _ = cli_run(EXAMPLES / "self_refine.agent", {"task": "t"}, tmp_path)
    assert json.loads(resumed.stdout) == expected


def test_ui_serves_one_file_and_names_the_page_of_its_last_agent(tmp_path):
    log = (tmp_path / "ui.log").open("w+")
    process = subprocess.Popen(
        [
            ROLEGRAPH,
            "ui",
            str(EXAMPLES / "self_refine.agent"),
            "--no-open",
            "--store",
            str(tmp_path / "store.sqlite"),
        ],
        stderr=log,
    )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"on (http://\S+?)/(#\S*) ", Path(log.name).read_text())):
            assert time.monotonic() < deadline and process.poll() is None, Path(
                log.name
            ).read_text()
            time.sleep(0.05)
        url, page = found.groups()
        assert page == "#/agent/SelfRefine"
        for _ in range(600):
            try:
                agents = httpx.get(f"{url}/agents", timeout=5).json()
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert [a["name"] for a in agents] == ["SelfRefine"]  # the one file only
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def test_a_server_on_loopback_refuses_other_host_names(tmp_path):
    """A page of another site that rebinds its DNS name to 127.0.0.1 reaches the server
    with its own name in `Host`: refused."""
    with server(EXAMPLES, tmp_path / "store.sqlite", "mock") as (_process, url):
        port = url.rsplit(":", 1)[1]
        assert httpx.get(f"{url}/agents", headers={"host": f"localhost:{port}"}).status_code == 200
        refused = httpx.post(
            f"{url}/agents/SelfRefine/runs",
            json={"task": "t"},
            headers={"host": f"attacker.example:{port}"},
        )
        assert refused.status_code == 400
        assert httpx.get(f"{url}/runs").json() == []


REFUND_TICKET = {"ticket": "I was charged twice; please refund 40 EUR."}


def _cli_answered(tmp: Path, answer: dict) -> dict:
    """The result of `rolegraph run` (it pauses) then `rolegraph resume --answer`."""
    store = tmp / "cli.sqlite"
    file = EXAMPLES / "refund_approval.agent"
    ran = subprocess.run(
        [
            ROLEGRAPH,
            "run",
            str(file),
            "-i",
            json.dumps(REFUND_TICKET),
            "--model",
            "mock",
            "--store",
            str(store),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    found = re.search(r"run (\w+) paused", ran.stdout + ran.stderr)
    assert found, ran.stdout + ran.stderr
    resumed = subprocess.run(
        [
            ROLEGRAPH,
            "resume",
            found.group(1),
            "--answer",
            json.dumps(answer),
            "--store",
            str(store),
            "-q",
        ],
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    return json.loads(resumed.stdout)


def _wait_state(client: httpx.Client, run: str, states: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + 60
    while (data := client.get(f"/runs/{run}").json())["state"] not in states:
        assert time.monotonic() < deadline, data
        time.sleep(0.05)
    return data


def test_a_waiting_run_stays_waiting_after_a_kill_and_is_answered_after_the_restart(tmp_path):
    store = tmp_path / "store.sqlite"
    answer = {"approved": True, "note": "a double charge"}
    with server(EXAMPLES, store, "mock") as (process, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            started = client.post("/agents/SupportDesk/runs", json=REFUND_TICKET)
            assert started.status_code == 202
            run = started.json()["id"]
            before = _wait_state(client, run, ("waiting", "returned", "failed"))
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert before["state"] == "waiting"
    (question,) = before["questions"]
    calls = store_rows(store, "SELECT COUNT(*) FROM calls")[0][0]
    with (
        server(EXAMPLES, store, "mock") as (_, url),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        time.sleep(0.5)  # (a server that resumed it would have run it by now)
        after = client.get(f"/runs/{run}").json()
        assert after["state"] == "waiting" and after["attempts"] == 1
        assert after["questions"] == [question]
        assert store_rows(store, "SELECT COUNT(*) FROM calls")[0][0] == calls
        bad = client.post(f"/runs/{run}/questions/{question['id']}", json={"approved": 1.5})
        assert bad.status_code == 422
        good = client.post(f"/runs/{run}/questions/{question['id']}", json=answer)
        assert good.status_code == 200, good.text
        done = wait_for_end(client.get, run)
    assert done["state"] == "returned" and done["attempts"] == 2
    assert done["result"] == _cli_answered(tmp_path, answer)


def test_a_run_answered_while_the_server_was_down_resumes_at_start_up(tmp_path):
    """The answer was stored (by the CLI, or just before a kill) but the run was not
    resumed: the server resumes it when it starts, as it does an unfinished run."""
    from rolegraph.runtime import Store, answer_question, pending_questions

    store = tmp_path / "store.sqlite"
    answer = {"approved": False, "note": "no double charge found"}
    with server(EXAMPLES, store, "mock") as (process, url):
        with httpx.Client(base_url=url, timeout=30) as client:
            run = client.post("/agents/SupportDesk/runs", json=REFUND_TICKET).json()["id"]
            assert _wait_state(client, run, ("waiting", "returned", "failed"))["state"] == "waiting"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    opened = Store(store)
    (question,) = pending_questions(opened, run)
    answer_question(opened, run, question.id, answer)
    opened.close()
    with (
        server(EXAMPLES, store, "mock") as (_, url),
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        done = wait_for_end(client.get, run)
        events = sse_events(client.get(f"/runs/{run}/events").text)
    assert done["state"] == "returned" and done["attempts"] == 2
    assert done["result"] == _cli_answered(tmp_path, answer)
    assert [e["kind"] for e in events][-1] == "result"
