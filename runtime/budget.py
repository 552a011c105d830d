"""Budgets on calls, tokens and cost per run, never exceeded.

Before a call the runtime *reserves* its worst case — one call, the prompt's tokens plus
the most output tokens the call may produce, and what that costs — and gives the model a
`max_tokens` that fits what is left. Parallel calls reserve too, so together they cannot
overshoot. After the reply, the reservation is settled with the real figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import RunError

DEFAULT_OUTPUT_TOKENS = 1024  # the worst case assumed for a model that declares no max_tokens


class BudgetExceeded(RunError):
    """The next call could go over the run's budget: the run stops before making it."""


@dataclass
class Budget:
    calls: int | None = None
    tokens: int | None = None
    cost: float | None = None
    spent_calls: int = 0
    spent_tokens: int = 0
    spent_cost: float = 0.0
    _reserved: list[tuple[int, int, float]] = field(default_factory=list, repr=False)

    @classmethod
    def parse(cls, text: str) -> Budget:
        """`calls=20,tokens=5000,cost=0.50` → Budget(calls=20, tokens=5000, cost=0.5)."""
        budget = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in ("calls", "tokens", "cost") or not value:
                raise ValueError(f"unknown budget {part!r}: use calls=N, tokens=N, cost=X")
            setattr(budget, name, float(value) if name == "cost" else int(value))
        return budget

    def _used(self) -> tuple[int, int, float]:
        calls = self.spent_calls + sum(r[0] for r in self._reserved)
        tokens = self.spent_tokens + sum(r[1] for r in self._reserved)
        cost = self.spent_cost + sum(r[2] for r in self._reserved)
        return calls, tokens, cost

    def reserve(
        self, input_tokens: int, max_output: int | None, price_in: float, price_out: float
    ) -> tuple[tuple[int, int, float], int | None]:
        """Reserve one call; return the reservation and the `max_tokens` to ask for."""
        calls, tokens, cost = self._used()
        if self.calls is not None and calls + 1 > self.calls:
            raise BudgetExceeded(f"the next call would exceed the budget of {self.calls} calls")
        output = max_output if max_output is not None else DEFAULT_OUTPUT_TOKENS
        if self.tokens is not None:
            room = self.tokens - tokens - input_tokens
            if room < 1:
                raise BudgetExceeded(
                    f"the next call would exceed the budget of {self.tokens} "
                    f"tokens ({tokens} used or reserved, {input_tokens} in "
                    "its prompt)"
                )
            output = min(output, room)
        if self.cost is not None:
            room_cost = self.cost - cost - input_tokens * price_in
            if room_cost < 0 or (price_out > 0 and room_cost < price_out):
                raise BudgetExceeded(f"the next call would exceed the budget of ${self.cost}")
            if price_out > 0:
                output = min(output, int(room_cost / price_out))
        reservation = (1, input_tokens + output, input_tokens * price_in + output * price_out)
        self._reserved.append(reservation)
        limit = (
            output
            if (
                max_output is not None
                or self.tokens is not None
                or (self.cost is not None and price_out > 0)
            )
            else None
        )
        return reservation, limit

    def settle(
        self,
        reservation: tuple[int, int, float],
        input_tokens: int,
        output_tokens: int,
        cost: float,
    ) -> None:
        self._reserved.remove(reservation)
        self.spent_calls += 1
        self.spent_tokens += input_tokens + output_tokens
        self.spent_cost += cost

    def release(self, reservation: tuple[int, int, float]) -> None:
        """A call that failed before replying: nothing was spent."""
        self._reserved.remove(reservation)
