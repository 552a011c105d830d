"""Budgets on calls, tokens and cost per run, never exceeded.

Before each attempt at a call the runtime *reserves* its worst case: one call, a bound on
the prompt's tokens plus the most output tokens the call may produce, and what those
cost. The call is then made with a `max_tokens` no larger than what is left, so the
provider cannot produce more. Parallel calls reserve too, so together they cannot
overshoot. When the attempt ends, its reservation is settled with what the provider
reported; an attempt that may have been done without a reply (a timeout, a dropped
connection, a call cancelled in flight) is charged its whole reservation.

The prompt bound holds whatever the provider's tokenizer: a byte-level tokenizer never
makes more tokens than the text has UTF-8 bytes, and a chat template adds at most
`MESSAGE_TOKENS` per message and `REQUEST_TOKENS` per request (special tokens, a default
system prompt). A model's own tokenizer gives a closer estimate, for people to read;
the guarantee never depends on one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import RunError
from .models import ModelRequest
from .providers import Price

REQUEST_TOKENS = 64
MESSAGE_TOKENS = 8


class BudgetError(RunError):
    """A call cannot be made within the run's budget: the run stops before making it."""


class BudgetExceeded(BudgetError):
    """The next call could go over the run's budget."""


class UnpricedModel(BudgetError):
    """A cost budget, and a model whose price is not known."""


def prompt_bound(request: ModelRequest) -> int:
    """At most how many tokens the request's prompt is, for any tokenizer."""
    size = REQUEST_TOKENS
    for message in request.messages:
        size += MESSAGE_TOKENS + _utf8_size(message)
    if request.tools:
        size += _utf8_size(request.tools)
    if request.params.get("structured_output") == "json_schema":  # the schema is prompt too
        size += _utf8_size(request.schema)
    return size


def _utf8_size(value: Any) -> int:
    # A lone surrogate (from a JSON input's "\ud800") has no UTF-8 form; counted as
    # the three bytes it would take, it makes the bound no smaller.
    return len(json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"))


@dataclass
class Reservation:
    calls: int
    tokens: int
    cost: float


@dataclass
class Budget:
    calls: int | None = None
    tokens: int | None = None
    cost: float | None = None
    spent_calls: int = 0
    spent_tokens: int = 0
    spent_cost: float = 0.0
    # called after every charge: how a run's store keeps what was spent (for `--resume`)
    on_spend: Callable[[Budget], None] | None = field(default=None, repr=False, compare=False)
    _reserved: list[Reservation] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Budget:
        """`calls=20,tokens=5000,cost=0.50` → Budget(calls=20, tokens=5000, cost=0.5)."""
        budget = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in ("calls", "tokens", "cost") or not value:
                raise ValueError(f"unknown budget {part!r}: use calls=N, tokens=N, cost=X")
            try:
                number = float(value) if name == "cost" else int(value)
            except ValueError:
                raise ValueError(f"budget {name} takes a number, not {value!r}") from None
            if number < 0:
                raise ValueError(f"budget {name} cannot be negative")
            setattr(budget, name, number)
        return budget

    def text(self) -> str:
        """The limits as `parse` reads them."""
        limits = (("calls", self.calls), ("tokens", self.tokens), ("cost", self.cost))
        return ",".join(f"{name}={value:g}" for name, value in limits if value is not None)

    @property
    def limited(self) -> bool:
        return self.calls is not None or self.tokens is not None or self.cost is not None

    def _used(self) -> tuple[int, int, float]:
        return (
            self.spent_calls + sum(r.calls for r in self._reserved),
            self.spent_tokens + sum(r.tokens for r in self._reserved),
            self.spent_cost + sum(r.cost for r in self._reserved),
        )

    def reserve(
        self, model: str, prompt_tokens: int, max_output: int, price: Price | None
    ) -> tuple[Reservation, int]:
        """Reserve one attempt at a call; return the reservation and the `max_tokens` the
        call may ask for (at most `max_output`)."""
        if self.cost is not None and price is None:
            raise UnpricedModel(
                f"a cost budget is set, and the price of {model} is not known: declare "
                "`cost_per_input_token` and `cost_per_output_token` in its model block "
                "(or with --param), or drop the cost budget"
            )
        calls, tokens, cost = self._used()
        if self.calls is not None and calls + 1 > self.calls:
            raise BudgetExceeded(
                f"the next call would exceed the budget of {self.calls} calls "
                f"({calls} made or in flight)"
            )
        output = max_output
        if self.tokens is not None:
            output = min(output, self.tokens - tokens - prompt_tokens)
            if output < 1:
                raise BudgetExceeded(
                    f"the next call would exceed the budget of {self.tokens} tokens "
                    f"({tokens} spent or reserved; its prompt may be up to {prompt_tokens})"
                )
        if self.cost is not None and price is not None:
            room = self.cost - cost - prompt_tokens * price.input
            if price.output > 0:
                output = min(output, int(room / price.output))
            if room < 0 or output < 1:
                raise BudgetExceeded(
                    f"the next call would exceed the budget of ${self.cost:g} "
                    f"(${cost:.4f} spent or reserved)"
                )
        charge = price.of(prompt_tokens, output) if price is not None else 0.0
        reservation = Reservation(1, prompt_tokens + output, charge)
        self._reserved.append(reservation)
        return reservation, output

    def settle(self, reservation: Reservation, tokens: int, cost: float) -> None:
        """The attempt ended: charge what it spent."""
        self._drop(reservation)
        self.spent_calls += 1
        self.spent_tokens += tokens
        self.spent_cost += cost
        if self.on_spend is not None:
            self.on_spend(self)

    def charge_all(self, reservation: Reservation) -> None:
        """The attempt may have been done without a reply reaching us: charge it whole."""
        self.settle(reservation, reservation.tokens, reservation.cost)

    def release(self, reservation: Reservation) -> None:
        """The attempt was never sent: nothing was spent."""
        self._drop(reservation)

    def _drop(self, reservation: Reservation) -> None:
        for index, held in enumerate(self._reserved):
            if held is reservation:
                del self._reserved[index]
                return
