"""Attribution: what each node of an agent is worth, as its Shapley value.

The players are the nodes of the agent run that call a model. The worth of a coalition
(the nodes kept) is the objective's score when every other player is ablated, which
here means blanked: its calls are answered with the blank value of its type (see
`evaluate.Blank`). CapaBench ablates agent modules the same way, by putting a default
in place of a module. Blanking keeps the program and its graph exactly as they are:
every coalition is a program that checks and runs, which removing nodes from the AST
would not give (a node that others read cannot simply go, and a loop's critic without
a review leaves its edges without a guard). A node's Shapley value is its marginal
contribution to the score, averaged over every order in which the nodes could join.
The values add up to the score of the whole agent minus the score with every player
blanked.

With up to `exact_up_to` players (default 8) the values are exact: every coalition is
evaluated. With more players they are estimated from `samples` random orders. Either
way each coalition is evaluated once, and the store caches its runs. `progress` is told
each coalition evaluated: (how many so far, how many at most, its score).

    attribution = await shapley(module, evaluator)
    attribution.values   # {"writer": 0.41, "critic": 0.07}
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rolegraph.compiler import ast

from .evaluate import Evaluator
from .objective import ObjectiveError


@dataclass(frozen=True)
class Attribution:
    agent: str
    players: tuple[str, ...]
    values: dict[str, float]  # each player's Shapley value
    full: float  # the score with every player
    empty: float  # the score with every player blanked
    exact: bool  # every coalition evaluated (else: estimated from random orders)
    coalitions: int  # how many coalitions were evaluated


async def shapley(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    players: Sequence[str] | None = None,
    exact_up_to: int = 8,
    samples: int = 64,
    seed: int = 0,
    progress: Callable[[int, int, float], None] | None = None,
) -> Attribution:
    """The Shapley value of each player (default: every node of the agent that calls a
    model) for the evaluator's objective."""
    ir = evaluator.ir_of(module)
    callers = [name for name, node in ir.nodes.items() if node.kind == "role"]
    chosen = tuple(callers if players is None else players)
    unknown = [p for p in chosen if p not in callers]
    if unknown:
        raise ObjectiveError(
            f"`{unknown[0]}` is not a node of `{ir.name}` that calls a model; "
            f"those are: {', '.join(callers) or 'none'}"
        )
    everyone = frozenset(chosen)
    worth: dict[frozenset[str], float] = {}
    n = len(chosen)
    exact = n <= exact_up_to
    # every coalition; or, sampled, at most the empty and the full one and n - 1 others
    # per order
    most = 2**n if exact else min(2**n, samples * max(n - 1, 0) + 2)

    async def value(coalition: frozenset[str]) -> float:
        if coalition not in worth:
            blanked = evaluator.blanking(everyone - coalition)
            worth[coalition] = (await blanked.evaluate(module)).score
            if progress is not None:
                progress(len(worth), most, worth[coalition])
        return worth[coalition]

    values = dict.fromkeys(chosen, 0.0)
    if exact:
        for player in chosen:
            others = [p for p in chosen if p != player]
            for size in range(n):
                weight = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
                for members in itertools.combinations(others, size):
                    coalition = frozenset(members)
                    gain = await value(coalition | {player}) - await value(coalition)
                    values[player] += weight * gain
    else:
        rng = random.Random(seed)
        for _ in range(samples):
            order = list(chosen)
            rng.shuffle(order)
            kept: frozenset[str] = frozenset()
            for player in order:
                joined = kept | {player}
                values[player] += (await value(joined) - await value(kept)) / samples
                kept = joined
    return Attribution(
        agent=ir.name,
        players=chosen,
        values=values,
        full=await value(everyone),
        empty=await value(frozenset()),
        exact=exact,
        coalitions=len(worth),
    )
