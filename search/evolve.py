"""Evolution with a quality-diversity archive (MAP-Elites over agent programs).

The archive keeps, for each cell of a descriptor, the best candidate seen there: by
default the cell is (the nodes of the agent run, its model calls per run), so a cheap
two-node agent and a costly five-sample vote each keep their own elite instead of one
crowding the other out. Each step takes a random elite and either mutates it (a random
edit the checker accepts) or, at `crossover_rate`, grafts into it a subgraph of another
elite (`Crossover.between`: a node replaced by a type-compatible subgraph of the other
program; where the two programs declare a name differently there is no graft, and the
elite is mutated instead). Children are evaluated, and enter the archive if their cell
is empty or they beat its elite (a higher score, or the same score for less).

Like random search, every choice comes from one seeded generator and every evaluation
from the store: a search started again with the same seed and store repeats no run.

    result = await evolve(module, evaluator, evaluations=100, seed=0)
    result.archive   # ((cell, elite), ...)
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Crossover, Edit, EditError, Editor

from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .racing import Racing
from .surrogate import Surrogate

Cell = tuple[int, ...]
Descriptor = Callable[[Scored], Cell]


def nodes_and_calls(scored: Scored) -> Cell:
    """The default descriptor: the nodes of the agent run (counting `x N` samples), and
    its model calls per run, rounded."""
    name = scored.evaluation.agent.rsplit(".", 1)[-1]
    agent = scored.module.decl(name)
    nodes = sum(_samples(node) for node in agent.nodes) if isinstance(agent, ast.AgentDecl) else 0
    runs = max(1, len(scored.evaluation.runs))
    return nodes, round(scored.evaluation.calls / runs)


def _samples(node: ast.NodeDecl) -> int:
    return node.replicate if isinstance(node.replicate, int) else 1


def better(a: Scored, b: Scored) -> bool:
    """Whether `a` should replace `b` as an elite: a higher score, or as high for less."""
    return a.rank > b.rank


async def evolve(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    evaluations: int,
    seed: int = 0,
    crossover_rate: float = 0.25,
    descriptor: Descriptor = nodes_and_calls,
    editor: Editor | None = None,
    operators: Sequence[type[Edit]] = OPERATORS,
    progress: Progress | None = None,
    racing: Racing | None = None,
    surrogate: Surrogate | None = None,
    proposals: int = 4,
) -> SearchResult:
    """Evaluate `module`, then up to `evaluations - 1` distinct children of elites.
    `racing` and `surrogate` as for `random_search`."""
    rng = random.Random(seed)
    editor = editor or evaluator.editor()
    trail = Trail(evaluator, evaluations, progress, racing, surrogate)
    start = await trail.start(module)
    archive: dict[Cell, Scored] = {descriptor(start): start}
    while not trail.full:
        elites = [archive[cell] for cell in sorted(archive)]
        child = _child(editor, trail, elites, rng, crossover_rate, operators, proposals)
        if child is None:
            child = _child(
                editor, trail, trail.evaluated, rng, crossover_rate, operators, proposals
            )
        if child is None:
            break
        edit, parent, edited = child
        scored = await trail.visit(edited, parent, edit)
        if scored is None:  # over budget
            continue
        cell = descriptor(scored)
        if cell not in archive or better(scored, archive[cell]):
            archive[cell] = scored
    return trail.result(archive=tuple(sorted(archive.items(), key=lambda item: item[0])))


def _child(
    editor: Editor,
    trail: Trail,
    parents: list[Scored],
    rng: random.Random,
    crossover_rate: float,
    operators: Sequence[type[Edit]],
    proposals: int = 1,
    tries: int = 32,
) -> tuple[Edit, Scored, ast.Module] | None:
    """A new program from a random parent: a crossover with another parent (where the two
    programs allow one: a graft needs their shared declarations to agree), else a random
    valid edit. None when `tries` attempts in a row gave only programs seen before."""
    for _ in range(tries):
        parent = rng.choice(parents)
        found: tuple[Edit, ast.Module] | None = None
        if len(parents) > 1 and rng.random() < crossover_rate:
            other = rng.choice([p for p in parents if p is not parent])
            found = _crossover(editor, parent.module, other.module, rng)
        if found is None or not trail.is_new(found[1]):  # no (new) crossover: a mutation
            found = next(iter(trail.proposals(editor, parent, rng, operators, proposals)), None)
        if found is not None:
            return found[0], parent, found[1]
    return None


def _crossover(
    editor: Editor, module: ast.Module, donor: ast.Module, rng: random.Random, tries: int = 8
) -> tuple[Edit, ast.Module] | None:
    sites = list(Crossover.between(module, donor))
    for _ in range(min(tries, len(sites))):
        edit = rng.choice(sites)
        try:
            return edit, editor.apply(module, edit)
        except EditError:
            continue
    return None
