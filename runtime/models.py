"""The model interface: one request, one reply. `mock` and litellm implement it.

A request is provider-neutral: the messages, the JSON schema of the result, the tools
the role may call, and the model parameters. The runtime validates replies itself, so
every model goes through the same structured-output checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


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


@dataclass(frozen=True)
class ModelReply:
    content: str  # JSON text of the result (empty when the model called tools)
    tool_calls: tuple[ToolCall, ...] = ()
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0


class Model(Protocol):
    async def complete(self, request: ModelRequest) -> ModelReply: ...
