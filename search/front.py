"""What a person reads to trust a search's result: for each candidate of the front, its
score on the search examples and on held-out examples, its cost, and what its structure
did to the start's (nodes removed or added, worst-case calls per run), so a candidate
that wins by deleting the work it was asked to do is seen as such."""

from __future__ import annotations

from dataclasses import dataclass

from rolegraph.compiler import ast

from .candidates import Scored, SearchResult
from .evaluate import Evaluator


@dataclass(frozen=True)
class FrontRow:
    scored: Scored
    held_out: float | None  # the score on held-out examples, when they were given
    calls_per_run: int  # the static worst case
    removed: tuple[str, ...]  # the start's nodes this candidate no longer has
    added: tuple[str, ...]
    tests_dropped: tuple[str, ...] = ()  # the start's `test` blocks this candidate lost

    @property
    def structure(self) -> str:
        parts = [f"-{name}" for name in self.removed] + [f"+{name}" for name in self.added]
        shown = " ".join(parts) or "same nodes"
        if self.tests_dropped:
            shown += "; tests dropped: " + ", ".join(self.tests_dropped)
        return shown


def _nodes(scored: Scored) -> set[str]:
    name = scored.evaluation.agent.rsplit(".", 1)[-1]
    agent = scored.module.decl(name)
    return {n.name for n in agent.nodes} if isinstance(agent, ast.AgentDecl) else set()


async def front_rows(
    result: SearchResult, evaluator: Evaluator, held_out: Evaluator | None = None
) -> list[FrontRow]:
    """The front, each candidate with its structure against the start and, with
    `held_out` (an evaluator of the held-out examples), its held-out score."""
    start = _nodes(result.start)
    start_tests = [test.name for test in result.start.module.tests]
    rows = []
    for scored in result.front:
        nodes = _nodes(scored)
        score = None
        if held_out is not None:
            score = (await held_out.evaluate(scored.module)).score
        rows.append(
            FrontRow(
                scored,
                score,
                evaluator.allotment(scored.module).calls,
                tuple(sorted(start - nodes)),
                tuple(sorted(nodes - start)),
                tuple(t for t in start_tests if t not in {x.name for x in scored.module.tests}),
            )
        )
    return rows
