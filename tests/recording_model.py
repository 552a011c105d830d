"""A model that hands every request to another and records each call: the request, the
reply (or the error) and when the call began and ended. The real-model tests and benches
read from it what the server answered and how much of a run's time was spent in it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from rolegraph.runtime import Model, ModelReply, ModelRequest


@dataclass(frozen=True)
class Call:
    request: ModelRequest
    reply: ModelReply | None  # None when the call raised
    error: str | None
    began: float  # time.perf_counter()
    ended: float


class RecordingModel:
    def __init__(self, inner: Model):
        self.inner = inner
        self.calls: list[Call] = []
        # where the inner model sends every role (LiteLLMModel(model=..., api_base=...)):
        # a run reads it from the model it is given
        self.provider = getattr(inner, "provider", None)

    async def complete(self, request: ModelRequest) -> ModelReply:
        began = time.perf_counter()
        try:
            reply = await self.inner.complete(request)
        except Exception as error:
            self.calls.append(
                Call(request, None, f"{type(error).__name__}: {error}", began, time.perf_counter())
            )
            raise
        self.calls.append(Call(request, reply, None, began, time.perf_counter()))
        return reply

    def busy_seconds(self) -> float:
        """The time during which at least one call was in flight (calls that overlap count
        once): the part of a run's wall time spent inside the model."""
        total, reach = 0.0, float("-inf")
        for call in sorted(self.calls, key=lambda c: c.began):
            if call.ended > reach:
                total += call.ended - max(call.began, reach)
                reach = call.ended
        return total
