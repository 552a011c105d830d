"""Real providers through litellm (`acompletion`), imported on first use only.

One `complete` is one attempt at one request: retries, timeouts, concurrency limits,
budgets and the cache are the runtime's (runtime/calls.py). What this adapter adds is
what only litellm knows: how to reach the provider, which of its errors may pass
(rate limits, overload, dropped connections) and which will not (a bad key, a bad
request, a model that does not exist), and the provider's prices.

`stream` is the same attempt as a stream (`acompletion(..., stream=True)`, asking for
the usage in a last chunk): the text is handed over as it arrives and the reply is
assembled from the chunks (runtime/streamed_reply.py). A usage litellm made up because
the provider sent none is not taken for the provider's word.

litellm writes banners and tips to stdout unless told not to; `configure` tells it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable
from typing import Any

from rolegraph.compiler.pyimport import ready_for_other_code

from .models import CallFailed, ModelReply, ModelRequest, ToolCall
from .providers import Price, Provider, provider_params
from .repair import tool_arguments
from .streamed_reply import StreamedReply

_configured = threading.Lock()
_litellm: Any = None


def load_litellm() -> Any:
    """litellm, imported and quietened (once per process)."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _configured:
        if _litellm is None:
            # its price table comes with the package: fetching it at import costs seconds
            # of retries offline
            os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
            ready_for_other_code()  # (the modules the command deferred, run first)
            import litellm

            litellm.suppress_debug_info = True  # no "Provider List" / "Give Feedback" prints
            litellm.set_verbose = False
            litellm.telemetry = False
            for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm"):
                logging.getLogger(name).setLevel(logging.ERROR)
            _litellm = litellm
    return _litellm


def warm_up() -> threading.Thread:
    """Import litellm in a background thread (while a file is being checked, say), so
    that the first call does not wait for it."""
    thread = threading.Thread(target=load_litellm, name="import-litellm", daemon=True)
    thread.start()
    return thread


class LiteLLMModel:
    """Any provider litellm reaches. `LiteLLMModel(model="openai/x", api_base=URL)` is
    shorthand for running with `model="openai/x"` and `params={"api_base": URL}`: every
    role calls that model, with those parameters (see `provider`)."""

    def __init__(self, model: str | None = None, **params: Any):
        self.provider = Provider(model, params)

    async def complete(self, request: ModelRequest) -> ModelReply:
        litellm = load_litellm()
        try:
            response = await litellm.acompletion(**_arguments(request))
        except Exception as error:
            raise classify(litellm, error) from error
        return _reply(response)

    async def stream(self, request: ModelRequest, on_text: Callable[[str], None]) -> ModelReply:
        """One attempt, streamed: `on_text` gets each piece of text as it arrives."""
        litellm = load_litellm()
        arguments = {
            **_arguments(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            response = await litellm.acompletion(**arguments)
        except Exception as error:
            raise classify(litellm, error) from error
        assembled = StreamedReply()
        chunks = response.__aiter__()
        try:
            while True:
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
                except Exception as error:
                    failed = classify(litellm, error)
                    # once chunks came, the provider was at work: that attempt may be billed
                    failed.billed = failed.billed or assembled.chunks > 0
                    raise failed from error
                piece = assembled.add(chunk)
                if piece:
                    on_text(piece)
        finally:
            await _close(response)  # a timeout or a cancelled call stops the generation
        return assembled.reply(usage_reported=_usage_reported(response))

    def price(self, request: ModelRequest) -> Price | None:
        """litellm's price for the model, when its table has one."""
        litellm = load_litellm()
        try:
            info = litellm.get_model_info(model=request.model)
        except Exception:  # not in the table: a local server, a new model
            return None
        given_in = info.get("input_cost_per_token")
        given_out = info.get("output_cost_per_token")
        if given_in is None and given_out is None:
            return None
        return Price(float(given_in or 0.0), float(given_out or 0.0))


def _arguments(request: ModelRequest) -> dict[str, Any]:
    """What `acompletion` is given for a request."""
    params = provider_params(request.params)
    structured = str(params.pop("structured_output", "json_object"))
    arguments: dict[str, Any] = {
        "model": request.model,
        "messages": list(request.messages),
        "response_format": _response_format(structured, request.schema),
        "max_retries": 0,  # the retries are the runtime's: counted, budgeted, backed off
        **params,
    }
    if request.tools:
        arguments["tools"] = [{"type": "function", "function": t} for t in request.tools]
    return arguments


def _usage_reported(response: Any) -> bool:
    """Whether the provider itself sent a usage in the stream. litellm keeps the chunks it
    received (`chunks`) and, when none had a usage, makes one up from its own tokenizer:
    a guess, which a budget must not settle on."""
    received = getattr(response, "chunks", None)
    if not isinstance(received, list):  # a litellm that does not keep them: take its word
        return True
    return any(getattr(chunk, "usage", None) is not None for chunk in received)


async def _close(response: Any) -> None:
    close = getattr(response, "aclose", None)
    if close is None:
        return
    with contextlib.suppress(Exception):  # a stream that failed: nothing more to learn
        await close()


def classify(litellm: Any, error: Exception) -> CallFailed:
    """A provider's error, as the runtime needs it: may another attempt pass, after how
    long, and may this one have been billed."""
    status = getattr(error, "status_code", None)
    detail = _detail(error)
    # the provider's SDK refusing to start without a key: litellm calls it a 500, yet no
    # request left, and no retry will find a key
    no_key = _MISSING_KEY.search(detail) is not None
    if no_key or isinstance(error, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return CallFailed(
            f"the provider refused the credentials ({status or 401}): set its API key "
            f"(for example OPENAI_API_KEY), or `api_key` in the model block. {detail}",
            retry=False,
        )
    if isinstance(error, litellm.NotFoundError):
        return CallFailed(
            f"the provider has no such model or endpoint (404): {detail}", retry=False
        )
    if isinstance(error, litellm.BadRequestError | litellm.UnprocessableEntityError):
        return CallFailed(
            f"the provider refused the request ({status or 400}): {detail}", retry=False
        )
    if isinstance(error, litellm.RateLimitError):
        return CallFailed(
            f"rate limited (429): {detail}", retry=True, retry_after=_retry_after(error)
        )
    if isinstance(error, litellm.Timeout):
        return CallFailed(f"the provider timed out: {detail}", retry=True, billed=True)
    if isinstance(error, litellm.APIConnectionError):
        return CallFailed(f"the connection failed: {detail}", retry=True, billed=True)
    if (isinstance(status, int) and status >= 500) or isinstance(
        error, litellm.InternalServerError | litellm.ServiceUnavailableError
    ):
        return CallFailed(
            f"the provider failed ({status or 500}): {detail}",
            retry=True,
            retry_after=_retry_after(error),
        )
    if isinstance(status, int) and 400 <= status < 500:
        return CallFailed(f"the provider refused the request ({status}): {detail}", retry=False)
    if isinstance(error, litellm.APIError):
        return CallFailed(f"the provider failed: {detail}", retry=True, billed=True)
    return CallFailed(f"{type(error).__name__}: {detail}", retry=False)


_MISSING_KEY = re.compile(r"missing credentials|api_key client option must be set", re.IGNORECASE)


def _detail(error: Exception) -> str:
    text = str(error).strip().replace("\n", " ")
    for prefix in ("litellm.", "OpenAIException - ", "OpenAIException -"):
        text = text.replace(prefix, "")
    return text[:300] + ("…" if len(text) > 300 else "")


def _retry_after(error: Exception) -> float | None:
    """The seconds a provider asked to wait (`Retry-After`, or `retry-after-ms`)."""
    headers: Any = getattr(error, "litellm_response_headers", None) or getattr(
        getattr(error, "response", None), "headers", None
    )
    if not headers:
        return None
    try:
        if headers.get("retry-after-ms") is not None:
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after") is not None:
            return float(headers["retry-after"])
    except (TypeError, ValueError):  # an HTTP date, or garbage: our own backoff decides
        return None
    return None


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


def _reply(response: Any) -> ModelReply:
    choices = getattr(response, "choices", None) or []
    if not choices:
        raise CallFailed("the provider's reply has no choices", retry=True, billed=True)
    message = choices[0].message
    calls = tuple(
        ToolCall(call.function.name, tool_arguments(call.function.arguments), call.id or "")
        for call in (getattr(message, "tool_calls", None) or ())
    )
    usage = getattr(response, "usage", None)
    return ModelReply(
        content=message.content or "",
        tool_calls=calls,
        input_tokens=getattr(usage, "prompt_tokens", 0) or 0,
        output_tokens=getattr(usage, "completion_tokens", 0) or 0,
    )
