"""Real providers through litellm (`acompletion`), imported on first use only.

Transient failures (rate limits, 5xx, timeouts, dropped connections) are retried with
exponential backoff; every call has a timeout; a semaphore per model bounds concurrency.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
from typing import Any

from .errors import ModelCallError
from .models import ModelReply, ModelRequest, ToolCall

TRANSIENT = (
    "RateLimitError",
    "APIConnectionError",
    "Timeout",
    "InternalServerError",
    "ServiceUnavailableError",
    "APIError",
)


class LiteLLMModel:
    def __init__(
        self,
        retries: int = 3,
        timeout: float = 60.0,
        concurrency: int = 8,
        backoff: float = 0.5,
        model: str | None = None,
        **overrides: Any,
    ):
        """`model` and `overrides` (e.g. `api_base`) replace the request's, for every call:
        how `rolegraph run --model openai/x --api-base URL` points all roles at one server."""
        self.model = model
        self.overrides = overrides
        self.retries = retries
        self.timeout = timeout
        self.backoff = backoff
        self.concurrency = concurrency
        self._semaphores: dict[str, asyncio.Semaphore] = {}

    async def complete(self, request: ModelRequest) -> ModelReply:
        # litellm fetches its price table from the internet at import unless told to use
        # the copy it ships: offline (and in tests) that costs seconds of retries.
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm  # lazily: neither `import rolegraph` nor the compiler pays for it

        params = {**request.params, **self.overrides}
        model = self.model or request.model
        retries = int(params.pop("retries", self.retries))
        timeout = float(params.pop("timeout", self.timeout))
        limit = int(params.pop("concurrency", self.concurrency))
        backoff = float(params.pop("backoff", self.backoff))
        structured = str(params.pop("structured_output", "json_object"))
        params.pop("cost_per_input_token", None)
        params.pop("cost_per_output_token", None)
        semaphore = self._semaphores.setdefault(model, asyncio.Semaphore(limit))
        arguments: dict[str, Any] = {
            "model": model,
            "messages": list(request.messages),
            "timeout": timeout,
            "response_format": _response_format(structured, request.schema),
            "max_retries": 0,  # the retries are ours: counted, bounded, with backoff
            **params,
        }
        if request.tools:
            arguments["tools"] = [{"type": "function", "function": t} for t in request.tools]
        for attempt in range(retries + 1):
            try:
                async with semaphore:
                    response = await asyncio.wait_for(litellm.acompletion(**arguments), timeout + 1)
                return _reply(litellm, response)
            except Exception as error:
                transient = isinstance(error, asyncio.TimeoutError) or any(
                    name in type(error).__name__ for name in TRANSIENT
                )
                if not transient or attempt == retries:
                    raise ModelCallError(
                        f"{request.model}: {type(error).__name__}: {error}"
                    ) from error
                await asyncio.sleep(backoff * 2**attempt * (1 + random.random() / 2))
        raise ModelCallError(f"{request.model}: no reply")  # pragma: no cover


def _response_format(kind: str, schema: dict[str, Any]) -> dict[str, Any]:
    """How to ask for structured output. `json_object` works everywhere; `json_schema` is
    OpenAI's structured outputs; `schema_in_json_object` is llama.cpp's server, which then
    constrains decoding to the schema (what makes a 135M model reply valid JSON)."""
    if kind == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "result", "schema": schema, "strict": False},
        }
    if kind == "schema_in_json_object":
        return {"type": "json_object", "schema": schema}
    return {"type": "json_object"}


def _reply(litellm: Any, response: Any) -> ModelReply:
    message = response.choices[0].message
    calls = tuple(
        ToolCall(call.function.name, json.loads(call.function.arguments or "{}"), call.id)
        for call in (getattr(message, "tool_calls", None) or ())
    )
    usage = getattr(response, "usage", None)
    try:
        cost = float(litellm.completion_cost(completion_response=response))
    except Exception:  # unknown models have no price table
        cost = 0.0
    return ModelReply(
        content=message.content or "",
        tool_calls=calls,
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
        cost=cost,
    )
