"""Candidates: how each one scored and where it came from, the result of a search, and
the bookkeeping every optimizer shares (`Trail`: evaluate, remember, report)."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.edits import AddConstraint, Edit, EditError, Editor

from .budget import BudgetSpent
from .evaluate import Evaluation, Evaluator
from .fingerprints import fingerprint_of, source_of
from .pareto import pareto_front
from .racing import Racing
from .store import Candidate
from .surrogate import Surrogate
from .tests_kept import NOTHING, TestsKept, keep_tests


@dataclass(frozen=True)
class Scored:
    """A candidate, how it scored, and where it came from."""

    module: ast.Module
    evaluation: Evaluation
    parent: str | None  # the parent's fingerprint
    edit: Edit | None  # the edit that made it from its parent, when it was one edit
    script: tuple[Edit, ...] = ()  # the edits that made it from its parent
    tests: TestsKept = NOTHING  # its `test` blocks renamed along or dropped by the edit

    @property
    def point(self) -> tuple[float, float]:
        return self.evaluation.score, self.evaluation.cost

    @property
    def rank(self) -> tuple[float, float]:
        """What "better" means: a higher score, then a lower cost (max() picks the best)."""
        return self.evaluation.score, -self.evaluation.cost

    @property
    def made_by(self) -> str:
        """How it was made, as JSON: its edit, or the script of a move of several."""
        if self.parent is None:
            return "the start"
        if self.edit is not None:
            return self.edit.to_json()
        return "[" + ",".join(edit.to_json() for edit in self.script) + "]"

    @property
    def source(self) -> str:
        return source_of(self.module)


@dataclass(frozen=True)
class SearchResult:
    start: Scored
    evaluated: tuple[Scored, ...]  # every candidate, in the order evaluated (start first)
    front: tuple[Scored, ...]  # the Pareto front, cheapest first
    calls: int  # model calls made by this search (runs the store held cost none)
    refused: tuple[tuple[str, str], ...] = ()  # proposals the checker refused, and why
    proposer_calls: int = 0  # model calls of an LLM proposer (not counted in `calls`)
    archive: tuple[tuple[tuple[int, ...], Scored], ...] = ()  # a quality-diversity archive
    # a search tree: (candidate, its parent's index, visits, mean score), as evaluated
    tree: tuple[tuple[Scored, int | None, int, float], ...] = ()
    stopped: str | None = None  # why the search stopped early (its budget did not fit...)
    over_budget: int = 0  # candidates skipped because their runs did not fit the budget
    runs: int = 0  # runs made (an example with a seed; the store's cost none; rungs count)

    @property
    def best(self) -> Scored:
        """The best score; among equal scores the cheapest, then the earliest (of the
        candidates evaluated on every example: racing may drop some part way)."""
        return max(complete(self.evaluated), key=lambda s: s.rank)


def unchanged_runs(
    evaluator: Evaluator,
    parent: ast.Module,
    module: ast.Module,
    edit: Edit | Sequence[Edit] | None,
) -> bool:
    """Whether `edit` made `module` from `parent` without changing any run: an `ensure`
    constraint added that the checker proves on every run (a monitor only watches; a
    proven one never fails a run). An `enforce` shield may block firings: it changes runs.

    That is: the checker proves of the edited agent a constraint it does not prove of
    the parent's. A monitor added changes no run, so the agent's other constraints have
    the same verdicts in both programs; what the parent lacks is the one constraint the
    edit added, which it appends to the agent's body (the last of the agent's verdicts,
    in the checker's order), unless another constraint of the agent reads the same. So
    the edited program alone is checked, not its parent too (tests/test_search_store.py
    holds this to both checks on every `ensure` the editor offers in the examples)."""
    single = edit if isinstance(edit, Edit) else edit[0] if edit and len(edit) == 1 else None
    if not isinstance(single, AddConstraint) or single.mode != "ensure":
        return False
    try:
        verdicts = [
            (text, status)
            for agent, text, status in evaluator.verdicts(module)
            if agent.rsplit(".", 1)[-1] == single.agent
        ]
    except Exception:  # (a program the checker cannot explore: evaluate it as usual)
        return False
    if not verdicts:
        return False
    text, status = verdicts[-1]  # (the constraint the edit added)
    return status == "proven" and sum(1 for other, _ in verdicts if other == text) == 1


def complete(candidates: Sequence[Scored]) -> list[Scored]:
    """The candidates evaluated on every example (not dropped part way by racing)."""
    return [s for s in candidates if not s.evaluation.partial]


OVER_BUDGET = 8  # candidates in a row too dear for the budget left: the search stops
Progress = Callable[[int, int, Scored], None]  # (done, total, the candidate just scored)


class Trail:
    """The candidates a search has evaluated, in order, what they cost, and how to find
    a program not evaluated yet."""

    def __init__(
        self,
        evaluator: Evaluator,
        evaluations: int,
        progress: Progress | None,
        racing: Racing | None = None,
        surrogate: Surrogate | None = None,
    ):
        self.evaluator, self.evaluations, self.progress = evaluator, evaluations, progress
        self.racing, self.surrogate = racing, surrogate
        self._runs_before = evaluator.runs_made
        self._calls_before = evaluator.calls_made
        self.evaluated: list[Scored] = []
        self.seen: set[str] = set()
        self.calls = 0  # model calls made (runs the store held cost none)
        # what each edit drawn made of a program: (the program, the edit, the result)
        self._edits_made: dict[tuple[int, int], tuple[ast.Module, Edit, ast.Module | None]] = {}
        # the sites of the programs drawn from: (the program, the operators, the sites,
        # the operators with a site)
        self._sites_drawn: dict[
            int,
            tuple[
                ast.Module,
                tuple[type[Edit], ...],
                dict[type[Edit], list[Edit]],
                list[type[Edit]],
            ],
        ] = {}
        self.stopped: str | None = None  # the budget refused evaluations: why
        self.over_budget = 0  # candidates skipped: their runs did not fit the budget
        self.inherited = 0  # runs taken over from a parent (edits that change no run)
        self.in_a_row = 0
        # the Pareto front of the candidates evaluated completely, and of how many
        self._front: list[Scored] = []
        self._front_of = 0

    def front(self) -> list[Scored]:
        """`pareto_front(complete(self.evaluated))`, kept up to date: the front of the
        front so far and the candidates added since is the front of them all (a candidate
        the front left out stays dominated, or an equal one came first)."""
        done = len(self.evaluated)
        if self._front_of != done:
            added = complete(self.evaluated[self._front_of :])
            self._front = pareto_front([*self._front, *added], key=lambda s: s.point)
            self._front_of = done
        return list(self._front)

    @property
    def full(self) -> bool:
        """No more evaluations: as many as asked for, or the budget stopped the search."""
        return len(self.evaluated) >= self.evaluations or self.stopped is not None

    def is_new(self, module: ast.Module) -> bool:
        return fingerprint_of(module) not in self.seen

    def was_seen(self, module: ast.Module) -> bool:
        """Whether `module` is a program evaluated before (so one that checks)."""
        return fingerprint_of(module) in self.seen

    async def start(self, module: ast.Module) -> Scored:
        """Evaluate the search's starting point (`BudgetSpent` when its runs do not fit
        the budget: a search with nothing evaluated has no result)."""
        scored = await self.visit(module)
        if scored is None:  # (visit raises for the first candidate)
            raise BudgetSpent(self.stopped or "the budget is spent")
        return scored

    async def visit(
        self,
        module: ast.Module,
        parent: Scored | None = None,
        edit: Edit | Sequence[Edit] | None = None,
    ) -> Scored | None:
        """Evaluate a candidate (made from `parent` by `edit` or a script), and record it.
        None when the search's budget cannot pay for its runs (after `OVER_BUDGET` such
        candidates in a row, the search is `full`). Its `test` blocks are kept valid
        first (search/tests_kept.py)."""
        kept = NOTHING
        try:
            if parent is not None and module.tests:
                # the program as the edit made it is seen too: proposed again, it is no new one
                self.seen.add(fingerprint_of(module))
                evaluator = self.evaluator
                module, kept = await keep_tests(
                    parent.module,
                    module,
                    edit,
                    evaluator.filename,
                    evaluator.root,
                    evaluator.session,
                    evaluator.store,
                    later=True,  # (with its runs: one transaction)
                )
            if parent is not None and unchanged_runs(self.evaluator, parent.module, module, edit):
                self.inherited += self.evaluator.inherit_runs(parent.module, module)
            try:
                scored = await score_candidate(
                    self.evaluator, module, parent, edit, self._evaluate, kept
                )
            except BudgetSpent as error:
                if not self.evaluated:
                    raise
                # Too dear for what is left: skipped (and never proposed again), and the search
                # goes on with cheaper candidates until `OVER_BUDGET` in a row did not fit.
                self.seen.add(fingerprint_of(module))
                self.over_budget += 1
                self.in_a_row += 1
                if self.in_a_row >= OVER_BUDGET:
                    self.stopped = str(error)
                return None
        finally:
            self.evaluator.store.flush()  # (its tests' verdicts, if nothing wrote them)
        self.in_a_row = 0
        surrogate = self.surrogate
        if surrogate and parent and edit is not None and not scored.evaluation.partial:
            surrogate.observe(parent, edit, module, scored.evaluation.score, self.evaluator)
        self.evaluated.append(scored)
        self.seen.add(scored.evaluation.fingerprint)
        # every call made, a racing rung's included (a dropped candidate's runs are not
        # all in its evaluation, and a promoted one's earlier rungs read as stored)
        self.calls = self.evaluator.calls_made - self._calls_before
        if self.progress is not None:
            self.progress(len(self.evaluated), self.evaluations, scored)
        return scored

    async def _evaluate(self, module: ast.Module) -> Evaluation:
        """All examples; with racing, rung by rung against the best so far."""
        if self.racing is None:
            return await self.evaluator.evaluate(module)
        done = complete(self.evaluated)
        incumbent = max(done, key=lambda s: s.rank).evaluation if done else None
        evaluation, _ = await self.racing.evaluate(self.evaluator, module, incumbent)
        return evaluation

    def proposals(
        self,
        editor: Editor,
        parent: Scored,
        rng: random.Random,
        operators: Sequence[type[Edit]],
        count: int,
    ) -> list[tuple[Edit, ast.Module]]:
        """Up to `count` distinct unseen edits of `parent`, the surrogate's best first
        (one random edit, as before, without a surrogate)."""
        if self.surrogate is None:
            found = self.unseen_edit(editor, parent.module, rng, operators, tries=1)
            return [] if found is None else [found]
        drawn: dict[str, tuple[Edit, ast.Module]] = {}
        for _ in range(count * 2):
            found = self.unseen_edit(editor, parent.module, rng, operators, tries=1)
            if found is not None:
                drawn.setdefault(fingerprint_of(found[1]), found)
            if len(drawn) >= count:
                break
        return self.surrogate.order(parent, list(drawn.values()), self.evaluator)

    def unseen_edit(
        self,
        editor: Editor,
        module: ast.Module,
        rng: random.Random,
        operators: Sequence[type[Edit]],
        tries: int = 16,
    ) -> tuple[Edit, ast.Module] | None:
        """A random valid edit of `module` making a program not evaluated yet (None when
        `tries` draws in a row gave none)."""
        for _ in range(tries):
            found = self._draw(editor, module, rng, operators)
            if found is not None and self.is_new(found[1]):
                return found
        return None

    def _draw(
        self,
        editor: Editor,
        module: ast.Module,
        rng: random.Random,
        operators: Sequence[type[Edit]],
        tries: int = 64,
    ) -> tuple[Edit, ast.Module] | None:
        """`editor.sample`, the same draws, remembering what each edit of a program
        made: a search draws the same edit of a parent many times, and an edit drawn
        again is neither applied nor checked again. A program evaluated before is not
        checked (it did check); it is given back, and the caller sees it is not new."""
        sites, choices = self._sites(editor, module, operators)
        if not choices:
            return None
        remembered, key = self._edits_made, id(module)
        for _ in range(tries):
            edit = rng.choice(sites[rng.choice(choices)])
            # (`_made`'s look-up, here: most draws are of edits drawn before)
            known = remembered.get((key, id(edit)))
            if known is not None and known[0] is module and known[1] is edit:
                made = known[2]
            else:
                made = self._made(editor, module, edit)
            if made is not None:
                return edit, made
        return None

    def _sites(
        self, editor: Editor, module: ast.Module, operators: Sequence[type[Edit]]
    ) -> tuple[dict[type[Edit], list[Edit]], list[type[Edit]]]:
        """`editor.sites` of `module`, and the operators with a site, remembered for the
        programs drawn from lately (a search draws from one parent many times)."""
        wanted = tuple(operators)
        known = self._sites_drawn.get(id(module))
        if known is not None and known[0] is module and known[1] == wanted:
            return known[2], known[3]
        sites = editor.sites(module, operators)
        choices = [operator for operator in operators if sites[operator]]
        if len(self._sites_drawn) >= 256:
            self._sites_drawn.clear()
        self._sites_drawn[id(module)] = (module, wanted, sites, choices)
        return sites, choices

    def _made(self, editor: Editor, module: ast.Module, edit: Edit) -> ast.Module | None:
        """What `edit` makes of `module` (None: it changes nothing, or does not check)."""
        key = (id(module), id(edit))
        known = self._edits_made.get(key)
        if known is not None and known[0] is module and known[1] is edit:
            return known[2]
        made: ast.Module | None = None
        try:
            edited = edit.apply(module)
            if fingerprint_of(edited) != fingerprint_of(module):
                if fingerprint_of(edited) in self.seen:
                    made = edited  # (checked when it was evaluated)
                else:
                    made = editor.admit(module, edited, f"`{edit.op}`")
        except (EditError, ValueError):  # (a value the AST refuses is the edit's fault)
            made = None
        if len(self._edits_made) >= 4096:
            self._edits_made.clear()
        self._edits_made[key] = (module, edit, made)
        return made

    def result(self, **extra: Any) -> SearchResult:
        evaluated = tuple(self.evaluated)
        front = tuple(pareto_front(complete(evaluated), key=lambda s: s.point))
        return SearchResult(
            evaluated[0],
            evaluated,
            front,
            self.calls,
            stopped=self.stopped,
            over_budget=self.over_budget,
            runs=self.evaluator.runs_made - self._runs_before,
            **extra,
        )


async def score_candidate(
    evaluator: Evaluator,
    module: ast.Module,
    parent: Scored | None,
    edit: Edit | Sequence[Edit] | None,
    evaluate: Callable[[ast.Module], Awaitable[Evaluation]] | None = None,
    tests: TestsKept = NOTHING,
) -> Scored:
    """Evaluate a candidate made from `parent` by `edit` (or by a script of edits), and
    put it in the store's archive."""
    script = () if edit is None else (edit,) if isinstance(edit, Edit) else tuple(edit)
    single = script[0] if len(script) == 1 else None
    data: object = (
        single.model_dump(mode="json")
        if single is not None
        else [e.model_dump(mode="json") for e in script] or None
    )
    candidate = Candidate(
        fingerprint_of(module),  # (the evaluation's fingerprint)
        source_of(module),
        None if parent is None else parent.evaluation.fingerprint,
        data,
    )
    with evaluator.store.waiting(candidate):  # (written with its runs: one transaction)
        evaluation = await (evaluate or evaluator.evaluate)(module)
    return Scored(
        module,
        evaluation,
        None if parent is None else parent.evaluation.fingerprint,
        single,
        script,
        tests,
    )


def write_front(result: SearchResult, directory: str | Path, stem: str = "candidate") -> list[Path]:
    """The front's candidates as formatted `.agent` files (cheapest first), each headed
    by its score, cost and the edit that made it."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for rank, scored in enumerate(result.front, 1):
        evaluation = scored.evaluation
        header = [
            f"// score {evaluation.score:.3f}, cost {evaluation.cost:g}",
            f"// fingerprint {evaluation.fingerprint[:16]}",
        ]
        if scored.parent is not None:
            header.append(f"// made by {scored.made_by}")
        path = directory / f"{stem}_{rank}.agent"
        path.write_text("\n".join(header) + "\n\n" + scored.source, encoding="utf-8")
        written.append(path)
    return written
