"""Monte Carlo tree search over edits (after AFlow).

The tree's root is the program; a child is a program one valid edit away from its
parent. Each step descends from the root by UCT (a child's mean score, plus
`exploration * sqrt(ln(parent visits) / child visits)`) while the node reached has as
many children as progressive widening allows (`ceil(widening * sqrt(visits))`: a program
has many edits, so a node gains children as it is visited), expands that node with a random
valid edit making a program not seen yet, evaluates the child, and adds its score to
the child and every ancestor.

Like the other optimizers, every choice comes from one seeded generator and every
evaluation from the store: started again with the same seed and store, a search
repeats no run.

    result = await mcts(module, evaluator, evaluations=40, seed=0)
    result.tree   # (candidate, parent index, visits, mean score), in the order evaluated
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from rolegraph.compiler import ast
from rolegraph.compiler.edits import OPERATORS, Edit, Editor

from .candidates import Progress, Scored, SearchResult, Trail
from .evaluate import Evaluator
from .racing import Racing


@dataclass(eq=False)
class TreeNode:
    scored: Scored
    parent: TreeNode | None
    children: list[TreeNode] = field(default_factory=list)
    visits: int = 0
    total: float = 0.0
    spent: bool = False  # its edits gave no new program (`tries` draws in a row)

    @property
    def mean(self) -> float:
        return self.total / self.visits if self.visits else 0.0


async def mcts(
    module: ast.Module,
    evaluator: Evaluator,
    *,
    evaluations: int,
    seed: int = 0,
    exploration: float = 0.7,
    widening: float = 1.5,
    editor: Editor | None = None,
    operators: Sequence[type[Edit]] = OPERATORS,
    progress: Progress | None = None,
    racing: Racing | None = None,
) -> SearchResult:
    """Evaluate `module`, then grow the tree until `evaluations` candidates are
    evaluated (or no node has an edit left that makes a new program)."""
    rng = random.Random(seed)
    editor = editor or evaluator.editor()
    trail = Trail(evaluator, evaluations, progress, racing)
    root = TreeNode(await trail.start(module), None)
    _backpropagate(root, root.scored.evaluation.score)
    nodes = [root]
    while not trail.full and not _dead(root):
        leaf = _select(root, exploration, widening)
        found = trail.unseen_edit(editor, leaf.scored.module, rng, operators)
        if found is None:
            leaf.spent = True
            continue
        edit, edited = found
        visited = await trail.visit(edited, leaf.scored, edit)
        if visited is None:  # over budget
            continue
        child = TreeNode(visited, leaf)
        leaf.children.append(child)
        nodes.append(child)
        _backpropagate(child, child.scored.evaluation.score)
    index = {id(node): i for i, node in enumerate(nodes)}
    return trail.result(
        tree=tuple(
            (
                node.scored,
                None if node.parent is None else index[id(node.parent)],
                node.visits,
                node.mean,
            )
            for node in nodes
        )
    )


def _select(root: TreeNode, exploration: float, widening: float) -> TreeNode:
    """Down the tree by UCT, to the first node that may still gain a child (passing by
    subtrees with nothing new left in them)."""
    node = root
    while True:
        room = len(node.children) < math.ceil(widening * math.sqrt(node.visits))
        alive = [c for c in node.children if not _dead(c)]
        if not alive or (room and not node.spent):
            return node
        log_visits = math.log(node.visits)
        node = max(alive, key=lambda c: c.mean + exploration * math.sqrt(log_visits / c.visits))


def _dead(node: TreeNode) -> bool:
    """Nothing new below it: it and every node under it found no new program."""
    return node.spent and all(_dead(child) for child in node.children)


def _backpropagate(node: TreeNode | None, score: float) -> None:
    while node is not None:
        node.visits += 1
        node.total += score
        node = node.parent
