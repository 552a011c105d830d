"""Which model a role's call goes to, with which parameters, and what that model costs.

A role declares its model (`model fast = "openai/gpt-4o-mini" { ... }`). A run may say
otherwise for every role at once — `rolegraph run --model openai/x --api-base URL
--param temperature=0` — and that is a `Provider`: it names the model every role calls
(or None: each its declared one) and parameters laid over each role's own.

When the run names another model than the one declared, the declared model's connection
and price (`api_base`, `api_key`, `structured_output`, its prices) stay with the declared
model: they describe its provider, not the one now called. What a role asks of any model
(`temperature`, `max_tokens`, ...) is kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Parameters that belong to a provider, not to a role's request.
CONNECTION = frozenset(
    {
        "api_base",
        "api_key",
        "api_version",
        "structured_output",
        "cost_per_input_token",
        "cost_per_output_token",
    }
)

# Parameters that rule how rolegraph makes a call; they never reach the provider.
CONTROL = frozenset(
    {
        "retries",
        "timeout",
        "backoff",
        "max_backoff",
        "concurrency",
        "cost_per_input_token",
        "cost_per_output_token",
    }
)

# Every call has an output cap: a model that declares no `max_tokens` gets this one.
# (A small model under a constrained grammar otherwise fills its whole context.)
DEFAULT_MAX_TOKENS = 1024


def is_mock(model: str) -> bool:
    return model == "mock" or model.startswith("mock:")


def mock_latency(model: str) -> float:
    """The delay in seconds that `"mock:latency=0.05"` asks of each call (0 for "mock").
    Raises ValueError, in words, for anything but a finite number of seconds of at least
    0: `inf` or `nan` would make every call wait until its timeout, a negative delay
    means nothing, and an option the mock does not know is a typo."""
    delay = 0.0
    for option in filter(None, model[len("mock:") :].split(",") if ":" in model else ()):
        name, sep, value = option.partition("=")
        if name.strip() != "latency" or not sep:
            raise ValueError(f"{model}: the mock takes one option, latency=SECONDS, not {option!r}")
        try:
            delay = float(value)
        except ValueError:
            delay = math.nan
        if not math.isfinite(delay) or delay < 0:
            raise ValueError(
                f"{model}: the latency is a finite number of seconds, at least 0 "
                f"(like mock:latency=0.05), not {value!r}"
            )
    return delay


@dataclass(frozen=True)
class Provider:
    """`model`: the model every role calls (None: each role's declared model).
    `params`: laid over each role's own parameters (for every model called)."""

    model: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def resolve(self, declared: str | None, params: Mapping[str, Any]) -> tuple[str, dict]:
        """The model a role's call goes to and the parameters it is made with."""
        model = self.model or declared or "mock"
        chosen = dict(params)
        if self.model is not None and self.model != declared:
            chosen = {k: v for k, v in chosen.items() if k not in CONNECTION}
        chosen.update(self.params)
        return model, chosen


@dataclass(frozen=True)
class Price:
    """Dollars per input token and per output token."""

    input: float
    output: float

    def of(self, input_tokens: int, output_tokens: int) -> float:
        return input_tokens * self.input + output_tokens * self.output


def declared_price(params: Mapping[str, Any]) -> Price | None:
    """The price a model block states (`cost_per_input_token`, `cost_per_output_token`)."""
    if "cost_per_input_token" in params or "cost_per_output_token" in params:
        return Price(
            float(params.get("cost_per_input_token", 0.0)),
            float(params.get("cost_per_output_token", 0.0)),
        )
    return None


def provider_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters a provider receives: the control parameters taken out."""
    return {k: v for k, v in params.items() if k not in CONTROL}
