"""The real-model path: litellm against an OpenAI-compatible server on loopback that
injects faults. No key, no network beyond 127.0.0.1."""

import asyncio
import json
import time

import pytest

pytest.importorskip("litellm")

import rolegraph
from rolegraph.runtime import FiringFailed, run_agent

from .fake_openai import FakeOpenAI

GOOD = json.dumps({"text": "a draft", "score": 0.5})
YES = json.dumps({"ok": True, "feedback": "", "score": 0.9})


def agent(url: str, timeout: float = 2.0, retries: int = 2) -> str:
    return f'''model fake = "openai/fake-model" {{
  api_base: "{url}", api_key: "no-key", timeout: {timeout}, retries: {retries},
  backoff: 0.05
}}
type Draft {{ text: str, score: float }}
type Review {{ ok: bool, feedback: str, score: float }}
role Writer(task: str, feedback: str = "") -> Draft {{
  model fake
  prompt "Write about {{{{ task }}}}. {{{{ feedback }}}}"
}}
role Critic(task: str, draft: Draft) -> Review {{
  model fake
  prompt "Review: {{{{ draft.text }}}}"
}}
agent A(task: str) -> Draft {{
  w = Writer(task)
  c = Critic(task, draft: w)
  c -> w(feedback: c.feedback) when not c.ok max 2
  c -> return(w) else
}}
'''


def run(url: str, **options):
    ir = rolegraph.load_agent("fake.agent", text=agent(url, **options))
    return asyncio.run(run_agent(ir, {"task": "tides"}))


def test_a_clean_run_through_litellm():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        outcome = run(api.url)
    assert outcome.result == {"text": "a draft", "score": 0.5}
    summary = outcome.trace.summary()
    assert summary["calls"] == 2
    assert summary["input_tokens"] >= 24 and summary["output_tokens"] == 14
    first = api.requests[0]
    assert first["model"] == "fake-model"
    assert first["response_format"] == {"type": "json_object"}
    assert "Write about tides." in first["messages"][-1]["content"]


@pytest.mark.parametrize("fault", ["429", "500", "drop"])
def test_transient_errors_are_retried(fault):
    with FakeOpenAI(replies=[GOOD, YES], faults=[fault, fault]) as api:
        outcome = run(api.url, retries=2)
    assert outcome.result["text"] == "a draft"
    assert len(api.requests) == 4  # two failures, then the writer and the critic


def test_retries_are_bounded_and_the_error_is_clear():
    with FakeOpenAI(replies=[GOOD], faults=["500"] * 10) as api:
        began = time.monotonic()
        with pytest.raises(FiringFailed, match="node `w` failed"):
            run(api.url, retries=2)
    assert len(api.requests) == 3  # one call and two retries, no more
    assert time.monotonic() - began < 10


def test_every_call_has_a_timeout():
    with FakeOpenAI(replies=[GOOD, GOOD, YES], faults=["slow:3"]) as api:
        began = time.monotonic()
        outcome = run(api.url, timeout=0.5, retries=1)
    assert outcome.result["text"] == "a draft"
    assert time.monotonic() - began < 3  # the slow reply was not waited for


def test_broken_json_is_repaired():
    with FakeOpenAI(replies=['{"text": "a dra', GOOD, YES]) as api:
        outcome = run(api.url)
    assert outcome.result["text"] == "a draft"
    repair = api.requests[1]["messages"][-1]["content"]
    assert repair.startswith("That reply is invalid")


def test_empty_replies_end_in_a_clear_error():
    with FakeOpenAI(replies=["", "", ""]) as api, pytest.raises(FiringFailed) as caught:
        run(api.url)
    assert "gave no valid `Draft` after 3 tries" in str(caught.value)
    assert len(api.requests) == 3


def test_the_cli_points_every_role_at_a_local_server(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    path = tmp_path / "refine.agent"
    path.write_text(agent("http://unused.invalid/v1"))
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        result = CliRunner().invoke(
            app,
            [
                "run",
                str(path),
                "--input",
                '{"task": "tides"}',
                "--model",
                "openai/local",
                "--api-base",
                api.url,
                "--no-store",
                "-q",
            ],
        )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"text": "a draft", "score": 0.5}
    assert [r["model"] for r in api.requests] == ["local", "local"]
