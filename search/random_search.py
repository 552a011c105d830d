"""Random search over edits: the baseline every other optimizer must beat.

Each step takes a parent at random from the current Pareto front (score against cost),
makes one random edit of it that the checker accepts (the editor never returns another),
and evaluates the child if it is a program not seen yet. When the front's neighbourhoods
are spent, parents come from every candidate evaluated.

Every choice comes from one seeded random generator and every evaluation from the store,
so a search started again with the same seed and store makes the same choices and
repeats no run: a killed search resumes where it stopped.

    result = await random_search(module, evaluator, evaluations=50, seed=0)
    result.best.module, result.front
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit, Editor
from rolegraph.compiler.printer import fingerprint, to_source

from .evaluate import Evaluation, Evaluator
from .pareto import pareto_front
from .store import Candidate


@dataclass(frozen=True)
class Scored:
    """A candidate, how it scored, and where it came from."""

    module: ast.Module
    evaluation: Evaluation
    parent: str | None  # the parent's fingerprint
    edit: Edit | None  # the edit that made it from its parent, when it was one edit
    script: tuple[Edit, ...] = ()  # the edits that made it from its parent

    @property
    def point(self) -> tuple[float, float]:
        return self.evaluation.score, self.evaluation.cost

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
        return to_source(self.module)


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

    @property
    def best(self) -> Scored:
        """The best score; among equal scores the cheapest, then the earliest."""
        return max(self.evaluated, key=lambda s: (s.point[0], -s.point[1]))


Progress = Callable[[int, int, Scored], None]  # (done, total, the candidate just scored)


async def random_search(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    evaluations: int,
    seed: int = 0,
    editor: Editor | None = None,
    operators: Sequence[type[Edit]] = OPERATORS,
    progress: Progress | None = None,
) -> SearchResult:
    """Evaluate `module`, then up to `evaluations - 1` distinct edited candidates. Stops
    early when no candidate has an edit left that makes a new program."""
    rng = random.Random(seed)
    editor = editor or rolegraph.editor(evaluator.filename)
    start = await score_candidate(evaluator, module, None, None)
    evaluated = [start]
    seen = {start.evaluation.fingerprint}
    calls = start.evaluation.fresh_calls
    if progress is not None:
        progress(1, evaluations, start)
    while len(evaluated) < evaluations:
        child = _new_child(editor, evaluated, seen, rng, operators)
        if child is None:
            break
        edit, parent, edited = child
        scored = await score_candidate(evaluator, edited, parent, edit)
        evaluated.append(scored)
        seen.add(scored.evaluation.fingerprint)
        calls += scored.evaluation.fresh_calls
        if progress is not None:
            progress(len(evaluated), evaluations, scored)
    front = pareto_front(evaluated, key=lambda s: s.point)
    return SearchResult(start, tuple(evaluated), tuple(front), calls)


def _new_child(
    editor: Editor,
    evaluated: list[Scored],
    seen: set[str],
    rng: random.Random,
    operators: Sequence[type[Edit]],
    tries: int = 32,
) -> tuple[Edit, Scored, ast.Module] | None:
    """A random valid edit of a random parent making a program not seen yet. Parents come
    from the front; when its neighbourhoods seem spent (`tries` draws in a row made only
    programs seen before), from every candidate evaluated."""
    front = pareto_front(evaluated, key=lambda s: s.point)
    for parents in (front, evaluated):
        for _ in range(tries):
            parent = rng.choice(parents)
            found = editor.sample(parent.module, rng, operators)
            if found is None:
                continue
            edit, edited = found
            if fingerprint(edited) not in seen:
                return edit, parent, edited
    return None


async def score_candidate(
    evaluator: Evaluator,
    module: ast.Module,
    parent: Scored | None,
    edit: Edit | Sequence[Edit] | None,
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
    evaluation = await evaluator.evaluate(module)
    evaluator.store.put_candidate(
        Candidate(
            evaluation.fingerprint,
            to_source(module),
            None if parent is None else parent.evaluation.fingerprint,
            data,
        )
    )
    return Scored(
        module,
        evaluation,
        None if parent is None else parent.evaluation.fingerprint,
        single,
        script,
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
