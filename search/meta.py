"""The LLM meta-optimizer: a model proposes typed edits as JSON, the checker decides.

This is ADAS's idea without its risk. ADAS asks a model to write a new agent as Python
code and then executes it; about one generation in ten produced no working agent. Here
the model proposes one edit at a time (`{"op": "replicate_vote", ...}`), the editor
applies it only if the edited program checks, and a refused proposal comes back to the
model with the checker's reason. Every candidate evaluated is a valid program by
construction.

Each step shows the proposer (search/proposer.agent, itself a rolegraph agent) the best
candidate so far, the catalogue of operators, the goal, and what was tried: the edits
with their scores, and the refusals with their reasons. Its proposal is applied to that
best candidate. Only the operators of the catalogue are accepted, and the editor's trust
boundary holds: no proposal brings in a tool target, an import or a model endpoint the
program did not have (compiler/edits/trust.py).

    result = await meta_search(module, evaluator, proposer="openai/gpt-4o", evaluations=20)
    result.refused   # the proposals the checker refused, with why
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any, Literal

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit, EditError, Editor, op_name
from rolegraph.compiler.printer import to_source
from rolegraph.runtime import Model, RunError, provider_of, run_agent
from rolegraph.runtime.values import plain

from .budget import BudgetSpent, SearchBudget, run_allotment
from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .program import load_agent
from .proposals import (
    chooser_source,
    edit_json,
    filler_source,
    load,
    names,
    offered,
    site_choices,
    tried_summary,
)
from .racing import Racing

PROPOSER = Path(__file__).with_name("proposer.agent")
GOAL = "raise the score on the examples; among equal scores, lower the cost"
# The operators shown to the proposer, and the only ones accepted from it: the steps of
# diff scripts (`add_decl`, `insert_statement`...) carry free source text, and a model
# has no business proposing what it was not offered.
CATALOGUE = OPERATORS


@dataclass(frozen=True)
class Attempt:
    """One proposal and what came of it."""

    edit: str  # as the proposer wrote it
    outcome: str  # "score 0.40, cost 1200", or why it was refused
    accepted: bool


async def meta_search(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    proposer: str | Model = "mock",
    proposer_params: dict[str, Any] | None = None,
    evaluations: int,
    max_proposals: int | None = None,
    goal: str = GOAL,
    editor: Editor | None = None,
    progress: Progress | None = None,
    proposal: Literal["structured", "text"] = "structured",
    racing: Racing | None = None,
) -> SearchResult:
    """Evaluate `module`, then ask `proposer` for edits of the best candidate until
    `evaluations` candidates are evaluated or `max_proposals` (default: four per
    evaluation) were asked for. Refused proposals cost a proposer call, no evaluation.
    `proposer_params` are laid over the proposer's model parameters (`api_base`, ...).
    `proposal`: "structured" (two typed calls: the operator from an enum of the catalogue,
    then that operator's typed fields, search/proposals.py), or "text" (one call whose
    `edit` is the edit's JSON as free text, search/proposer.agent)."""
    editor = editor or evaluator.editor()
    max_proposals = max_proposals if max_proposals is not None else 4 * evaluations
    trail = Trail(evaluator, evaluations, progress, racing)
    await trail.start(module)
    attempts: list[Attempt] = []
    refused: list[tuple[str, str]] = []
    proposer_calls = 0
    for _ in range(max_proposals):
        if trail.full:
            break
        parent = max(trail.evaluated, key=lambda s: s.rank)  # the best so far
        spend = Spend(proposer, proposer_params, evaluator.budget)
        try:
            if proposal == "structured":
                fresh = partial(_makes_new, trail, editor, parent.module)
                text, used = await _propose_structured(spend, parent.module, attempts, goal, fresh)
            else:
                text, used = await _propose(spend, parent.module, attempts, goal)
        except BudgetSpent as error:  # the proposer's calls come out of the budget too
            trail.stopped = f"the proposer's next call does not fit: {error}"
            break
        proposer_calls += used
        await try_proposal(trail, editor, parent, text, attempts, refused)
    return trail.result(refused=tuple(refused), proposer_calls=proposer_calls)


async def try_proposal(
    trail: Trail,
    editor: Editor,
    parent: Scored,
    text: str,
    attempts: list[Attempt],
    refused: list[tuple[str, str]],
) -> None:
    """Apply a proposal (an edit's JSON) to `parent` through the checker and, if it makes
    a new program, evaluate it; what came of it goes to `attempts` (and to `refused`
    when the checker refused it or it was tried before)."""
    found = _apply(editor, parent.module, text)
    if isinstance(found, str):
        attempts.append(Attempt(text, found, accepted=False))
        refused.append((text, found))
        return
    edit, edited = found
    if not trail.is_new(edited):
        attempts.append(Attempt(text, "refused: it makes a program already tried", False))
        refused.append((text, "a program already tried"))
        return
    scored = await trail.visit(edited, parent, edit)
    if scored is None:
        attempts.append(Attempt(text, "refused: its runs do not fit the budget left", False))
        return
    attempts.append(
        Attempt(
            edit.to_json(),
            f"score {scored.evaluation.score:.3f}, cost {scored.evaluation.cost:g} "
            f"(its parent: score {parent.evaluation.score:.3f}, "
            f"cost {parent.evaluation.cost:g})",
            accepted=True,
        )
    )


def _apply(editor: Editor, module: ast.Module, text: str) -> tuple[Edit, ast.Module] | str:
    """The proposal applied, or why it was refused (the checker's words)."""
    try:
        edit = editor.from_json(text, CATALOGUE)
        return edit, editor.apply(module, edit)
    except EditError as error:
        lines = []
        for problem in error.diagnostics:
            lines.append(f"[{problem.code}] {problem.message}")
            lines += [f"  {note}" for note in problem.notes[:3]]
            lines += [f"  hint: {hint}" for hint in problem.hints[:2]]
        return "refused: " + "\n".join(lines)


@dataclass
class Spend:
    """How the proposer's runs are made: on its model, held to the search's budget (each
    run reserves its static worst case first, like an evaluation's)."""

    proposer: str | Model
    params: dict[str, Any] | None
    budget: SearchBudget | None

    async def run(self, ir: Any, inputs: dict[str, Any]) -> Any:
        if self.budget is None:
            return await run_agent(ir, inputs, model=self.proposer, params=self.params)
        per_run = run_allotment(
            ir,
            provider_of(self.proposer, self.params),
            None if isinstance(self.proposer, str) else self.proposer,
            prompt=self.budget.prompt,
            attempts=self.budget.attempts,
            priced=self.budget.cost is not None,
        )
        hold = self.budget.reserve(per_run, 1)
        limits = self.budget.run_budget(per_run, None)
        try:
            return await run_agent(
                ir, inputs, model=self.proposer, params=self.params, budget=limits
            )
        finally:
            hold.settle(limits.spent_calls, limits.spent_tokens, limits.spent_cost)
            hold.close()


async def _propose(
    spend: Spend,
    module: ast.Module,
    attempts: list[Attempt],
    goal: str,
) -> tuple[str, int]:
    """The proposer's edit (its text as written; when the proposer itself failed, a JSON
    object saying so, which the next proposal sees refused) and the calls it made."""
    inputs = {
        "program": to_source(module),
        "operators": catalogue(offered(module, CATALOGUE)),
        "tried": _tried(attempts),
        "goal": goal,
    }
    try:
        outcome = await spend.run(_proposer_ir(), inputs)
    except RunError as error:
        calls = error.trace.summary()["calls"] if error.trace is not None else 0
        return json.dumps({"proposer_failed": str(error).splitlines()[0]}), calls
    return str(plain(outcome.result)["edit"]), outcome.trace.summary()["calls"]


def _tried(attempts: list[Attempt]) -> str:
    return tried_summary(attempts)


def _makes_new(trail: Trail, editor: Editor, module: ast.Module, edit: Edit) -> bool:
    """Whether `edit` of `module` applies and makes a program the search has not seen."""
    try:
        return trail.is_new(editor.apply(module, edit))
    except EditError:
        return False


async def _propose_structured(
    spend: Spend,
    module: ast.Module,
    attempts: list[Attempt],
    goal: str,
    fresh: Callable[[Edit], bool] | None = None,
) -> tuple[str, int]:
    """The operator, then its fields: the edit's JSON, and the calls it took. With
    `fresh`, only edits it accepts are offered (an operator none of whose edits is fresh
    is not shown; a field's choices are those of its fresh edits): measured on the local
    model, a proposer shown an edit it had made proposed it again and again."""
    program = to_source(module)
    shown_ops = offered(module, CATALOGUE, fresh)
    ops = [op_name(o) for o in shown_ops]
    listed = catalogue(shown_ops)
    calls = 0
    try:
        choice = await spend.run(
            load(chooser_source(ops), "Chooser"),
            {"program": program, "operators": listed, "tried": _tried(attempts), "goal": goal},
        )
        calls += choice.trace.summary()["calls"]
        op = str(plain(choice.result)["op"])
        operator = next(o for o in shown_ops if op_name(o) == op)
        shown = next(line for line in listed.splitlines() if f'"op": "{op}"' in line)
        choices = site_choices(operator, module, fresh)
        filled = await spend.run(
            load(filler_source(operator, names(module), choices), "Filler"),
            {
                "program": program,
                "operator": shown,
                "tried": tried_summary(attempts, op),
                "goal": goal,
            },
        )
        calls += filled.trace.summary()["calls"]
    except RunError as error:
        calls += error.trace.summary()["calls"] if error.trace is not None else 0
        return json.dumps({"proposer_failed": str(error).splitlines()[0]}), calls
    return edit_json(op, plain(filled.result), choices), calls


@cache
def catalogue(operators: tuple[type[Edit], ...] = tuple(CATALOGUE)) -> str:
    """The operators a proposer may use (by default every one it may be shown): each
    one's fields and what it does."""
    lines = []
    for operator in operators:
        fields = {
            name: _type_name(field.annotation)
            for name, field in operator.model_fields.items()
            if name != "op" and name not in operator.legacy
        }
        example = {"op": operator.model_fields["op"].default, **fields}
        doc = " ".join((operator.__doc__ or "").split())
        lines.append(f"- {json.dumps(example)}: {doc}")
    return "\n".join(lines)


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


@cache
def _proposer_ir() -> Any:
    return load_agent(PROPOSER.read_text(encoding="utf-8"), str(PROPOSER), "Meta")
