"""One model call, made the way a production client makes it — the same for every model.

    reply = await make_call(model, request, Calls(budget=..., cache=...), usage)

In order: the response cache is asked first (a reply found there costs nothing and
spends no budget); then each attempt reserves its worst case from the budget, waits for
a slot of the endpoint's concurrency limit, and runs under the call's timeout; the
reservation is settled with what the provider reported. Failures a model classifies as
passing (`CallFailed(retry=True)`: rate limits, overload, dropped connections) and
timeouts are retried with capped, jittered exponential backoff, honouring the
provider's `Retry-After`; others fail at once with one clear line.

Every attempt sent is counted in `usage` (the firing's record), timed-out and
cancelled ones included.

With a `listener` (runtime/events.py), the reply's text is handed to it as it arrives:
from a model that streams (`StreamingModel`), piece by piece; from one that does not, or
from the cache, in one piece. Nothing else changes: the same attempts, reservations,
timeouts and retries, and the same reply. A retried attempt streams again from the
start (each piece says which attempt it belongs to).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from .budget import Budget, prompt_bound
from .errors import ModelCallError
from .limits import gate
from .models import CallFailed, Model, ModelReply, ModelRequest, changed
from .providers import DEFAULT_MAX_TOKENS, Price, declared_price, is_mock, provider_params

if TYPE_CHECKING:  # (tenacity is imported by the first call that may be retried)
    import tenacity

# The note a firing's record gets for each call retried (the summary counts them).
RETRIED = "retried"


class Usage(Protocol):
    """Where a call's figures are added up (a firing's record)."""

    calls: int
    cached_calls: int
    input_tokens: int
    output_tokens: int
    cost: float
    notes: list[str]


class Cache(Protocol):
    def cached_reply(self, request: ModelRequest) -> ModelReply | None: ...
    def save_reply(self, request: ModelRequest, reply: ModelReply) -> None: ...


class TextListener(Protocol):
    """Who is told a reply's text as it arrives: each piece, with the request and the
    number of the attempt (from 1) it belongs to."""

    def text(self, request: ModelRequest, attempt: int, piece: str) -> None: ...


@dataclass(frozen=True)
class CallPolicy:
    """How calls to a model are made; from its parameters (`retries: 2, timeout: 30`)."""

    retries: int = 3
    timeout: float = 60.0
    backoff: float = 0.5  # the first wait; it doubles, with jitter
    max_backoff: float = 30.0  # no wait is longer (a `Retry-After` included)
    concurrency: int = 8

    @classmethod
    def of(cls, params: Mapping[str, Any]) -> CallPolicy:
        return cls(
            retries=int(params.get("retries", cls.retries)),
            timeout=float(params.get("timeout", cls.timeout)),
            backoff=float(params.get("backoff", cls.backoff)),
            max_backoff=float(params.get("max_backoff", cls.max_backoff)),
            concurrency=int(params.get("concurrency", cls.concurrency)),
        )


@dataclass
class Calls:
    """What the calls of one run share."""

    budget: Budget | None = None
    cache: Cache | None = None
    listener: TextListener | None = None


async def make_call(model: Model, request: ModelRequest, calls: Calls, usage: Usage) -> ModelReply:
    """Make one call (retrying as its policy says). Raises `ModelCallError` when it fails,
    `BudgetError` when the budget does not allow it."""
    if calls.cache is not None:
        cached = calls.cache.cached_reply(request)
        if cached is not None:
            usage.cached_calls += 1
            if calls.listener is not None and cached.content:  # (one piece: nothing to wait for)
                calls.listener.text(request, 1, cached.content)
            return changed(cached, cached=True)
    policy = CallPolicy.of(request.params)
    price = model_price(model, request)
    sent = changed(
        request,
        params={
            "max_tokens": DEFAULT_MAX_TOKENS,
            **provider_params(request.params),
        },
    )
    number = 0
    listener = calls.listener
    try:
        if is_mock(request.model):  # in process: nothing to retry
            number = 1
            on_text = None if listener is None else partial(listener.text, request, number)
            reply = await _attempt(model, sent, policy, price, calls.budget, usage, on_text)
        else:
            import tenacity

            attempts = tenacity.AsyncRetrying(
                stop=tenacity.stop_after_attempt(policy.retries + 1),
                wait=_Backoff(policy),
                retry=tenacity.retry_if_exception(_passing),
                reraise=True,
            )
            async for attempt in attempts:
                with attempt:
                    number += 1
                    if number > 1:
                        usage.notes.append(f"{RETRIED} {request.model} (attempt {number})")
                    on_text = None if listener is None else partial(listener.text, request, number)
                    reply = await _attempt(model, sent, policy, price, calls.budget, usage, on_text)
    except TimeoutError:
        raise ModelCallError(
            f"{request.model} did not answer within {policy.timeout:g} s ({_tries(number)})"
        ) from None
    except CallFailed as error:
        raise ModelCallError(f"{request.model}: {error} ({_tries(number)})") from None
    if calls.cache is not None:
        calls.cache.save_reply(request, reply)
    return reply


async def _attempt(
    model: Model,
    request: ModelRequest,
    policy: CallPolicy,
    price: Price | None,
    budget: Budget | None,
    usage: Usage,
    on_text: Callable[[str], None] | None = None,
) -> ModelReply:
    """One attempt: reserve, wait for a slot, call under the timeout, settle."""
    prompt = prompt_bound(request)
    limit = int(request.params["max_tokens"])
    reservation = None
    if budget is not None:
        reservation, limit = budget.reserve(request.model, prompt, limit, price)
        request = changed(request, params={**request.params, "max_tokens": limit})
    endpoint = gate(request.model, str(request.params.get("api_base", "")), policy.concurrency)
    limited = not is_mock(request.model)
    sent = False
    try:
        if limited:
            async with endpoint.slot():
                sent = True
                async with asyncio.timeout(policy.timeout):
                    reply = await answer(model, request, on_text)
        else:
            sent = True
            async with asyncio.timeout(policy.timeout):
                reply = await answer(model, request, on_text)
    except TimeoutError:
        endpoint.timed_out()
        _charge_unknown(usage, budget, reservation, prompt)
        usage.notes.append(f"{request.model} did not answer within {policy.timeout:g} s")
        raise
    except asyncio.CancelledError:
        # cancelled in flight (a return won, the budget ran out elsewhere): the provider
        # may finish the work all the same
        if sent:
            _charge_unknown(usage, budget, reservation, prompt)
            usage.notes.append("a call was cancelled in flight; charged its reservation")
        elif budget is not None and reservation is not None:
            budget.release(reservation)
        raise
    except CallFailed as error:
        if error.billed:
            _charge_unknown(usage, budget, reservation, prompt)
        else:
            usage.calls += 1
            if budget is not None and reservation is not None:
                budget.settle(reservation, 0, 0.0)
        usage.notes.append(f"{request.model}: {error}")
        raise
    except BaseException:
        usage.calls += 1
        if budget is not None and reservation is not None:
            budget.charge_all(reservation)
        raise
    if limited:
        endpoint.answered()
    reported = reply.input_tokens > 0 or reply.output_tokens > 0
    input_tokens = reply.input_tokens if reported else prompt
    output_tokens = min(reply.output_tokens, limit) if reported else limit
    cost = price.of(input_tokens, output_tokens) if price is not None else reply.cost
    reply = changed(reply, input_tokens=input_tokens, output_tokens=output_tokens, cost=cost)
    usage.calls += 1
    usage.input_tokens += input_tokens
    usage.output_tokens += output_tokens
    usage.cost += cost
    if budget is not None and reservation is not None:
        budget.settle(reservation, input_tokens + output_tokens, cost)
    return reply


async def answer(
    model: Model, request: ModelRequest, on_text: Callable[[str], None] | None
) -> ModelReply:
    """The model's reply to one attempt. With `on_text`, its text is handed over as it
    arrives when the model streams, else in one piece."""
    if on_text is None:
        return await model.complete(request)
    stream = getattr(model, "stream", None)
    if stream is None:
        reply = await model.complete(request)
        if reply.content:
            on_text(reply.content)
        return reply
    return await stream(request, on_text)  # type: ignore[no-any-return]


def _charge_unknown(usage: Usage, budget: Budget | None, reservation: Any, prompt: int) -> None:
    """An attempt that may have been served without a reply: the prompt surely counts,
    and the budget is charged the whole reservation."""
    usage.calls += 1
    usage.input_tokens += prompt
    if budget is not None and reservation is not None:
        budget.charge_all(reservation)


def model_price(model: Model, request: ModelRequest) -> Price | None:
    """The price of a call: declared in the model block, else the model's own word
    (litellm's price table), else None (unknown). The mock is free."""
    declared = declared_price(request.params)
    if declared is not None:
        return declared
    if is_mock(request.model):
        return Price(0.0, 0.0)
    lookup = getattr(model, "price", None)
    return lookup(request) if lookup is not None else None


def _passing(error: BaseException) -> bool:
    return isinstance(error, asyncio.TimeoutError) or (
        isinstance(error, CallFailed) and error.retry
    )


def _tries(number: int) -> str:
    return "1 attempt" if number == 1 else f"{number} attempts"


class _Backoff:
    """Exponential backoff with full jitter, capped; a provider's `Retry-After` is honoured
    (within the cap). (tenacity takes any callable as its wait: not subclassing its
    `wait_base` leaves tenacity unimported by runs that retry nothing.)"""

    def __init__(self, policy: CallPolicy):
        self.policy = policy

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        asked = getattr(error, "retry_after", None)
        if asked is not None:
            return float(min(max(asked, 0.0), self.policy.max_backoff))
        ceiling = self.policy.backoff * 2 ** (retry_state.attempt_number - 1)
        return random.uniform(0, min(ceiling, self.policy.max_backoff))
