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
from collections.abc import Sequence

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit, Editor

from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .racing import Racing
from .surrogate import Surrogate


async def random_search(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    evaluations: int,
    seed: int = 0,
    editor: Editor | None = None,
    operators: Sequence[type[Edit]] = OPERATORS,
    progress: Progress | None = None,
    racing: Racing | None = None,
    surrogate: Surrogate | None = None,
    proposals: int = 4,
) -> SearchResult:
    """Evaluate `module`, then up to `evaluations - 1` distinct edited candidates. Stops
    early when no candidate has an edit left that makes a new program. `racing` drops
    unpromising candidates part way (search/racing.py); `surrogate` draws `proposals`
    edits of the parent and evaluates the one it predicts best (search/surrogate.py)."""
    rng = random.Random(seed)
    editor = editor or evaluator.editor()
    trail = Trail(evaluator, evaluations, progress, racing, surrogate)
    await trail.start(module)
    while not trail.full:
        child = _new_child(editor, trail, rng, operators, proposals)
        if child is None:
            break
        edit, parent, edited = child
        await trail.visit(edited, parent, edit)  # (None: over budget; the trail knows)
    return trail.result()


def _new_child(
    editor: Editor,
    trail: Trail,
    rng: random.Random,
    operators: Sequence[type[Edit]],
    proposals: int = 1,
    tries: int = 32,
) -> tuple[Edit, Scored, ast.Module] | None:
    """A random valid edit of a random parent making a program not seen yet. Parents come
    from the front; when its neighbourhoods seem spent (`tries` draws in a row made only
    programs seen before), from every candidate evaluated."""
    front = trail.front()
    for parents in (front, trail.evaluated):
        for _ in range(tries):
            parent = rng.choice(parents)
            found = trail.proposals(editor, parent, rng, operators, proposals)
            if found:
                return found[0][0], parent, found[0][1]
    return None
