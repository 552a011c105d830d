"""Streaming through litellm, against an OpenAI-compatible server on loopback that sends
server-sent events (tests/fake_openai.py): the reply is assembled from the chunks, the
usage is the server's, and retries, budgets and the cache behave as without a stream."""

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("litellm")

import rolegraph
from rolegraph.runtime import Budget, Store, stream_agent
from rolegraph.runtime.events import Tokens

from .fake_openai import FakeOpenAI
from .test_budget_provider import fan_out, words
from .test_litellm import GOOD, YES, agent, run


def streamed(url: str, store: Store | None = None, budget: Budget | None = None, **options):
    ir = rolegraph.load_agent("fake.agent", text=agent(url, **options))
    return events_of(ir, store=store, budget=budget)


def events_of(ir, **options) -> list:
    async def collect():
        return [e async for e in stream_agent(ir, {"task": "tides"}, **options)]

    return asyncio.run(collect())


def pieces(events, node: str, attempt: int = 1) -> list[str]:
    return [
        e.text for e in events if isinstance(e, Tokens) and e.node == node and e.attempt == attempt
    ]


def test_a_streamed_reply_arrives_in_pieces_that_make_the_reply():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        events = streamed(api.url)
    assert events[-1].result == {"text": "a draft", "score": 0.5}
    assert len(pieces(events, "w")) > 1
    assert "".join(pieces(events, "w")) == GOOD
    assert "".join(pieces(events, "c")) == YES


def test_a_streamed_request_asks_for_the_usage():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        streamed(api.url)
    assert all(r["stream"] is True for r in api.requests)
    assert all(r["stream_options"] == {"include_usage": True} for r in api.requests)


def test_a_run_with_no_one_listening_does_not_stream():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        run(api.url)
    assert not any(r.get("stream") for r in api.requests)


def test_a_streamed_call_is_counted_as_the_server_reports_it():
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        events = streamed(api.url)
    summary = events[-1].summary
    assert summary["calls"] == 2
    assert summary["input_tokens"] + summary["output_tokens"] == api.reported_tokens


def test_a_stream_without_usage_is_charged_its_reservation():
    """litellm makes a usage up when the server sends none: a guess is not the
    provider's word, so the call is charged as a reply without usage is."""
    with FakeOpenAI(replies=[GOOD, YES], faults=["no-usage", "no-usage"]) as api:
        events = streamed(api.url)
    summary = events[-1].summary
    assert summary["calls"] == 2 and summary["output_tokens"] == 2 * 1024


def test_a_stream_cut_midway_is_retried_and_streams_again():
    with FakeOpenAI(replies=[GOOD, GOOD, YES], faults=["cut"]) as api:
        events = streamed(api.url, retries=2)
    assert events[-1].result == {"text": "a draft", "score": 0.5}
    first, second = pieces(events, "w", 1), pieces(events, "w", 2)
    assert first and GOOD.startswith("".join(first)) and "".join(first) != GOOD
    assert "".join(second) == GOOD
    record = events[-1].trace.firings[0]
    assert record.calls == 2  # the cut attempt counts
    assert any(note.startswith("retried openai/fake-model") for note in record.notes)


def test_a_stream_with_no_choices_is_retried_then_fails():
    with FakeOpenAI(faults=["no-choices"] * 3) as api:
        events = streamed(api.url, retries=2)
    assert len(api.requests) == 3
    assert events[-1].error == "FiringFailed" and "(3 attempts)" in events[-1].message


def test_a_refused_request_is_not_retried_when_streamed():
    with FakeOpenAI(replies=[GOOD], faults=["401"] * 3) as api:
        events = streamed(api.url, retries=2)
    assert len(api.requests) == 1
    assert events[-1].kind == "error" and "API key" in events[-1].message


def test_a_cached_reply_streams_as_one_piece(tmp_path):
    with FakeOpenAI(replies=[GOOD, YES]) as api:
        streamed(api.url, store=Store(tmp_path / "s.sqlite"))
        events = streamed(api.url, store=Store(tmp_path / "s.sqlite"))
    assert len(api.requests) == 2  # the second run was answered by the cache
    assert pieces(events, "w") == [GOOD]
    assert events[-1].summary["cached_calls"] == 2


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    n=st.integers(1, 5),
    lengths=st.lists(st.integers(0, 400), min_size=1, max_size=10),
    faults=st.lists(st.sampled_from([None, "slow:0.01", "cut", "no-usage"]), max_size=8),
    tokens=st.integers(50, 3000),
    calls=st.integers(1, 10),
)
def test_a_streamed_budget_is_never_exceeded_by_what_the_server_reports(
    n, lengths, faults, tokens, calls
):
    budget = Budget(calls=calls, tokens=tokens)
    replies = [words(length) for length in lengths]
    server = FakeOpenAI(replies=replies, faults=faults, default=words(3))
    with server as api:  # (out of budget, or cut short: an error event, never raised)
        events_of(fan_out(api.url, n), budget=budget)
    assert len(api.requests) <= calls
    assert api.reported_tokens <= tokens
    assert budget.spent_tokens >= api.reported_tokens
    assert budget.spent_calls >= len(api.requests)
