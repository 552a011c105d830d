"""What `rolegraph search --budget` says before a search starts and after it ends: the
worst case of its first evaluation from the static bound, a typical cost from runs the
store measured, and what was spent of the budget."""

from __future__ import annotations

from typing import Any

import typer

from rolegraph.search import BudgetSpent, Evaluator, SearchBudget, SearchResult


def preflight(module: Any, evaluator: Evaluator, budget: SearchBudget, *, quiet: bool) -> None:
    """Print the search's worst case and refuse (`BudgetSpent`) a search whose first
    evaluation cannot fit the budget; no model call is made either way."""
    per_run = evaluator.allotment(module)
    runs = evaluator.pending_runs(module)
    first = per_run.times(runs)
    if not quiet:
        typer.echo(f"budget {budget.text()} for the whole search", err=True)
        typer.echo(
            f"  worst case of one run of the start (static bound): {per_run.text()}", err=True
        )
        typer.echo(
            f"  worst case of its first evaluation ({runs} runs not in the store): {first.text()}",
            err=True,
        )
        measured = evaluator.measured(module)
        if measured:
            count = len(measured)
            calls = sum(r.calls for r in measured) / count
            tokens = sum(r.tokens for r in measured) / count
            dollars = sum(r.dollars for r in measured) / count
            typer.echo(
                f"  typical run of the start, measured ({count} runs in the store): "
                f"{calls:.1f} calls, {tokens:,.0f} tokens, ${dollars:.4f}",
                err=True,
            )
    if not budget.fits(first):
        raise BudgetSpent(
            f"the search cannot start: its first evaluation ({runs} runs of the start) may "
            f"take {first.text()} in the worst case, over the budget {budget.text()} "
            f"({budget.shortfall(first)}); raise the budget, use fewer examples or seeds, "
            "or bound the agent's calls (max_tokens, fewer loop rounds)"
        )


def spent_line(budget: SearchBudget, result: SearchResult) -> str:
    spent = budget.spent
    line = f"budget {budget.text()}: spent {spent.text()}"
    if result.over_budget:
        line += f"; {result.over_budget} candidates skipped, too dear for what was left"
    if result.stopped:
        line += f"; the search stopped early: {result.stopped}"
    return line
