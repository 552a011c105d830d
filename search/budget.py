"""A hard budget for a whole search: model calls, tokens and dollars, never exceeded across
candidates, seeds and parallel runs.

    budget = SearchBudget.parse("calls=200,tokens=400000")
    evaluator = Evaluator(objective, model=..., budget=budget)

Before an evaluation starts, the evaluator *reserves* the static worst case of every run it
is about to make (runs the store holds cost nothing and reserve nothing): an `Allotment`
per run, from the checker's bound on each node's firings (`worst_case_firings`) times the
model calls of one firing, each call charged a prompt allowance plus the most output
tokens it may ask for (its `max_tokens`), at its price. The evaluation starts only when
the whole reservation fits what is left; otherwise it raises `BudgetSpent` and makes no
call. Each run is held to its allotment by a run budget (runtime/budget.py: a call that
could go over is not made), so what a run spends never exceeds what was reserved for it;
when it ends its reservation is settled with what it spent and the rest is released.

The allotment is a bound the runtime enforces, not a guess. Two parts of it are choices
the budget states: `prompt`, the tokens a call's prompt may take (as the run budget counts
them: the prompt's UTF-8 bytes plus a chat template's overhead, for any tokenizer), and
`attempts`, the attempts per call the allotment pays for (1: a retried or repaired call
comes out of the same allotment, and a run that needs more stops with a budget error and
scores 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rolegraph.compiler.analyses import worst_case_firings
from rolegraph.runtime import DEFAULT_MAX_TOKENS, ModelRequest, ModelsByName, Provider, is_mock
from rolegraph.runtime.budget import Budget
from rolegraph.runtime.calls import model_price
from rolegraph.runtime.providers import Price

PROMPT_ALLOWANCE = 2048  # tokens per call's prompt, as the run budget bounds them


class BudgetSpent(Exception):
    """An evaluation's worst case does not fit what is left of the search's budget."""


class SearchBudgetError(ValueError):
    """A budget that cannot be used as written (a malformed limit, an unpriced model
    under a cost limit)."""


@dataclass(frozen=True)
class Allotment:
    """The most one run (or several, `times`) may spend."""

    calls: int = 0
    tokens: int = 0
    cost: float = 0.0

    def __add__(self, other: Allotment) -> Allotment:
        return Allotment(
            self.calls + other.calls, self.tokens + other.tokens, self.cost + other.cost
        )

    def times(self, n: int) -> Allotment:
        return Allotment(self.calls * n, self.tokens * n, self.cost * n)

    def text(self) -> str:
        return f"{self.calls:,} calls, {self.tokens:,} tokens, ${self.cost:.4f}"


@dataclass
class SearchBudget:
    """Limits on a whole search (None: no limit on that measure), what was spent, and what
    is reserved by evaluations in flight."""

    calls: int | None = None
    tokens: int | None = None
    cost: float | None = None
    prompt: int = PROMPT_ALLOWANCE
    attempts: int = 1
    spent: Allotment = Allotment()
    reserved: Allotment = Allotment()
    refused: int = 0  # evaluations that did not fit
    _holds: int = field(default=0, repr=False)

    @classmethod
    def parse(cls, text: str) -> SearchBudget:
        """`calls=200,tokens=50000,cost=0.5` (and optionally `prompt=N`, `attempts=N`)."""
        budget = cls()
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, value = part.partition("=")
            name = name.strip()
            if name not in ("calls", "tokens", "cost", "prompt", "attempts") or not value:
                raise SearchBudgetError(
                    f"unknown budget {part!r}: use calls=N, tokens=N, cost=X "
                    "(and prompt=N, attempts=N)"
                )
            try:
                number: float = float(value) if name == "cost" else int(value)
            except ValueError:
                raise SearchBudgetError(f"budget {name} takes a number, not {value!r}") from None
            if not math.isfinite(number) or number < 0:
                raise SearchBudgetError(f"budget {name} is a number of at least 0, not {value}")
            if name in ("prompt", "attempts") and number < 1:
                raise SearchBudgetError(f"budget {name} is at least 1")
            setattr(budget, name, number)
        if budget.calls is None and budget.tokens is None and budget.cost is None:
            raise SearchBudgetError("a search budget limits calls, tokens or cost (or several)")
        return budget

    def text(self) -> str:
        limits = (("calls", self.calls), ("tokens", self.tokens), ("cost", self.cost))
        return ",".join(f"{name}={value:g}" for name, value in limits if value is not None)

    @property
    def left(self) -> Allotment:
        """What is neither spent nor reserved (a measure without a limit: unbounded)."""
        used = self.spent + self.reserved
        return Allotment(
            self.calls - used.calls if self.calls is not None else 2**62,
            self.tokens - used.tokens if self.tokens is not None else 2**62,
            self.cost - used.cost if self.cost is not None else math.inf,
        )

    def fits(self, need: Allotment) -> bool:
        left = self.left
        return (
            need.calls <= left.calls
            and need.tokens <= left.tokens
            and need.cost <= left.cost + 1e-12
        )

    def shortfall(self, need: Allotment) -> str:
        """Which limit `need` does not fit, in words."""
        left = self.left
        for name, wanted, room in (
            ("calls", need.calls, left.calls),
            ("tokens", need.tokens, left.tokens),
            ("cost", need.cost, left.cost),
        ):
            if wanted > room + (1e-12 if name == "cost" else 0):
                shown = (
                    f"${wanted:.4f} > ${room:.4f}" if name == "cost" else f"{wanted:,} > {room:,}"
                )
                return f"{name}: needs {shown} left"
        return ""

    def reserve(self, per_run: Allotment, runs: int) -> Hold:
        """Reserve `runs` runs of `per_run` each, all or nothing; `BudgetSpent` when they
        do not fit."""
        need = per_run.times(runs)
        if not self.fits(need):
            self.refused += 1
            raise BudgetSpent(
                f"the next evaluation ({runs} runs, worst case {need.text()}) does not fit "
                f"the search budget {self.text()} ({self.shortfall(need)})"
            )
        self.reserved = self.reserved + need
        self._holds += 1
        return Hold(self, per_run, runs)

    def run_budget(self, per_run: Allotment, max_calls: int | None) -> Budget:
        """The budget that holds one run to its allotment (and to `max_calls`)."""
        calls = per_run.calls if max_calls is None else min(per_run.calls, max_calls)
        return Budget(
            calls=calls,
            tokens=per_run.tokens if self.tokens is not None else None,
            cost=per_run.cost if self.cost is not None else None,
        )


@dataclass
class Hold:
    """The reservation of one evaluation: each run settles its share as it ends, and
    `close` releases what no run used."""

    budget: SearchBudget
    per_run: Allotment
    runs: int
    settled: int = 0

    def settle(self, calls: int, tokens: int, cost: float) -> None:
        """One run ended having spent this: on every measure the search limits, never more
        than its allotment (its run budget saw to that); on the others, what it spent."""
        if self.settled >= self.runs:
            raise RuntimeError("more runs settled than were reserved")
        self.settled += 1
        self.budget.reserved = _minus(self.budget.reserved, self.per_run)
        self.budget.spent = self.budget.spent + Allotment(calls, tokens, cost)

    def close(self) -> None:
        """Release the shares of the runs that were not made (the store had them, or the
        evaluation was cancelled)."""
        unused = self.runs - self.settled
        if unused:
            self.budget.reserved = _minus(self.budget.reserved, self.per_run.times(unused))
            self.settled = self.runs


def _minus(a: Allotment, b: Allotment) -> Allotment:
    return Allotment(a.calls - b.calls, a.tokens - b.tokens, max(0.0, a.cost - b.cost))


# -- the static worst case of one run -----------------------------------------------------------


def run_allotment(
    ir: Any,
    provider: Provider,
    model: Any,
    *,
    prompt: int = PROMPT_ALLOWANCE,
    attempts: int = 1,
    priced: bool = False,
) -> Allotment:
    """The most one run of `ir` may spend: each node's worst-case firings (the checker's
    bound) times its model calls per firing times `attempts`, each call charged `prompt`
    tokens of prompt and its `max_tokens` of output, at its price. `priced`: a cost limit is
    set, so a model whose price is not known is an error (`SearchBudgetError`)."""
    total = Allotment()
    firings = worst_case_firings(ir)
    for name, node in ir.nodes.items():
        count = firings.get(name, 0)
        if not count or node.kind == "tool":
            continue
        if node.kind == "agent" and node.subgraph is not None:
            inner = run_allotment(
                node.subgraph, provider, model, prompt=prompt, attempts=attempts, priced=priced
            )
            total = total + inner.times(count * node.width)
            continue
        calls = count * node.calls_per_firing * attempts
        model_name, params = provider.resolve(node.model, getattr(node, "model_params", {}))
        output = int(params.get("max_tokens", DEFAULT_MAX_TOKENS))
        price = _price(model, model_name, params, node)
        if price is None and priced:
            raise SearchBudgetError(
                f"a cost budget is set, and the price of {model_name} (node `{name}`) is not "
                "known: declare `cost_per_input_token` and `cost_per_output_token` in its "
                "model block (or with --param), or drop the cost limit"
            )
        per_call = Allotment(1, prompt + output, price.of(prompt, output) if price else 0.0)
        total = total + per_call.times(calls)
    return total


def _price(model: Any, model_name: str, params: Mapping[str, Any], node: Any) -> Price | None:
    """The price of one of the node's calls, as the runtime will find it (declared in the
    model block, else the model's own word, litellm's table for a provider string)."""
    if is_mock(model_name):
        return Price(0.0, 0.0)
    request = ModelRequest(node.callee, node.name, model_name, (), {}, dict(params))
    try:
        return model_price(model if model is not None else ModelsByName(), request)
    except Exception:  # (a model the price table does not know: no price)
        return None
