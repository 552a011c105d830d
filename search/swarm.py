"""Particle swarm over edit scripts (after SwarmAgentic).

A particle is a program. Its velocity is an edit script: part of the way from where it
is towards its own best program (`diff(here, personal best)`), part of the way towards
the swarm's best (`diff(here, global best)`), and, with some chance, one random valid
edit for exploration. A part of a script is a prefix of it; the editor checks the
program the moved particle lands on, and a move that would not check is cut shorter
until it does (a prefix of nothing is one random edit). So every position evaluated is a
valid program, and the distance between programs is the length of the script between
them.

Like the other optimizers, every choice comes from one seeded generator and every
evaluation from the store: started again with the same seed and store, a swarm repeats
no run.

    result = await swarm(module, evaluator, evaluations=60, particles=6, seed=0)
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit, EditError, Editor, apply_script, diff

from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .evolve import better
from .racing import Racing


@dataclass
class _Particle:
    here: Scored
    best: Scored


async def swarm(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    evaluations: int,
    particles: int = 6,
    seed: int = 0,
    own: float = 0.5,
    social: float = 0.5,
    explore: float = 0.3,
    editor: Editor | None = None,
    operators: Sequence[type[Edit]] = OPERATORS,
    progress: Progress | None = None,
    racing: Racing | None = None,
) -> SearchResult:
    """Evaluate `module` and `particles - 1` random valid edits of it, then move the
    particles in turn until `evaluations` candidates are evaluated. `own` and `social`
    are the largest shares of the way a move goes towards the particle's best and the
    swarm's best; `explore` is the chance of one random edit on top."""
    rng = random.Random(seed)
    editor = editor or evaluator.editor()
    trail = Trail(evaluator, evaluations, progress, racing)
    start = await trail.start(module)
    swarm_ = [_Particle(start, start)]
    while len(swarm_) < particles and not trail.full:
        found = trail.unseen_edit(editor, start.module, rng, operators)
        if found is None:
            break
        scored = await trail.visit(found[1], start, found[0])
        if scored is None:  # over budget
            continue
        swarm_.append(_Particle(scored, scored))
    stuck = 0
    while not trail.full and stuck < len(swarm_):
        moved = False
        for particle in swarm_:
            if trail.full:
                break
            leader = max((p.best for p in swarm_), key=lambda s: s.rank)
            found_move = _move(
                editor, trail, particle, leader, rng, own, social, explore, operators
            )
            if found_move is None:
                continue
            moved = True
            script, landed = found_move
            landed_at = await trail.visit(landed, particle.here, script)
            if landed_at is None:  # over budget
                continue
            particle.here = landed_at
            if better(particle.here, particle.best):
                particle.best = particle.here
        stuck = 0 if moved else stuck + 1
    return trail.result()


def _move(
    editor: Editor,
    trail: Trail,
    particle: _Particle,
    leader: Scored,
    rng: random.Random,
    own: float,
    social: float,
    explore: float,
    operators: Sequence[type[Edit]],
) -> tuple[list[Edit], ast.Module] | None:
    """Where the particle goes next and the script that takes it there: a valid program
    not seen yet, or None when it has nowhere new to go."""
    here = particle.here.module
    script: list[Edit] = []
    for target, share in ((particle.best.module, own), (leader.module, social)):
        try:
            towards = diff(apply_script(here, script), target)  # (steps need not check)
        except EditError:
            break
        if towards:
            script += towards[: max(1, round(rng.random() * share * len(towards)))]
    while script:
        try:
            landed = editor.apply_script(here, script)
        except EditError:
            script = script[:-1]  # a shorter move: part of the way only
            continue
        if rng.random() < explore:
            found = trail.unseen_edit(editor, landed, rng, operators)
            if found is not None:
                return [*script, found[0]], found[1]
        if trail.is_new(landed):
            return script, landed
        break
    found = trail.unseen_edit(editor, here, rng, operators)
    return None if found is None else ([found[0]], found[1])
