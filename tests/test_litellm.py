"""The real-model path: litellm against an OpenAI-compatible server on loopback that
counts its own tokens and injects faults. No key, no network beyond 127.0.0.1."""

import asyncio
import json
import re
import threading
import time

import pytest

pytest.importorskip("litellm")

import rolegraph
from rolegraph.runtime import FiringFailed, Store, run_agent
from rolegraph.runtime.litellm_model import LiteLLMModel

from .fake_openai import FakeOpenAI

GOOD = json.dumps({"text": "a draft", "score": 0.5})
YES = json.dumps({"ok": True, "feedback": "", "score": 0.9})
NO = json.dumps({"ok": False, "feedback": "again", "score": 0.1})
HANG = 60  # seconds: a bound that only catches hangs, never a timing claim


def fits(body: dict) -> str:
    """A reply of the type the request asks for: a review for the critic, else a draft."""
    return YES if '"ok"' in body["messages"][-1]["content"] else GOOD


def agent(url: str, timeout: float = 5.0, retries: int = 2, extra: str = "") -> str:
    return f'''model fake = "openai/fake-model" {{
  api_base: "{url}", api_key: "no-key", timeout: {timeout}, retries: {retries},
  backoff: 0.05{extra}
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


def run(url: str, store: Store | None = None, **options):
    ir = rolegraph.load_agent("fake.agent", text=agent(url, **options))
    return asyncio.run(run_agent(ir, {"task": "tides"}, store=store))


def test_a_clean_run_through_litellm():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        outcome = run(api.url)
    assert outcome.result == {"text": "a draft", "score": 0.5}
    summary = outcome.trace.summary()
    assert summary["calls"] == 2
    # the figures are the server's own, not an estimate
    assert summary["input_tokens"] + summary["output_tokens"] == api.reported_tokens
    first = api.requests[0]
    assert first["model"] == "fake-model"
    assert first["response_format"] == {"type": "json_object"}
    assert "Write about tides." in first["messages"][-1]["content"]


def test_every_call_states_an_output_cap():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        run(api.url)
    assert [r["max_tokens"] for r in api.requests] == [1024, 1024]  # the stated default


def test_control_parameters_never_reach_the_provider():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        run(api.url)
    for name in ("retries", "timeout", "backoff", "concurrency", "max_retries"):
        assert name not in api.requests[0] or name == "max_retries"


# -- retries and errors ---------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["429", "500", "503", "drop"])
def test_passing_errors_are_retried(fault):
    with FakeOpenAI(replies=[GOOD, YES], faults=[fault, fault]) as api:
        outcome = run(api.url, retries=2)
    assert outcome.result["text"] == "a draft"
    assert len(api.requests) == 4  # two failures, then the writer and the critic
    assert outcome.trace.summary()["calls"] == 4  # every attempt sent is counted


@pytest.mark.parametrize("fault", ["400", "401", "404"])
def test_errors_that_will_not_pass_are_not_retried(fault):
    with (
        FakeOpenAI(replies=[GOOD], faults=[fault] * 5) as api,
        pytest.raises(FiringFailed) as caught,
    ):
        run(api.url, retries=5)
    assert len(api.requests) == 1
    message = str(caught.value)
    assert "openai/fake-model" in message and "1 attempt" in message
    assert len(message.splitlines()) == 1


def test_a_refused_key_says_what_to_do():
    with FakeOpenAI(faults=["401"]) as api, pytest.raises(FiringFailed) as caught:
        run(api.url)
    assert "API key" in str(caught.value)


def test_retries_are_bounded_and_the_error_is_clear():
    failing = FakeOpenAI(replies=[GOOD], faults=["500"] * 10)
    with failing as api, pytest.raises(FiringFailed, match="node `w` failed") as caught:
        run(api.url, retries=2)
    assert len(api.requests) == 3  # one call and two retries, no more
    assert "openai/fake-model" in str(caught.value) and "3 attempts" in str(caught.value)


def test_retry_after_is_honoured():
    with FakeOpenAI(replies=[GOOD, YES], faults=["429:retry-after=0.4"]) as api:
        run(api.url, retries=1)
    # the second request came no sooner than the provider asked (backoff alone is 0.05)
    assert api.arrivals[1] - api.arrivals[0] >= 0.4


def test_backoff_is_capped_and_jittered():
    import tenacity

    from rolegraph.runtime.calls import CallPolicy, _Backoff
    from rolegraph.runtime.models import CallFailed

    wait = _Backoff(CallPolicy(backoff=1.0, max_backoff=5.0))

    def after(attempt, error):
        state = tenacity.RetryCallState(None, None, (), {})
        state.attempt_number = attempt
        state.set_exception((type(error), error, None))
        return wait(state)

    passing = CallFailed("overloaded", retry=True)
    waits = [after(10, passing) for _ in range(200)]
    assert max(waits) <= 5.0 and min(waits) >= 0.0
    assert len({round(w, 3) for w in waits}) > 50  # jittered, not one fixed wait
    assert after(1, CallFailed("slow down", retry=True, retry_after=500.0)) == 5.0
    assert after(1, CallFailed("slow down", retry=True, retry_after=2.0)) == 2.0


def test_every_call_has_a_timeout_that_names_the_model_and_the_time():
    with FakeOpenAI(faults=["slow:3", "slow:3"]) as api:
        began = time.monotonic()
        with pytest.raises(FiringFailed) as caught:
            run(api.url, timeout=0.2, retries=1)
    assert time.monotonic() - began < HANG
    message = str(caught.value)
    assert "openai/fake-model did not answer within 0.2 s (2 attempts)" in message
    # the timed-out attempts are counted: the server received both
    record = caught.value.trace.firings[0]
    assert record.calls == 2 and record.input_tokens > 0


def test_a_timed_out_attempt_is_retried():
    with FakeOpenAI(replies=[GOOD, GOOD, YES], faults=["slow:3"]) as api:
        outcome = run(api.url, timeout=0.5, retries=1)
    assert outcome.result["text"] == "a draft"
    assert outcome.trace.summary()["calls"] == 3


def test_a_reply_with_no_choices_is_a_clear_error():
    with FakeOpenAI(faults=["no-choices"] * 3) as api, pytest.raises(FiringFailed) as caught:
        run(api.url, retries=2)
    assert "no choices" in str(caught.value)


def test_a_reply_without_usage_is_charged_its_reservation():
    with FakeOpenAI(replies=[GOOD, YES], faults=["no-usage", "no-usage"]) as api:
        outcome = run(api.url)
    summary = outcome.trace.summary()
    assert summary["calls"] == 2 and summary["output_tokens"] == 2 * 1024


def test_one_model_object_serves_several_event_loops():
    """A shared adapter (a search evaluates many runs, a notebook many agents) works on
    each new loop: its concurrency limit is not bound to the first one."""
    model = LiteLLMModel()
    with FakeOpenAI(default=fits) as api:
        ir = rolegraph.load_agent("fake.agent", text=agent(api.url, extra=", concurrency: 1"))
        for _ in range(3):
            outcome = asyncio.run(run_agent(ir, {"task": "t"}, model=model))
            assert outcome.result == {"text": "a draft", "score": 0.5}
        # and from several threads, each with its own loop, at once
        errors: list[BaseException] = []

        def one() -> None:
            try:
                asyncio.run(run_agent(ir, {"task": "t"}, model=model))
            except Exception as error:
                errors.append(error)

        threads = [threading.Thread(target=one) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(HANG)
    assert not errors


# -- replies that do not fit the type ---------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"text": "a draft", "score": 0.5}\n```',
        'Here it is: {"text": "a draft", "score": 0.5} Hope that helps!',
        '{"text": "a draft", "score": 0.5,}',
        "{'text': 'a draft', 'score': 0.5}",
        '{"text": "a\tdraft", "score": 0.5}',  # a raw control character inside a string
    ],
    ids=["fenced", "prose", "trailing-comma", "single-quotes", "control-character"],
)
def test_replies_are_repaired_locally_before_a_paid_repair(reply):
    with FakeOpenAI(replies=[reply, YES]) as api:
        outcome = run(api.url)
    assert outcome.result["text"].replace("\t", " ") == "a draft"
    assert len(api.requests) == 2  # no repair call


def test_a_repair_prompt_states_every_error_with_its_path():
    bad = json.dumps({"text": 3, "score": "high"})
    with FakeOpenAI(replies=[bad, GOOD, YES]) as api:
        outcome = run(api.url)
    assert outcome.result["text"] == "a draft"
    repair = api.requests[1]["messages"][-1]["content"]
    assert "text: Input should be a valid string (found 3)" in repair
    assert "score: Input should be a valid number" in repair


def test_a_huge_reply_is_not_sent_back():
    huge = '{"text": "' + "x" * 5_000_000 + '", "score": "nope"}'
    with FakeOpenAI(replies=[huge, GOOD, YES]) as api:
        run(api.url)
    repair = api.requests[1]
    assert len(json.dumps(repair)) < 20_000


def test_when_repairs_fail_the_error_shows_the_problem_and_the_reply():
    with FakeOpenAI(replies=['{"text": 1}'] * 3) as api, pytest.raises(FiringFailed) as caught:
        run(api.url)
    message = str(caught.value)
    assert "gave no valid `Draft` after 3 tries" in message
    assert "score: Field required" in message and '{"text": 1}' in message
    assert len(api.requests) == 3


def test_empty_replies_end_in_a_clear_error():
    with FakeOpenAI(replies=["", "", ""]) as api, pytest.raises(FiringFailed) as caught:
        run(api.url)
    assert "gave no valid `Draft` after 3 tries: the reply is empty" in str(caught.value)
    assert len(api.requests) == 3


# -- the cache samples like a model ----------------------------------------------------------


def test_a_refiring_node_makes_a_new_call_with_the_store(tmp_path):
    """A loop that re-fires a node with the same inputs samples again, as without a
    store: the cache must not answer a second sample with the first."""
    replies = [GOOD, NO, GOOD, NO, GOOD, YES]
    with FakeOpenAI(replies=replies) as bare:
        run(bare.url)
    with FakeOpenAI(replies=replies) as stored:
        run(stored.url, store=Store(tmp_path / "s.sqlite"))
    assert len(stored.requests) == len(bare.requests) == 6


def test_an_identical_fresh_run_is_answered_by_the_cache_and_says_so(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    replies = [GOOD, NO, GOOD, YES]
    with FakeOpenAI(replies=replies) as api:
        first = run(api.url, store=store)
        second = run(api.url, store=store)
    assert len(api.requests) == 4  # the second run made none
    assert first.trace.summary()["calls"] == 4
    summary = second.trace.summary()
    assert summary["calls"] == 0 and summary["cached_calls"] == 4
    assert second.result == first.result


def test_the_cli_summary_reports_cached_calls(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    with FakeOpenAI(default=fits) as api:
        path = tmp_path / "a.agent"
        path.write_text(agent(api.url))
        args = ["run", str(path), "--input", '{"task": "t"}', "--store", str(tmp_path / "s")]
        CliRunner().invoke(app, args)
        again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "cached" in again.stderr
    # (off a terminal, the summary is plain text: its headers over their values)
    lines = again.stderr.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("firings"))
    headers, values = (re.split(r" {2,}", line.strip()) for line in lines[at : at + 2])
    cells = dict(zip(headers, values, strict=True))
    assert (cells["firings"], cells["calls"], cells["cached"]) == ("2", "0", "2")


def test_a_missing_key_fails_at_once_in_one_line(monkeypatch):
    """With no key set, the provider's SDK refuses to start the request; litellm reports
    a 500, which must not be retried (it was, four times, in 37 s)."""
    for name in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    text = agent("http://127.0.0.1:9/v1", retries=5).replace(
        'api_base: "http://127.0.0.1:9/v1", api_key: "no-key", ', ""
    )
    ir = rolegraph.load_agent("fake.agent", text=text)
    began = time.monotonic()
    with pytest.raises(FiringFailed) as caught:
        asyncio.run(run_agent(ir, {"task": "t"}))
    assert time.monotonic() - began < HANG
    message = str(caught.value)
    assert "API key" in message and "(1 attempt)" in message
    assert len(message.splitlines()) == 1
