"""A reply assembled from a provider's stream of chunks (OpenAI's chunk shape, which
litellm gives for every provider).

    assembled = StreamedReply()
    async for chunk in stream:
        piece = assembled.add(chunk)     # the text this chunk added ("" when none)
    reply = assembled.reply(usage_reported=True)

Text pieces are concatenated; a tool call comes in pieces too (its id and name first,
then its arguments' JSON a fragment at a time), keyed by its index; the usage comes in
a last chunk with no choices, when the request asked for it
(`stream_options={"include_usage": True}`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .models import CallFailed, ModelReply, ToolCall
from .repair import tool_arguments


@dataclass
class _ToolCallPieces:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class StreamedReply:
    def __init__(self) -> None:
        self.text: list[str] = []
        self.tool_calls: dict[int, _ToolCallPieces] = {}
        self.input_tokens = 0
        self.output_tokens = 0
        self.chunks = 0  # chunks received: past the first, the provider is at work
        self.choices = 0  # chunks that carried a choice

    def add(self, chunk: Any) -> str:
        """Take in one chunk; return the text it adds."""
        self.chunks += 1
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.input_tokens = getattr(usage, "prompt_tokens", 0) or 0
            self.output_tokens = getattr(usage, "completion_tokens", 0) or 0
        choices = getattr(chunk, "choices", None) or []
        if not choices:
            return ""
        self.choices += 1
        delta = getattr(choices[0], "delta", None)
        if delta is None:
            return ""
        for call in getattr(delta, "tool_calls", None) or ():
            pieces = self.tool_calls.setdefault(getattr(call, "index", 0) or 0, _ToolCallPieces())
            pieces.id = pieces.id or (getattr(call, "id", None) or "")
            function = getattr(call, "function", None)
            if function is not None:
                pieces.name = pieces.name or (getattr(function, "name", None) or "")
                pieces.arguments.append(getattr(function, "arguments", None) or "")
        piece = getattr(delta, "content", None) or ""
        if piece:
            self.text.append(piece)
        return piece

    def reply(self, *, usage_reported: bool) -> ModelReply:
        """The whole reply. Without a usage the provider reported, its tokens are 0 (the
        runtime then charges the call's whole reservation, as for any reply without one)."""
        if not self.choices:
            raise CallFailed("the provider's reply has no choices", retry=True, billed=True)
        calls = tuple(
            ToolCall(pieces.name, tool_arguments("".join(pieces.arguments)), pieces.id)
            for _, pieces in sorted(self.tool_calls.items())
        )
        return ModelReply(
            content="".join(self.text),
            tool_calls=calls,
            input_tokens=self.input_tokens if usage_reported else 0,
            output_tokens=self.output_tokens if usage_reported else 0,
        )
