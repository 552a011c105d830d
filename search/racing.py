"""Racing: score a new candidate on a few examples first, and run it on the rest only
while it may still beat the best candidate so far.

A candidate is run on rungs of examples of growing size (`rungs`, by default 25%, 50%
and all of the objective's examples, the same examples for every candidate). After each
rung short of the last, the statistic that decides is the posterior probability that
the candidate's success rate is above the incumbent's on *the same examples*:

    P(θ_new > θ_best),  θ_new ~ Beta(1 + s_new, 1 + n - s_new),
                        θ_best ~ Beta(1 + s_best, 1 + n - s_best)

where n is the number of runs in the rung (examples x seeds) and s the sum of their
scores (scores in [0, 1] count as fractional successes; uniform priors). The candidate is
dropped when this probability is below `threshold` (default 0.1): it keeps its partial
evaluation (marked partial: it is not on the front and cannot be the best), and the runs
of the examples it did not reach are never made. Comparing on the same examples (paired)
keeps the examples' own difficulty out of the comparison.

    race = Racing(threshold=0.1)
    evaluation, complete = await race.evaluate(evaluator, module, incumbent)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rolegraph.compiler import ast

from .evaluate import Evaluation, Evaluator

GRID = 2000  # points of the numerical integral of P(θ_new > θ_best)


def beta_pdf(x: float, a: float, b: float) -> float:
    if x <= 0.0 or x >= 1.0:
        return 0.0
    log = (a - 1) * math.log(x) + (b - 1) * math.log1p(-x)
    return math.exp(log + math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b))


def probability_better(s_new: float, s_best: float, n: int) -> float:
    """P(θ_new > θ_best) for the Beta posteriors of `s_new` and `s_best` successes in
    `n` trials each (uniform priors), by the midpoint rule over `GRID` cells:
    ∫ f_new(x) F_best(x) dx."""
    a1, b1 = 1 + s_new, 1 + n - s_new
    a2, b2 = 1 + s_best, 1 + n - s_best
    step = 1.0 / GRID
    total = cdf = 0.0
    for i in range(GRID):
        x = (i + 0.5) * step
        best_here = beta_pdf(x, a2, b2) * step
        total += beta_pdf(x, a1, b1) * step * (cdf + best_here / 2)
        cdf += best_here
    return min(1.0, max(0.0, total))


def default_rungs(examples: int) -> tuple[int, ...]:
    """25%, 50% and all of the examples (at least 2 in the first rung), without repeats."""
    sizes = sorted({max(2, math.ceil(examples * share)) for share in (0.25, 0.5)} | {examples})
    return tuple(size for size in sizes if size <= examples)


@dataclass
class Racing:
    threshold: float = 0.1
    rungs: Sequence[int] | None = None  # numbers of examples; default `default_rungs`
    runs_saved: int = 0  # runs not made because a candidate was dropped
    dropped: int = 0

    async def evaluate(
        self, evaluator: Evaluator, module: ast.Module, incumbent: Evaluation | None
    ) -> tuple[Evaluation, bool]:
        """`module`'s evaluation, rung by rung against `incumbent` (the best so far, fully
        evaluated); and whether it is complete (False: dropped on a rung)."""
        total = len(evaluator.objective.examples)
        rungs = tuple(self.rungs) if self.rungs is not None else default_rungs(total)
        if incumbent is None or len(incumbent.runs) != total * len(evaluator.objective.seeds):
            return await evaluator.evaluate(module), True
        for size in rungs:
            if size >= total:
                break
            part = await evaluator.evaluate(module, examples=range(size))
            mine = sum(run.score for run in part.runs)
            theirs = sum(run.score for run in incumbent.runs if run.example < size)
            if probability_better(mine, theirs, len(part.runs)) < self.threshold:
                self.dropped += 1
                self.runs_saved += (total - size) * len(evaluator.objective.seeds)
                return part, False
        return await evaluator.evaluate(module), True
