"""What `run`, `search` and `attribute` show while they work, off a terminal (CliRunner's
streams are not terminals): `--events jsonl` on stdout, no live view, per-candidate
lines for a search, and the summary's retried calls and cut maps."""

import json

import pytest
from typer.testing import CliRunner

from rolegraph.cli import app

from .checking import PRELUDE
from .conftest import ROOT

SELF_REFINE = str(ROOT / "examples" / "self_refine.agent")
CAPITALS = str(ROOT / "examples" / "data" / "capitals.jsonl")
LIVE_MARK = "logical time"  # in the live view's header line


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def test_events_jsonl_prints_the_events_on_stdout_instead_of_the_result():
    result = invoke(
        "run", SELF_REFINE, "-i", '{"task": "t"}', "--model", "mock", "--no-store",
        "--events", "jsonl",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    events = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [event["kind"] for event in events]
    assert kinds[0] == "run_started" and kinds[-1] == "result"
    assert {"firing_started", "firing_finished", "tokens"} <= set(kinds)
    assert events[-1]["result"]["text"]  # the result is the last line, and only there
    assert "run summary" in result.stderr


def test_events_jsonl_ends_with_the_error_of_a_failed_run():
    result = invoke(
        "run", SELF_REFINE, "-i", '{"task": "t"}', "--model", "mock", "--no-store",
        "--events", "jsonl", "--budget", "calls=1", "-q",
    )  # fmt: skip
    assert result.exit_code == 1
    last = json.loads(result.stdout.splitlines()[-1])
    assert last["kind"] == "error" and last["error"] == "BudgetExceeded"


def test_events_takes_only_jsonl():
    result = invoke("run", SELF_REFINE, "-i", '{"task": "t"}', "--events", "xml")
    assert result.exit_code == 2 and "--events takes jsonl" in result.output


def test_a_run_off_a_terminal_shows_no_live_view():
    result = invoke("run", SELF_REFINE, "-i", '{"task": "t"}', "--model", "mock", "--no-store")
    assert result.exit_code == 0, result.output
    assert LIVE_MARK not in result.stderr
    assert json.loads(result.stdout)["text"]


def test_the_summary_shows_a_map_cut_to_its_bound(tmp_path):
    path = tmp_path / "map.agent"
    path.write_text(
        PRELUDE
        + "type Plan { steps: list[str] }\n"
        + 'role Planner(task: str) -> Plan { model m  prompt "{{ task }}" }\n'
        + "agent A(task: str) -> list[Draft] {\n  plan = Planner(task)\n"
        "  steps = Writer(step) for step in plan.steps max 1\n  return steps\n}\n"
    )
    # the mock's lists have one to three items: find an input whose plan has more than one
    for task in "abcdefgh":
        result = invoke("run", str(path), "-i", json.dumps({"task": task}), "--no-store")
        assert result.exit_code == 0, result.output
        if "cut to its bound" in result.stderr:
            break
    assert "maps cut" in result.stderr
    assert "steps: map over" in result.stderr and "items cut to its bound 1" in result.stderr


def test_the_summary_shows_the_calls_retried_and_why(tmp_path):
    pytest.importorskip("litellm")
    from .fake_openai import FakeOpenAI
    from .test_litellm import GOOD, YES, agent

    with FakeOpenAI(replies=[GOOD, YES], faults=["500"]) as api:
        path = tmp_path / "fake.agent"
        path.write_text(agent(api.url))
        result = invoke("run", str(path), "-i", '{"task": "t"}', "--no-store")
    assert result.exit_code == 0, result.output
    assert "retried" in result.stderr
    assert "w: openai/fake-model: the provider failed (500)" in result.stderr
    assert "retried openai/fake-model (attempt 2)" in result.stderr


def test_search_off_a_terminal_prints_a_line_per_candidate_and_no_bar(tmp_path):
    result = invoke(
        "search", SELF_REFINE, "--data", CAPITALS, "--score", "contains", "-n", "2",
        "--store", str(tmp_path / "s.sqlite"),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "[1/2] score" in result.stderr and "[2/2] score" in result.stderr
    assert "ETA" not in result.stderr


def test_search_quiet_prints_no_line_per_candidate(tmp_path):
    result = invoke(
        "search", SELF_REFINE, "--data", CAPITALS, "--score", "contains", "-n", "2",
        "--store", str(tmp_path / "s.sqlite"), "-q",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "[1/2]" not in result.stderr
