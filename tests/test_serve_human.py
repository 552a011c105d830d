"""Human questions in `rolegraph serve` (Starlette's TestClient): a run that pauses is
`waiting` with its questions, a refused answer is a 4xx diagnostic that changes nothing,
the last answer resumes the run to the result the CLI's `run` then `resume --answer`
gives, and its event stream goes on into the resumed attempt. The kill -9 test of a
waiting run is in tests/test_serve_restart.py."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the `serve` extra is not installed")
pytest.importorskip("sse_starlette", reason="the `serve` extra is not installed")

from starlette.testclient import TestClient

from rolegraph.serve.app import create_app
from rolegraph.serve.runner import RunOptions

from .conftest import ROOT
from .serving import sse_events, wait_for_end

EXAMPLES = ROOT / "examples"
REFUND = EXAMPLES / "refund_approval.agent"
#: a ticket the mock model classifies as a refund (its router's reply depends on it)
TICKET = {"ticket": "I was charged twice; please refund 40 EUR."}
GOOD = {"approved": True, "note": "a double charge"}
DECLINE = {"approved": False, "note": "no double charge found"}


@pytest.fixture
def client(tmp_path):
    app = create_app(EXAMPLES, tmp_path / "store.sqlite", RunOptions(model="mock"))
    with TestClient(app) as served:
        yield served


def wait_for_state(client: TestClient, run: str, states: tuple[str, ...]) -> dict:
    deadline = time.monotonic() + 60
    while True:
        data = client.get(f"/runs/{run}").json()
        if data["state"] in states:
            return data
        assert time.monotonic() < deadline, data
        time.sleep(0.02)


def start_waiting(client: TestClient) -> tuple[str, dict]:
    started = client.post("/agents/SupportDesk/runs", json=TICKET)
    assert started.status_code == 202, started.text
    run = started.json()["id"]
    return run, wait_for_state(client, run, ("waiting", "returned", "failed"))


def cli_answered(tmp: Path, answer: dict) -> tuple[dict, str, list]:
    """The CLI's path: `rolegraph run ... --store S` pauses; `rolegraph resume RUN
    --answer JSON --store S` finishes it. (The result, the question's text, the trace.)"""
    from typer.testing import CliRunner

    from rolegraph.cli import app

    store = tmp / f"cli-{answer['approved']}.sqlite"
    ran = CliRunner().invoke(
        app,
        [
            "run",
            str(REFUND),
            "--input",
            json.dumps(TICKET),
            "--model",
            "mock",
            *("--store", str(store)),
        ],
    )
    assert " paused: the run waits for an answer" in ran.output, ran.output
    from rolegraph.runtime import Store, pending_questions

    opened = Store(store)
    (question,) = pending_questions(opened)
    opened.close()
    trace = tmp / f"cli-{answer['approved']}.jsonl"
    resumed = CliRunner().invoke(
        app,
        [
            *("resume", question.run, "--answer", json.dumps(answer)),
            *("--store", str(store), "-q", "--trace", str(trace)),
        ],
    )
    assert resumed.exit_code == 0, resumed.output
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    return json.loads(resumed.stdout), question.text, lines


def test_a_run_that_pauses_is_waiting_with_its_question(client):
    run, data = start_waiting(client)
    assert data["state"] == "waiting"
    assert data["result"] is None and data["error"] is None
    (question,) = data["questions"]
    assert question["node"] == "approval" and question["step"] == "Approve"
    assert question["answered"] is None and question["deadline"] > question["asked"]
    assert question["schema"]["properties"].keys() == {"approved", "note"}
    listed = client.get(f"/runs/{run}/questions")
    assert listed.status_code == 200 and listed.json() == [question]
    assert data["links"]["questions"] == f"/runs/{run}/questions"
    assert [r["state"] for r in client.get("/runs").json() if r["id"] == run] == ["waiting"]
    # its trace so far: the router's firing and the approval's, paused
    trace = client.get(f"/runs/{run}/trace").json()
    assert [(t["node"], t["status"]) for t in trace[:-1]] == [
        ("router", "ok"),
        ("approval", "paused"),
    ]


@pytest.mark.parametrize("answer", [GOOD, DECLINE], ids=["approved", "declined"])
def test_an_answer_finishes_the_run_as_the_cli_resume_does(client, tmp_path, answer):
    expected, text, expected_trace = cli_answered(tmp_path, answer)
    run, data = start_waiting(client)
    (question,) = data["questions"]
    assert question["text"] == text
    answered = client.post(f"/runs/{run}/questions/{question['id']}", json=answer)
    assert answered.status_code == 200, answered.text
    body = answered.json()
    assert body["question"]["answer"] == answer and body["pending"] == []
    assert body["state"] in ("accepted", "running", "returned")
    done = wait_for_end(client.get, run)
    assert done["state"] == "returned", done
    assert done["result"] == expected
    assert done["attempts"] == 2 and done["questions"] == []
    trace = client.get(f"/runs/{run}/trace").json()
    assert [(t.get("node"), t.get("status")) for t in trace] == [
        (t.get("node"), t.get("status")) for t in expected_trace
    ]
    assert trace[-1]["result"] == expected_trace[-1]["result"] == expected
    assert client.get(f"/runs/{run}/questions").json() == []


def test_a_bad_answer_is_422_with_its_diagnostic_and_the_run_stays_waiting(client):
    run, data = start_waiting(client)
    (question,) = data["questions"]
    url = f"/runs/{run}/questions/{question['id']}"
    refused = client.post(url, json={"approved": "perhaps"})
    assert refused.status_code == 422, refused.text
    (diagnostic,) = refused.json()["diagnostics"]
    assert diagnostic["code"] == "E0421" and diagnostic["severity"] == "error"
    assert "does not fit `Approval`" in diagnostic["message"]
    assert "note: Field required" in diagnostic["message"]
    assert "error[E0421]" in diagnostic["rendered"]
    assert any('{"approved": true' in hint for hint in diagnostic["hints"])
    # nothing changed: still waiting, the same question pending, no second attempt
    after = client.get(f"/runs/{run}").json()
    assert after["state"] == "waiting" and after["attempts"] == 1
    assert after["questions"] == [question]
    # malformed JSON is serve's 400, at its line and column; not JSON at all is 415
    broken = client.post(
        url, content=b'{"approved": tru', headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400 and broken.json()["diagnostics"][0]["code"] == "E0900"
    plain = client.post(url, content=b"yes", headers={"content-type": "text/plain"})
    assert plain.status_code == 415
    assert client.get(f"/runs/{run}").json()["questions"] == [question]
    # and then a good answer still finishes it
    assert client.post(url, json=GOOD).status_code == 200
    assert wait_for_end(client.get, run)["state"] == "returned"


def test_unknown_runs_and_questions_are_404_and_a_second_answer_409(client):
    missing = client.get("/runs/nope/questions")
    assert missing.status_code == 404 and missing.json()["diagnostics"][0]["code"] == "E0906"
    assert client.post("/runs/nope/questions/q", json=GOOD).status_code == 404
    run, data = start_waiting(client)
    (question,) = data["questions"]
    unknown = client.post(f"/runs/{run}/questions/approval-00000000", json=GOOD)
    assert unknown.status_code == 404, unknown.text
    (diagnostic,) = unknown.json()["diagnostics"]
    assert diagnostic["code"] == "E0422" and question["id"] in diagnostic["message"]
    url = f"/runs/{run}/questions/{question['id']}"
    assert client.post(url, json=GOOD).status_code == 200
    wait_for_end(client.get, run)
    again = client.post(url, json=DECLINE)
    assert again.status_code == 409, again.text
    assert again.json()["diagnostics"][0]["code"] == "E0422"
    assert client.get(f"/runs/{run}").json()["result"]["text"]  # (the first answer's)


def test_the_event_stream_of_a_waiting_run_goes_on_into_the_resumed_run(client):
    run, data = start_waiting(client)
    (question,) = data["questions"]
    body: list[str] = []

    def read() -> None:
        with client.stream("GET", f"/runs/{run}/events") as response:
            for text in response.iter_text():
                body.append(text)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    # the stream is still open past the pause (some TestClient versions hand the body
    # over only when it ends, others as it comes: either way, no result yet)
    assert reader.is_alive()
    assert "event: result" not in "".join(body)
    assert client.post(f"/runs/{run}/questions/{question['id']}", json=GOOD).status_code == 200
    reader.join(60)
    assert not reader.is_alive()
    events = sse_events("".join(body))
    kinds = [e["kind"] for e in events]
    assert kinds.count("run_started") == 2  # the paused attempt, then the resumed one
    paused = kinds.index("paused")
    assert "question" in kinds[:paused]
    assert events[paused]["questions"][0]["id"] == question["id"]
    assert kinds[-1] == "result"
    assert events[-1]["result"] == wait_for_end(client.get, run)["result"]


def test_the_openapi_schema_has_the_question_routes_and_is_valid(client):
    validate = pytest.importorskip("openapi_spec_validator").validate

    schema = client.get("/openapi.json").json()
    validate(schema)
    assert "get" in schema["paths"]["/runs/{id}/questions"]
    post = schema["paths"]["/runs/{id}/questions/{qid}"]["post"]
    assert {"200", "404", "409", "422"} <= set(post["responses"])


TIMED = """\
type Approval { approved: bool }
type Out { text: str }

model m = "mock"

human Quick(task: str) -> Approval {
  prompt "Quick: {{ task }}?"
  deadline "1s"
}

role Writer(note: str) -> Out {
  model m
  prompt "{{ note }}"
}

agent Timed(task: str) -> Out {
  ok = Quick(task)
  yes = Writer("approved")
  late = Writer("nobody answered")
  ok -> yes when ok.approved
  ok -> late on error
  return yes
  return late
}
"""


def test_a_waiting_run_whose_deadline_passes_resumes_and_its_on_error_edge_routes_it(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "timed.agent").write_text(TIMED)
    app = create_app(folder, tmp_path / "store.sqlite", RunOptions(model="mock"))
    with TestClient(app) as client:
        started = client.post("/agents/Timed/runs", json={"task": "t"}).json()["id"]
        first = wait_for_state(client, started, ("waiting", "returned", "failed"))
        assert first["state"] == "waiting" and first["attempts"] == 1
        (question,) = first["questions"]
        # nobody answers: the server resumes it when the deadline passes
        done = wait_for_end(client.get, started)
        assert done["state"] == "returned" and done["attempts"] == 2
        trace = client.get(f"/runs/{started}/trace").json()
        statuses = {t["node"]: t["status"] for t in trace if "node" in t}
        assert statuses == {"ok": "failed", "late": "ok"}
        late = client.post(f"/runs/{started}/questions/{question['id']}", json={"approved": True})
        assert late.status_code == 409


BOTH = """\
type Approval { approved: bool }
type Out { text: str }

model m = "mock"

human Legal(task: str) -> Approval {
  prompt "Legal: may we {{ task }}?"
}

human Finance(task: str) -> Approval {
  prompt "Finance: may we {{ task }}?"
}

role Join(legal: Approval, finance: Approval) -> Out {
  model m
  prompt "legal {{ legal.approved }}, finance {{ finance.approved }}"
}

agent Both(task: str) -> Out {
  legal = Legal(task)
  finance = Finance(task)
  join = Join(legal, finance)
  return join
}
"""


def test_a_run_waiting_for_two_answers_resumes_at_the_second(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "both.agent").write_text(BOTH)
    app = create_app(folder, tmp_path / "store.sqlite", RunOptions(model="mock"))
    with TestClient(app) as client:
        run = client.post("/agents/Both/runs", json={"task": "ship it"}).json()["id"]
        data = wait_for_state(client, run, ("waiting", "returned", "failed"))
        assert sorted(q["step"] for q in data["questions"]) == ["Finance", "Legal"]
        first, second = data["questions"]
        one = client.post(f"/runs/{run}/questions/{first['id']}", json={"approved": True})
        assert one.status_code == 200
        assert one.json()["state"] == "waiting" and one.json()["pending"] == [second]
        assert client.get(f"/runs/{run}").json()["attempts"] == 1  # (not resumed yet)
        two = client.post(f"/runs/{run}/questions/{second['id']}", json={"approved": False})
        assert two.status_code == 200 and two.json()["pending"] == []
        done = wait_for_end(client.get, run)
        assert done["state"] == "returned" and done["attempts"] == 2
        trace = client.get(f"/runs/{run}/trace").json()
        outputs = {t["node"]: t["output"] for t in trace if "node" in t}
        assert outputs[first["node"]] == {"approved": True}
        assert outputs[second["node"]] == {"approved": False}


EARLY = """\
type Approval { approved: bool }
type Out { text: str }

model m = "mock"

human Ask(task: str) -> Approval {
  prompt "May we {{ task }}?"
}

role Writer(note: str) -> Out {
  model m
  prompt "{{ note }}"
}

role Both(approval: Approval, draft: Out) -> Out {
  model m
  prompt "{{ approval.approved }}: {{ draft.text }}"
}

agent Early(task: str) -> Out {
  ok = Ask(task)
  slow = Writer(task)
  slower = Writer(slow.text)
  done = Both(ok, slower)
  return done
}
"""


def test_a_question_asked_while_other_branches_run_can_be_answered_at_once(tmp_path):
    """The step parks and the writers go on; an answer given then is taken when the run
    pauses, and the run goes on to its result without waiting."""
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "early.agent").write_text(EARLY)
    app = create_app(folder, tmp_path / "store.sqlite", RunOptions(model="mock:latency=1.0"))
    with TestClient(app) as client:
        run = client.post("/agents/Early/runs", json={"task": "ship it"}).json()["id"]
        deadline = time.monotonic() + 30
        while not (data := client.get(f"/runs/{run}").json())["questions"]:
            assert time.monotonic() < deadline and data["state"] != "returned", data
            time.sleep(0.01)
        assert data["state"] == "running"  # (asked; the writers still run)
        (question,) = data["questions"]
        assert client.get(f"/runs/{run}/questions").json() == [question]
        answered = client.post(f"/runs/{run}/questions/{question['id']}", json={"approved": True})
        assert answered.status_code == 200 and answered.json()["pending"] == []
        done = wait_for_end(client.get, run)
        assert done["state"] == "returned" and done["questions"] == []
        trace = client.get(f"/runs/{run}/trace").json()
        outputs = {t["node"]: t["output"] for t in trace if "node" in t}
        assert outputs["ok"] == {"approved": True} and "done" in outputs
