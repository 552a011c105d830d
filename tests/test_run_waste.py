"""The waste cut from inside runs (issue 15), each held to the general path it replaces:
requests and replies copied without `dataclasses.replace`, the response cache's key
written by one encoder, and a role's result schema and its prompt line made once per
result type (keyed by the type object, not its name)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.types import INT, STR, RecordT
from rolegraph.runtime import MockModel, ModelReply, ModelRequest, RunError, role_calls, run_agent
from rolegraph.runtime.models import changed
from rolegraph.runtime.store import Store
from rolegraph.runtime.values import schema
from rolegraph.search import blank_value

from .conftest import EXAMPLES
from .recording_model import RecordingModel

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)

_message = st.dictionaries(st.sampled_from(["role", "content"]), st.text(max_size=8))
_REQUEST_FIELDS = [f.name for f in dataclasses.fields(ModelRequest)]
_REPLY_FIELDS = [f.name for f in dataclasses.fields(ModelReply)]

requests = st.builds(
    ModelRequest,
    role=st.text(max_size=6),
    node=st.text(max_size=6),
    model=st.sampled_from(["mock", "openai/gpt-4o-mini"]),
    messages=st.lists(_message, max_size=3).map(tuple),
    schema=st.dictionaries(st.text(max_size=4), _json, max_size=3),
    params=st.dictionaries(st.text(max_size=4), _json | st.floats(allow_nan=False), max_size=3),
    tools=st.lists(st.dictionaries(st.text(max_size=4), _json, max_size=2), max_size=2).map(tuple),
    replica=st.integers(0, 5),
    attempt=st.integers(0, 3),
    firing=st.text(max_size=8),
    call=st.integers(0, 9),
)

replies = st.builds(
    ModelReply,
    content=st.text(max_size=10),
    input_tokens=st.integers(0, 99),
    output_tokens=st.integers(0, 99),
    cost=st.floats(0, 1),
    cached=st.booleans(),
)


@settings(derandomize=True, max_examples=150)
@given(requests, requests, st.sets(st.sampled_from(_REQUEST_FIELDS)))
def test_changed_request_is_what_replace_builds(request, other, names):
    changes = {name: getattr(other, name) for name in names}
    made = changed(request, **changes)
    assert made == dataclasses.replace(request, **changes)
    assert type(made) is ModelRequest
    assert made is not request
    assert request == dataclasses.replace(request)  # (the original is untouched)
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.call = 1  # type: ignore[misc]


@settings(derandomize=True, max_examples=80)
@given(replies, replies, st.sets(st.sampled_from(_REPLY_FIELDS)))
def test_changed_reply_is_what_replace_builds(reply, other, names):
    changes = {name: getattr(other, name) for name in names}
    assert changed(reply, **changes) == dataclasses.replace(reply, **changes)


@settings(derandomize=True, max_examples=150)
@given(requests)
def test_request_key_is_the_general_encoding(request):
    identity = json.dumps(
        [
            request.model,
            request.role,
            request.messages,
            request.schema,
            request.params,
            request.tools,
            request.replica,
            request.attempt,
            request.firing,
            request.call,
        ],
        sort_keys=True,
        default=str,
    )
    assert Store.request_key(request) == hashlib.sha256(identity.encode()).hexdigest()


def _general_instructions(result) -> str:
    return (
        "Reply with one JSON value that matches this JSON schema, and nothing "
        f"else:\n{json.dumps(schema(result))}"
    )


def test_instructions_are_keyed_by_the_type_not_its_name():
    """Two agents may declare different records of one name: each gets its own schema
    (a cache keyed by the name would give the second the first's)."""
    first = RecordT("m.Answer", fields={"text": STR})
    second = RecordT("m.Answer", fields={"text": STR, "score": INT})
    assert first == second  # (types compare by name)
    for result in (first, second, first, INT, STR):
        found_schema, line = role_calls.result_instructions(result)
        assert found_schema == schema(result)
        assert line == _general_instructions(result)
    assert "score" not in role_calls.result_instructions(first)[1]
    assert "score" in role_calls.result_instructions(second)[1]


def test_instructions_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(role_calls, "_INSTRUCTIONS", {})
    monkeypatch.setattr(role_calls, "_INSTRUCTIONS_MAX", 3)
    kept = [RecordT(f"m.R{i}", fields={"n": INT}) for i in range(7)]
    for result in kept:
        assert role_calls.result_instructions(result)[1] == _general_instructions(result)
        assert len(role_calls._INSTRUCTIONS) <= 3


def _requests_of(path: Path) -> list[tuple[str, ModelRequest]]:
    ir = rolegraph.load_agent(path)
    inputs = {name: blank_value(schema(t)) for name, t in ir.param_types.items()}
    model = RecordingModel(MockModel())

    async def go() -> None:
        # (blank inputs may fail a run: the calls made before are still read)
        with contextlib.suppress(RunError):
            await run_agent(ir, inputs, model=model)

    asyncio.run(go())
    results = {node.callee: node.result for node in ir.nodes.values() if node.callee}
    return [(results[c.request.role], c.request) for c in model.calls]


@pytest.mark.parametrize("agent_file", EXAMPLES, ids=lambda p: Path(p).stem)
def test_every_example_prompt_asks_for_the_general_schema(agent_file):
    """Every request of a mock run of every example: its schema and its prompt's last
    line are what the general path makes of the role's result type."""
    for result, request in _requests_of(Path(agent_file)):
        assert request.schema == schema(result)
        first = next(m for m in request.messages if m["role"] == "user")
        assert first["content"].endswith(_general_instructions(result))
