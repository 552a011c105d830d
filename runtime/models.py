"""The model interface: one request, one reply. `mock` and litellm implement it.

A request is provider-neutral: the messages, the JSON schema of the result, the tools
the role may call, and the model parameters. The runtime validates replies itself, so
every model goes through the same structured-output checks.

A model may also stream (`StreamingModel`): it hands each piece of its reply's text to
a callback as it arrives, and returns the same reply `complete` would. The runtime asks
for a stream only when someone listens (runtime/events.py); a model that cannot stream
is called with `complete`, and its whole text is handed over as one piece.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

_Value = TypeVar("_Value", "ModelRequest", "ModelReply")


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any]
    id: str = ""


@dataclass(frozen=True)
class ModelRequest:
    role: str  # the role called
    node: str  # the node firing it
    model: str  # provider string, e.g. "openai/gpt-4o-mini" or "mock"
    messages: tuple[dict[str, Any], ...]
    schema: dict[str, Any]
    params: dict[str, Any] = field(default_factory=dict)
    tools: tuple[dict[str, Any], ...] = ()
    replica: int = 0  # which of `x N` / which map item: part of the request's identity
    attempt: int = 0  # repair attempts after invalid replies
    # The firing that makes the call (its key) and the call's number in it: a re-firing
    # is a new call, and a resumed run finds exactly its own calls in the cache.
    firing: str = ""
    call: int = 0


@dataclass(frozen=True)
class ModelReply:
    content: str  # JSON text of the result (empty when the model called tools)
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    cached: bool = False  # answered by the response cache: no call was made


def changed(value: _Value, **changes: Any) -> _Value:
    """`dataclasses.replace(value, **changes)` for a request or a reply, made directly:
    both are frozen dataclasses whose every field is an `__init__` argument and which have
    no `__post_init__`, so a copy of the fields with `changes` is what `replace` builds,
    without its field-by-field `__init__` (a call made thousands of times a search)."""
    new = object.__new__(type(value))
    new.__dict__.update(value.__dict__, **changes)
    return new


class CallFailed(Exception):
    """One attempt at a model call failed.

    `retry`: another attempt may succeed (rate limits, overload, dropped connections).
    `retry_after`: the seconds the provider asked to wait, when it said.
    `billed`: the provider may have done the work (a dropped connection); False when it
    refused the request before (a 4xx, a 429, a 5xx error reply)."""

    def __init__(
        self,
        message: str,
        *,
        retry: bool,
        retry_after: float | None = None,
        billed: bool = False,
    ):
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after
        self.billed = billed


class Model(Protocol):
    """One attempt at one request. Retries, timeouts, budgets, concurrency limits and the
    cache are the runtime's (runtime/calls.py), the same for every model; a model raises
    `CallFailed` when an attempt fails in a way it can classify."""

    async def complete(self, request: ModelRequest) -> ModelReply: ...


class StreamingModel(Model, Protocol):
    """A model that can hand its reply's text over piece by piece as it arrives."""

    async def stream(self, request: ModelRequest, on_text: Callable[[str], None]) -> ModelReply:
        """One attempt, as `complete`; `on_text` gets each piece of the reply's text (their
        concatenation is the reply's `content`)."""
        ...
