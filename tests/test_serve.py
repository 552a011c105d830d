"""`rolegraph serve` over HTTP (Starlette's TestClient): the OpenAPI schema, runs equal to
the CLI's, events equal to the trace, diagnostics for bad requests, and runs accepted
before a restart resumed at start-up. The kill -9 test is tests/test_serve_restart.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette", reason="the `serve` extra is not installed")
pytest.importorskip("sse_starlette", reason="the `serve` extra is not installed")

from starlette.testclient import TestClient

from rolegraph.serve.app import create_app
from rolegraph.serve.journal import Journal
from rolegraph.serve.runner import RunOptions

from .conftest import ROOT
from .serving import cli_run, fold_trace, sse_events, untimed, wait_for_end

EXAMPLES = ROOT / "examples"
JSON = {"content-type": "application/json"}

TYPED = """\
enum Tone { plain, formal }
type Point { x: int, y: float }
type Out { text: str }

model m = "mock"

role Echo(note: str) -> Out {
  model m
  prompt "{{ note }}"
}

agent Typed(count: int, ratio: float, flag: bool, tone: Tone, tags: list[str],
            at: Point, note: str? = none, label: str = "none") -> Out {
  echo = Echo(label)
  return echo
}
"""


@pytest.fixture
def client(tmp_path):
    app = create_app(EXAMPLES, tmp_path / "store.sqlite", RunOptions(model="mock"))
    with TestClient(app) as served:
        yield served


@pytest.fixture
def typed(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    (folder / "typed.agent").write_text(TYPED)
    app = create_app(folder, tmp_path / "store.sqlite", RunOptions(model="mock"))
    with TestClient(app) as served:
        yield served


def run_over_http(client: TestClient, agent: str, inputs: dict) -> tuple[dict, list]:
    started = client.post(f"/agents/{agent}/runs", json=inputs)
    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/runs/{started.json()['id']}"
    run = wait_for_end(client.get, started.json()["id"])
    trace = client.get(f"/runs/{run['id']}/trace")
    assert trace.status_code == 200
    return run, trace.json()


# -- the schema ---------------------------------------------------------------------------


def test_the_openapi_schema_is_valid(client):
    validate = pytest.importorskip("openapi_spec_validator").validate

    schema = client.get("/openapi.json").json()
    validate(schema)
    assert schema["openapi"].startswith("3.1")
    assert "/agents/SelfRefine/runs" in schema["paths"]


def test_the_openapi_schema_types_inputs_and_results_from_the_declarations(typed):
    validate = pytest.importorskip("openapi_spec_validator").validate

    schema = typed.get("/openapi.json").json()
    validate(schema)
    components = schema["components"]["schemas"]
    inputs = components["Typed.Inputs"]
    assert inputs["required"] == ["count", "ratio", "flag", "tone", "tags", "at"]
    assert inputs["properties"]["count"] == {"type": "integer"}
    assert inputs["properties"]["tone"] == {"type": "string", "enum": ["plain", "formal"]}
    assert inputs["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
    assert inputs["properties"]["at"]["properties"] == {
        "x": {"type": "integer"},
        "y": {"type": "number"},
    }
    assert inputs["properties"]["label"]["default"] == "none"
    assert components["Typed.Result"]["properties"] == {"text": {"type": "string"}}
    body = schema["paths"]["/agents/Typed/runs"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Typed.Inputs"
    }


def test_inputs_the_schema_accepts_the_server_accepts_and_the_reverse(typed):
    """The schema and the server's validation agree, checked by a JSON-schema validator
    that shares no code with pydantic."""
    jsonschema = pytest.importorskip("jsonschema")

    schema = typed.get("/openapi.json").json()["components"]["schemas"]["Typed.Inputs"]
    good = {
        "count": 2,
        "ratio": 0.5,
        "flag": True,
        "tone": "formal",
        "tags": ["a"],
        "at": {"x": 1, "y": 2.5},
    }
    cases = [
        good,
        {**good, "ratio": 1},
        {**good, "note": None},
        {**good, "note": "n", "label": "l"},
        {**good, "count": "two"},
        {**good, "flag": "yes"},
        {**good, "tone": "loud"},
        {**good, "tags": "a"},
        {**good, "tags": [1]},
        {**good, "at": {"x": 1}},
        {**good, "at": {"x": 1.5, "y": 1}},
        {k: v for k, v in good.items() if k != "count"},
        {**good, "extra": 1},
    ]
    for inputs in cases:
        valid = jsonschema.Draft202012Validator(schema).is_valid(inputs)
        answer = typed.post("/agents/Typed/runs", json=inputs)
        assert answer.status_code == (202 if valid else 422), (inputs, answer.text)


# -- runs equal the CLI's -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "agent", "inputs"),
    [
        ("self_refine.agent", "SelfRefine", {"task": "Explain recursion."}),
        ("plan_execute.agent", "PlanAndExecute", {"task": "Plan a picnic."}),
        ("debate.agent", "Debate", {"question": "Is P equal to NP?"}),
        ("react.agent", "ReAct", {"question": "What is 17 * 23?"}),
        ("failure_recovery.agent", "Recover", {"task": "Find the capital of France."}),
    ],
)
def test_a_run_over_http_equals_the_same_run_from_the_cli(client, tmp_path, file, agent, inputs):
    expected_result, expected_trace = cli_run(EXAMPLES / file, inputs, tmp_path)
    run, trace = run_over_http(client, agent, inputs)
    assert run["state"] == "returned"
    assert run["result"] == expected_result
    assert run["inputs"] == inputs
    assert [untimed(line) for line in trace] == [untimed(line) for line in expected_trace]
    assert run["summary"]["calls"] == expected_trace[-1]["calls"]
    typed_view = client.get(f"/agents/{agent}/runs/{run['id']}")
    assert typed_view.status_code == 200 and typed_view.json()["result"] == expected_result


def test_a_failed_run_is_reported_with_its_error_and_trace(client, tmp_path):
    # Recover's fallback edge: a failing first try is taken by `on error`; a run of an
    # agent whose every firing fails ends `failed`. The budget makes one fail here.
    app = create_app(EXAMPLES, tmp_path / "b.sqlite", RunOptions(model="mock", budget="calls=1"))
    with TestClient(app) as limited:
        started = limited.post("/agents/SelfRefine/runs", json={"task": "t"})
        run = wait_for_end(limited.get, started.json()["id"])
        assert run["state"] == "failed"
        assert run["error"] == "BudgetExceeded"
        assert "calls" in run["message"]
        trace = limited.get(f"/runs/{run['id']}/trace").json()
        assert trace[-1]["event"] == "end" and trace[-1]["result"] is None
        events = sse_events(limited.get(f"/runs/{run['id']}/events").text)
        assert events[-1]["kind"] == "error" and events[-1]["error"] == "BudgetExceeded"


# -- events equal the trace ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("agent", "inputs"),
    [
        ("SelfRefine", {"task": "Explain recursion."}),
        ("PlanAndExecute", {"task": "Plan a picnic."}),
        ("QualityDiversity", {"task": "Name a colour."}),
    ],
)
def test_the_events_of_a_finished_run_fold_into_its_trace(client, agent, inputs):
    run, trace = run_over_http(client, agent, inputs)
    answer = client.get(f"/runs/{run['id']}/events")
    assert answer.headers["content-type"].startswith("text/event-stream")
    events = sse_events(answer.text)
    assert events[0]["kind"] == "run_started" and events[-1]["kind"] == "result"
    assert events[-1]["result"] == run["result"]
    top = [line for line in trace if line.get("depth") == 0 and "event" not in line]
    folded = fold_trace(events)
    assert [untimed(r) for r in folded] == [
        untimed({k: v for k, v in line.items() if k not in ("agent", "depth")}) for line in top
    ]


def test_the_events_of_a_live_run_come_as_they_happen_and_fold_into_its_trace(tmp_path):
    app = create_app(EXAMPLES, tmp_path / "s.sqlite", RunOptions(model="mock:latency=0.05"))
    with TestClient(app) as client:
        started = client.post("/agents/SelfRefine/runs", json={"task": "t"}).json()
        with client.stream("GET", f"/runs/{started['id']}/events") as stream:
            body = "".join(stream.iter_text())
        assert client.get(f"/runs/{started['id']}").json()["state"] == "returned"
        events = sse_events(body)
        kinds = [e["kind"] for e in events]
        assert "tokens" in kinds  # (the model's text streams to a live reader)
        assert kinds[-1] == "result"
        trace = client.get(f"/runs/{started['id']}/trace").json()
        top = [line for line in trace if line.get("depth") == 0 and "event" not in line]
        assert [r["key"] for r in fold_trace(events)] == [line["key"] for line in top]
        assert [r["output"] for r in fold_trace(events)] == [line["output"] for line in top]


def test_a_reader_that_reconnects_goes_on_after_the_last_event_it_had(client):
    run, _ = run_over_http(client, "SelfRefine", {"task": "t"})
    from .serving import parse_sse

    messages = parse_sse(client.get(f"/runs/{run['id']}/events").text)
    ids = [m["id"] for m in messages]
    assert ids == [f"1.{n}" for n in range(1, len(ids) + 1)]
    rest = parse_sse(
        client.get(f"/runs/{run['id']}/events", headers={"Last-Event-ID": ids[1]}).text
    )
    assert [m["id"] for m in rest] == ids[2:]


# -- bad requests -------------------------------------------------------------------------


def test_an_unknown_agent_is_404_with_a_suggestion(client):
    answer = client.post("/agents/SelfRefin/runs", json={"task": "t"})
    assert answer.status_code == 404
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0901"
    assert found["hints"] == ["did you mean `SelfRefine`?"]


def test_malformed_json_is_400_at_its_line_and_column(client):
    answer = client.post("/agents/SelfRefine/runs", content=b'{\n  "task": "t",\n}', headers=JSON)
    assert answer.status_code == 400
    (found,) = answer.json()["diagnostics"]
    assert (found["code"], found["file"], found["line"], found["column"]) == (
        "E0900",
        "<request body>",
        3,
        1,
    )
    assert "--> <request body>:3:1" in found["rendered"]


def test_json_nested_past_the_limit_is_400_at_the_bracket(client):
    body = b'{"task": ' + b"[" * 150 + b"]" * 150 + b"}"
    answer = client.post("/agents/SelfRefine/runs", content=body, headers=JSON)
    assert answer.status_code == 400
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0900" and "nested more than 100 levels" in found["message"]
    assert (found["line"], found["column"]) == (1, 109)  # the 101st level: `{` and 100 `[`


def test_a_body_past_the_limit_is_413(client):
    body = b'{"task": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    answer = client.post("/agents/SelfRefine/runs", content=body, headers=JSON)
    assert answer.status_code == 413
    assert answer.json()["diagnostics"][0]["code"] == "E0907"
    assert client.get("/runs").json() == []


def test_a_store_that_cannot_record_the_run_is_503_and_nothing_starts(client):
    from rolegraph.runtime import StoreError

    runner = client.app.state.runner

    def full(*args, **kwargs):
        raise StoreError(
            str(runner.store.path), "full", "database or disk is full", "recording a new run"
        )

    runner.store.new_run = full
    answer = client.post("/agents/SelfRefine/runs", json={"task": "t"})
    assert answer.status_code == 503
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0908" and "disk is full" in found["message"]
    assert client.get("/runs").json() == [] and runner.live == {}


def test_inputs_not_sent_as_json_are_415(client):
    for headers in (
        {"content-type": "text/plain"},
        {"content-type": "application/x-www-form-urlencoded"},
        {},
    ):
        answer = client.post("/agents/SelfRefine/runs", content=b'{"task": "t"}', headers=headers)
        assert answer.status_code == 415, headers
        assert answer.json()["diagnostics"][0]["code"] == "E0909"
    assert client.get("/runs").json() == []
    ok = {"content-type": "application/json; charset=utf-8"}
    assert (
        client.post("/agents/SelfRefine/runs", content=b'{"task": "t"}', headers=ok).status_code
        == 202
    )


def test_inputs_that_are_not_an_object_are_422(client):
    answer = client.post("/agents/SelfRefine/runs", json=["t"])
    assert answer.status_code == 422
    assert [d["code"] for d in answer.json()["diagnostics"]] == ["E0902"]


def test_each_input_that_does_not_fit_is_a_diagnostic_at_its_parameter(typed):
    answer = typed.post(
        "/agents/Typed/runs",
        json={
            "count": "two",
            "ratio": 1,
            "flag": True,
            "tone": "loud",
            "tags": ["a"],
            "at": {"x": 1},
            "colour": "red",
        },
    )
    assert answer.status_code == 422
    found = answer.json()["diagnostics"]
    codes = sorted((d["code"], d["message"].split(":")[0]) for d in found)
    assert codes == [
        ("E0903", "agent `Typed` has no parameter `colour`"),
        ("E0905", "input `at.y` does not fit `Point`"),
        ("E0905", "input `count` does not fit `int`"),
        ("E0905", "input `tone` does not fit `Tone`"),
    ]
    count = next(d for d in found if "`count`" in d["message"])
    assert count["file"].endswith("typed.agent")
    assert (count["line"], count["column"]) == (12, 20)  # `int` in `count: int`
    assert "count: int" in count["rendered"] and "^^^" in count["rendered"]


def test_a_missing_input_is_a_diagnostic_at_its_parameter(client):
    answer = client.post("/agents/SelfRefine/runs", json={})
    assert answer.status_code == 422
    (found,) = answer.json()["diagnostics"]
    assert found["code"] == "E0904" and "`task`" in found["message"]
    assert found["line"] == 31


def test_an_unknown_run_is_404(client):
    for path in (
        "/runs/nope",
        "/runs/nope/trace",
        "/runs/nope/events",
        "/agents/SelfRefine/runs/nope",
    ):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["diagnostics"][0]["code"] == "E0906"


def test_a_run_of_another_agent_is_not_found_under_this_one(client):
    run, _ = run_over_http(client, "SelfRefine", {"task": "t"})
    assert client.get(f"/agents/Debate/runs/{run['id']}").status_code == 404


def test_nothing_is_recorded_for_a_bad_request(client):
    client.post("/agents/SelfRefine/runs", json={"task": 3})
    client.post("/agents/Nope/runs", json={})
    assert client.get("/runs").json() == []


# -- the folder ---------------------------------------------------------------------------


def test_a_file_with_errors_serves_nothing_and_says_why(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    shutil.copy(EXAMPLES / "self_refine.agent", folder)
    (folder / "broken.agent").write_text("agent Broken(task: str) -> Nope {\n}\n")
    with TestClient(create_app(folder, tmp_path / "s.sqlite")) as client:
        assert [a["name"] for a in client.get("/agents").json()] == ["SelfRefine"]
        files = {Path(f["file"]).name: f for f in client.get("/files").json()}
        assert files["broken.agent"]["errors"] >= 1
        assert files["broken.agent"]["diagnostics"][0]["code"].startswith("E")
        answer = client.post("/agents/Broken/runs", json={"task": "t"})
        assert answer.status_code == 404
        assert "broken.agent" in answer.json()["diagnostics"][0]["notes"][1]


def test_an_edited_file_is_served_as_it_is_now(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    path = folder / "a.agent"
    path.write_text(TYPED)
    with TestClient(create_app(folder, tmp_path / "s.sqlite")) as client:
        client.app.state.runner.catalog.rescan_seconds = 0  # (else every 0.5 s at most)
        assert [a["name"] for a in client.get("/agents").json()] == ["Typed"]
        path.write_text(TYPED.replace("agent Typed(", "agent Renamed("))
        assert [a["name"] for a in client.get("/agents").json()] == ["Renamed"]


def test_agents_of_the_same_name_in_two_files_are_named_by_their_file(tmp_path):
    folder = tmp_path / "agents"
    folder.mkdir()
    shutil.copy(EXAMPLES / "self_refine.agent", folder / "one.agent")
    shutil.copy(EXAMPLES / "self_refine.agent", folder / "two.agent")
    with TestClient(create_app(folder, tmp_path / "s.sqlite")) as client:
        names = [a["name"] for a in client.get("/agents").json()]
        assert names == ["one.SelfRefine", "two.SelfRefine"]
        validate = pytest.importorskip("openapi_spec_validator").validate

        validate(client.get("/openapi.json").json())
        run, _ = run_over_http(client, "two.SelfRefine", {"task": "t"})
        assert run["file"].endswith("two.agent")


def test_the_graph_carries_edges_guards_bounds_and_verdicts(client):
    graph = client.get("/agents/SelfRefine").json()["graph"]
    assert {n["name"] for n in graph["nodes"]} == {"writer", "critic"}
    loop = next(e for e in graph["edges"] if e["loop"])
    assert (loop["source"], loop["target"], loop["guard"], loop["max"]) == (
        "critic",
        "writer",
        "not critic.ok",
        3,
    )
    assert loop["ports"] == ["feedback"]
    (constraint,) = graph["constraints"]
    assert (
        constraint["status"] == "proven" and constraint["text"] == "always(return -> once critic)"
    )
    assert {n["name"]: n["firings"] for n in graph["nodes"]} == {"writer": 4, "critic": 4}


# -- durability ---------------------------------------------------------------------------


def test_runs_accepted_before_a_restart_are_resumed_at_start_up(tmp_path):
    """A run the journal holds unfinished (the server was killed after accepting it) is
    run at the next start-up, and ends as the CLI's run does."""
    from rolegraph.runtime import Store
    from rolegraph.serve.catalog import Catalog

    store_path = tmp_path / "s.sqlite"
    agent = Catalog(EXAMPLES).agent("SelfRefine")
    assert agent is not None
    store = Store(store_path)
    run = store.new_run(*agent.source, "SelfRefine", {"task": "t"}, "mock")
    store.close()
    journal = Journal(store_path)
    journal.accept(run, "SelfRefine", "SelfRefine", agent.source[0])
    journal.close()
    with TestClient(create_app(EXAMPLES, store_path, RunOptions(model="mock"))) as client:
        data = wait_for_end(client.get, run)
        assert data["state"] == "returned"
        assert data["result"] == cli_run(EXAMPLES / "self_refine.agent", {"task": "t"}, tmp_path)[0]
        assert data["attempts"] == 1


def test_a_run_whose_agent_is_gone_is_interrupted_and_resumed_when_it_is_back(tmp_path):
    from rolegraph.runtime import Store
    from rolegraph.serve.catalog import Catalog

    folder = tmp_path / "agents"
    folder.mkdir()
    path = folder / "self_refine.agent"
    shutil.copy(EXAMPLES / "self_refine.agent", path)
    store_path = tmp_path / "s.sqlite"
    agent = Catalog(folder).agent("SelfRefine")
    assert agent is not None
    store = Store(store_path)
    run = store.new_run(*agent.source, "SelfRefine", {"task": "t"}, "mock")
    store.close()
    journal = Journal(store_path)
    journal.accept(run, "SelfRefine", "SelfRefine", agent.source[0])
    journal.close()
    text = path.read_text()
    path.write_text("agent Broken(")
    with TestClient(create_app(folder, store_path)) as client:
        data = client.get(f"/runs/{run}").json()
        assert data["state"] == "interrupted" and "not served" in data["message"]
    path.write_text(text)
    with TestClient(create_app(folder, store_path)) as client:
        assert wait_for_end(client.get, run)["state"] == "returned"


def test_the_runs_are_listed_newest_first(client):
    first, _ = run_over_http(client, "SelfRefine", {"task": "a"})
    second, _ = run_over_http(client, "Debate", {"question": "b"})
    listed = client.get("/runs").json()
    assert [r["id"] for r in listed] == [second["id"], first["id"]]
    assert [r["id"] for r in client.get("/runs?agent=Debate").json()] == [second["id"]]


def test_the_web_app_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/app.js" in page.text
    for name in ("app.js", "graph.js", "app.css"):
        assert client.get(f"/static/{name}").status_code == 200


# -- the command line ---------------------------------------------------------------------


def test_import_rolegraph_and_check_import_no_web_stack():
    code = (
        "import sys\n"
        "import rolegraph\n"
        "from typer.testing import CliRunner\n"
        "from rolegraph.cli import app\n"
        f"r = CliRunner().invoke(app, ['check', {str(EXAMPLES / 'self_refine.agent')!r}])\n"
        "assert r.exit_code == 0, r.output\n"
        "print(sorted(m for m in ('starlette', 'uvicorn', 'sse_starlette') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_serve_refuses_bad_options_before_listening(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    runner = CliRunner()
    for args, said in [
        (["serve", str(tmp_path / "nowhere")], "does not exist"),
        (["serve", str(EXAMPLES), "--budget", "calls=x"], "budget"),
        (["serve", str(EXAMPLES), "--max-runs", "0"], "--max-runs"),
        (["serve", str(EXAMPLES), "--model", "mock:latency=inf"], "--model"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert said in result.output, (args, result.output)
    assert json  # (imported for the helpers' sake)


def test_a_run_the_store_fails_during_is_interrupted_and_resumes_at_the_next_start(tmp_path):
    from rolegraph.runtime import StoreError

    store_path = tmp_path / "s.sqlite"
    with TestClient(create_app(EXAMPLES, store_path, RunOptions(model="mock"))) as client:
        store = client.app.state.runner.store
        saved = store.save_reply
        calls = {"n": 0}

        def full_at_the_second(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 2:
                raise StoreError(str(store.path), "full", "database or disk is full", "saving")
            return saved(*args, **kwargs)

        store.save_reply = full_at_the_second
        run = client.post("/agents/SelfRefine/runs", json={"task": "t"}).json()["id"]
        for _ in range(500):
            data = client.get(f"/runs/{run}").json()
            if data["state"] not in ("accepted", "running"):
                break
            time.sleep(0.02)
        assert data["state"] == "interrupted" and "disk is full" in data["message"]
    with TestClient(create_app(EXAMPLES, store_path, RunOptions(model="mock"))) as client:
        data = wait_for_end(client.get, run)
        assert data["state"] == "returned" and data["attempts"] == 2
        expected, _ = cli_run(EXAMPLES / "self_refine.agent", {"task": "t"}, tmp_path)
        assert data["result"] == expected


def test_runs_past_max_runs_wait_accepted_and_all_finish(tmp_path):
    options = RunOptions(model="mock:latency=0.05", max_runs=1)
    with TestClient(create_app(EXAMPLES, tmp_path / "s.sqlite", options)) as client:
        runs = [
            client.post("/agents/SelfRefine/runs", json={"task": f"t{n}"}).json()["id"]
            for n in range(3)
        ]
        states = [client.get(f"/runs/{run}").json()["state"] for run in runs]
        assert states.count("running") <= 1 and "accepted" in states
        ended = [wait_for_end(client.get, run) for run in runs]
        assert [run["state"] for run in ended] == ["returned"] * 3
        # (one at a time, in the order they were accepted)
        assert ended[0]["finished"] <= ended[1]["finished"] <= ended[2]["finished"]


def test_serve_without_its_extra_is_a_usage_error_saying_what_to_install(monkeypatch, tmp_path):
    import builtins

    from typer.testing import CliRunner

    from rolegraph.cli import app

    real = builtins.__import__

    def without_the_extra(name, *args, **kwargs):
        if name.split(".")[0] in ("uvicorn", "starlette", "sse_starlette"):
            raise ImportError(f"No module named {name!r}")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_the_extra)
    result = CliRunner().invoke(app, ["serve", str(EXAMPLES), "--store", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "pip install 'rolegraph[serve]'" in result.output
