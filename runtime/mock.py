"""`mock`: the embedded deterministic model. No key, no network.

Without a script, a reply is a schema-valid value derived from a hash of the request
(role, messages, replica, attempt): the same request always gets the same reply, and
different requests (another draft, another replica) usually differ. With a script,
replies are taken per role, in call order:

    MockModel(script={"Critic": [{"ok": False, "feedback": "shorter"}, {"ok": True, ...}]})

A scripted entry `{"tool": "calculator", "arguments": {...}}` is a tool call. A scripted
entry that is an exception instance is raised (to test `on error` edges and retries).

It streams too (`stream`): the same reply, its text in pieces of `PIECE` characters.
With a latency, half of it passes before the first piece (a model's time to its first
token) and the rest is spread between the pieces, so a streamed call takes as long as
one that is not.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from typing import Any

from rolegraph.compiler.schema_fold import SchemaFold

from .models import ModelReply, ModelRequest, ToolCall

PIECE = 12  # characters per streamed piece: a few tokens, as providers send them

WORDS = [
    "alpha",
    "bravo",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "iris",
    "juniper",
    "kestrel",
    "lumen",
    "meadow",
    "nimbus",
    "onyx",
    "pebble",
]


class MockModel:
    def __init__(
        self,
        script: dict[str, list[Any]] | None = None,
        latency: Callable[[ModelRequest], float] | None = None,
    ):
        self.script = {role: list(replies) for role, replies in (script or {}).items()}
        self.latency = latency
        self.calls: list[ModelRequest] = []
        self._position: dict[str, int] = {}

    async def complete(self, request: ModelRequest) -> ModelReply:
        self.calls.append(request)
        if self.latency is not None:
            await asyncio.sleep(self.latency(request))
        return self._answer(request)

    async def stream(self, request: ModelRequest, on_text: Callable[[str], None]) -> ModelReply:
        """The reply `complete` gives, its text handed to `on_text` in pieces."""
        self.calls.append(request)
        delay = self.latency(request) if self.latency is not None else 0.0
        if delay:
            await asyncio.sleep(delay / 2)
        reply = self._answer(request)
        pieces = [reply.content[i : i + PIECE] for i in range(0, len(reply.content), PIECE)]
        for piece in pieces:
            on_text(piece)
            if delay:
                await asyncio.sleep(delay / 2 / len(pieces))
        return reply

    def _answer(self, request: ModelRequest) -> ModelReply:
        key = request.role
        if key not in self.script:  # `std.self_refine.Write` is scripted as `Write` too
            key = request.role.rsplit(".", 1)[-1]
        scripted = self.script.get(key)
        if scripted:
            index = self._position.get(key, 0)
            self._position[key] = index + 1
            reply = scripted[min(index, len(scripted) - 1)]
            if isinstance(reply, BaseException):
                raise reply
            if isinstance(reply, dict) and set(reply) == {"tool", "arguments"}:
                return ModelReply(
                    "",
                    (ToolCall(reply["tool"], reply["arguments"], f"call{index}"),),
                    *self._usage(request, ""),
                )
            content = reply if isinstance(reply, str) else json.dumps(reply)
            return ModelReply(content, (), *self._usage(request, content))
        content = json.dumps(generate(request.schema, _seed(request)))
        return ModelReply(content, (), *self._usage(request, content))

    @staticmethod
    def _usage(request: ModelRequest, content: str) -> tuple[int, int]:
        prompt = sum(len(str(m.get("content", ""))) for m in request.messages)
        return max(1, prompt // 4), max(1, len(content) // 4)


def _seed(request: ModelRequest) -> int:
    parts: list[Any] = [request.role, request.messages, request.replica, request.attempt]
    if "seed" in request.params:  # a search's seed varies the replies, as it would a model's
        parts.append(request.params["seed"])
    identity = json.dumps(parts, sort_keys=True, default=str)
    return int.from_bytes(hashlib.sha256(identity.encode()).digest()[:8], "big")


def generate(schema: dict[str, Any], seed: int, path: str = "") -> Any:
    """A value valid for `schema`, chosen by `seed` (and the path inside the value)."""
    return _Generate(seed).fold(schema, path)


class _Generate(SchemaFold[Any]):
    def __init__(self, seed: int) -> None:
        self.seed = seed

    def local(self, path: str) -> int:
        return int.from_bytes(hashlib.sha256(f"{self.seed}:{path}".encode()).digest()[:8], "big")

    def any_of(self, options: list[dict[str, Any]], path: str) -> Any:
        return self.fold(([s for s in options if s.get("type") != "null"] or options)[0], path)

    def enum(self, members: list[Any], path: str) -> Any:
        return members[self.local(path) % len(members)]

    def mapping(self, values: dict[str, Any] | None, path: str) -> Any:
        key = WORDS[self.local(path) % len(WORDS)]
        return {key: self.fold(values or {"type": "string"}, path + ".value")}

    def record(self, properties: dict[str, dict[str, Any]], path: str) -> Any:
        return {name: self.fold(sub, f"{path}.{name}") for name, sub in properties.items()}

    def array(self, items: dict[str, Any], path: str) -> Any:
        # One to three items, but one only inside another list: a value of a deeply
        # nested list type then grows with its depth, not exponentially.
        count = 1 + self.local(path) % 3 if "[" not in path else 1
        return [self.fold(items, f"{path}[{i}]") for i in range(count)]

    def scalar(self, kind: str | None, path: str) -> Any:
        local = self.local(path)
        if kind == "string":
            return f"{WORDS[local % len(WORDS)]} {WORDS[(local >> 8) % len(WORDS)]} {local % 1000}"
        if kind == "integer":
            return local % 10
        if kind == "number":
            return round((local % 1000) / 1000, 3)
        if kind == "boolean":
            return bool(local & 1)
        return None
