"""A value model of candidates, fit on the search's own history (AgentSwift's idea): it
predicts a child's score from its parent's score, the kind of edit that made it and how
the edit changed the program's size and worst-case calls, and orders proposals before
any of them is evaluated.

The model is ridge regression (least squares with an L2 penalty `ridge`, the intercept
not penalised) on these features:

    1, the parent's score, Δ nodes, Δ worst-case calls per run (log2 of the ratio),
    one indicator per edit operator (its `op`)

fit on every (parent, edit, child) the search evaluated completely. With fewer than
`warmup` such children it has learnt nothing and keeps the proposals' own order (the
optimizer's random draw); after that the proposal predicted best is evaluated first.

    model = Surrogate()
    model.observe(parent, edit, child_module, child_score, evaluator)
    best_first = model.order(parent, proposals, evaluator)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit

OPS = tuple(sorted({op.model_fields["op"].default for op in OPERATORS} | {"crossover", "script"}))


def solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """x with matrix · x = vector, by Gaussian elimination with partial pivoting (the
    normal equations of a ridge fit are symmetric positive definite: never singular)."""
    n = len(vector)
    rows = [[*row, value] for row, value in zip(matrix, vector, strict=True)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(rows[r][col]))
        rows[col], rows[pivot] = rows[pivot], rows[col]
        head = rows[col][col]
        for r in range(col + 1, n):
            factor = rows[r][col] / head
            if factor:
                for c in range(col, n + 1):
                    rows[r][c] -= factor * rows[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (rows[r][n] - sum(rows[r][c] * x[c] for c in range(r + 1, n))) / rows[r][r]
    return x


def ridge_fit(xs: Sequence[Sequence[float]], ys: Sequence[float], ridge: float) -> list[float]:
    """Weights minimising Σ (w·x - y)² + ridge Σ_{j>0} w_j² (x[0] is the intercept's 1)."""
    width = len(xs[0])
    gram = [[sum(x[i] * x[j] for x in xs) for j in range(width)] for i in range(width)]
    for i in range(1, width):
        gram[i][i] += ridge
    moment = [sum(x[i] * y for x, y in zip(xs, ys, strict=True)) for i in range(width)]
    return solve(gram, moment)


def _size(module: ast.Module) -> int:
    return sum(len(d.nodes) for d in module.decls if isinstance(d, ast.AgentDecl))


@dataclass
class Surrogate:
    ridge: float = 1.0
    warmup: int = 4
    xs: list[list[float]] = field(default_factory=list)
    ys: list[float] = field(default_factory=list)
    weights: list[float] | None = None

    def features(
        self, parent: Any, edit: Edit | Sequence[Edit], child: ast.Module, evaluator: Any
    ) -> list[float]:
        """The features of a proposal: `parent` a `Scored`, `edit` what makes `child`."""
        if isinstance(edit, Edit):
            op = str(getattr(edit, "op", "script"))
        else:
            op = "script" if len(edit) != 1 else str(getattr(edit[0], "op", "script"))
        before = max(1, evaluator.allotment(parent.module).calls)
        after = max(1, evaluator.allotment(child).calls)
        row = [
            1.0,
            parent.evaluation.score,
            float(_size(child) - _size(parent.module)),
            math.log2(after / before),
        ]
        row += [1.0 if op == name else 0.0 for name in OPS]
        return row

    def observe(
        self,
        parent: Any,
        edit: Edit | Sequence[Edit],
        child: ast.Module,
        score: float,
        evaluator: Any,
    ) -> None:
        self.xs.append(self.features(parent, edit, child, evaluator))
        self.ys.append(score)
        self.weights = (
            ridge_fit(self.xs, self.ys, self.ridge) if len(self.ys) >= self.warmup else None
        )

    def predict(self, row: Sequence[float]) -> float | None:
        if self.weights is None:
            return None
        return sum(w * x for w, x in zip(self.weights, row, strict=True))

    def order(
        self, parent: Any, proposals: Sequence[tuple[Edit, ast.Module]], evaluator: Any
    ) -> list[tuple[Edit, ast.Module]]:
        """The proposals best predicted first (their own order while nothing is learnt;
        ties keep it too)."""
        if self.weights is None:
            return list(proposals)
        scored = [
            (self.predict(self.features(parent, edit, child, evaluator)) or 0.0, index)
            for index, (edit, child) in enumerate(proposals)
        ]
        scored.sort(key=lambda item: (-item[0], item[1]))
        return [proposals[index] for _, index in scored]
