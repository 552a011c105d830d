"""Which nodes of a graph can lead to which, without a table of every node's descendants.

The explorer asks whether a loop edge's source can still fire; the executor whether a
firing in flight can still lead to an output, or to the return. A table of descendants
answers in constant time but costs the square of a chain's length to build and keep.
Here each node gets the topological rank of its strongly connected component (nodes of
one cycle share it), which settles most questions at once: a path never goes down in
rank, and nodes of one rank reach each other. What remains is a search among the nodes
ranked between the two, remembered per pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# answers remembered at most (a run asks about the same few pairs again and again)
_MAX_ANSWERS = 100_000


class Reachability:
    """`reaches(a, b)`: whether `b` is `a` or follows it in the graph `successors`."""

    def __init__(
        self,
        successors: Mapping[str, Iterable[str]],
        rank: dict[str, int] | None = None,
        *,
        shared: bool = False,
    ):
        """(`rank`: the graph's ranks when known, `topological_ranks` or `order_still_holds`;
        `shared`: `successors` is a dict of collections that nobody changes, used as it is
        instead of copied.)"""
        self.successors: Mapping[str, Iterable[str]] = (
            successors if shared else {node: tuple(targets) for node, targets in successors.items()}
        )
        self.rank = topological_ranks(self.successors) if rank is None else rank
        self._answers: dict[tuple[str, str], bool] = {}
        self._ancestors: dict[str, frozenset[str]] = {}

    def reaches(self, source: str, target: str) -> bool:
        if source == target or self.rank[source] == self.rank[target]:
            return True  # one node, or one cycle
        if self.rank[source] > self.rank[target]:
            return False
        if target in self._ancestors:
            return source in self._ancestors[target]
        key = (source, target)
        found = self._answers.get(key)
        if found is None:
            if len(self._answers) >= _MAX_ANSWERS:
                self._answers.clear()
            found = self._answers[key] = self.any_reaches((source,), target)
        return found

    def any_reaches(self, sources: Iterable[str], target: str) -> bool:
        """Whether `target` is one of `sources` or follows one of them. The search stays
        among the nodes ranked at most `target`'s: no path to it leaves them."""
        bound = self.rank[target]
        todo = [node for node in sources if self.rank[node] <= bound]
        seen: set[str] = set()
        while todo:
            node = todo.pop()
            if node == target:
                return True
            if node not in seen:
                seen.add(node)
                todo.extend(n for n in self.successors[node] if self.rank[n] <= bound)
        return False

    def ancestors(self, target: str) -> frozenset[str]:
        """`target` and every node that leads to it, found once (one pass backwards) and
        then used for every `reaches(_, target)`."""
        found = self._ancestors.get(target)
        if found is None:
            predecessors = predecessor_table(self.successors)
            found = self._ancestors[target] = frozenset(leading_to(predecessors, target))
        return found


def predecessor_table(successors: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The graph reversed: each node's predecessors."""
    predecessors: dict[str, list[str]] = {node: [] for node in successors}
    for node, following in successors.items():
        for successor in following:
            predecessors[successor].append(node)
    return predecessors


def leading_to(predecessors: Mapping[str, list[str]], target: str) -> set[str]:
    """`target` and every node that leads to it: one pass backwards."""
    seen = {target}
    todo = [target]
    while todo:
        for node in predecessors[todo.pop()]:
            if node not in seen:
                seen.add(node)
                todo.append(node)
    return seen


def ancestor_masks(
    successors: Mapping[str, Iterable[str]], targets: Iterable[str]
) -> tuple[dict[str, int], dict[str, int]]:
    """Reachability as bitsets, for a search that asks the same few questions in every
    state: each node's bit, and for each of `targets` the bits of the nodes that lead to
    it (itself included). `any_reaches(sources, t)` is then `mask(sources) & masks[t]`.
    One backward pass per target, over a predecessor table built once."""
    bit = {node: 1 << i for i, node in enumerate(successors)}
    predecessors = predecessor_table(successors)
    masks: dict[str, int] = {}
    for target in targets:
        if target in masks:
            continue
        mask = 0
        for node in leading_to(predecessors, target):
            mask |= bit[node]
        masks[target] = mask
    return bit, masks


def topological_ranks(successors: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Each node's position in a topological order of the graph's strongly connected
    components: a node that follows another never ranks below it.

    Kosaraju's algorithm, without recursion: a depth-first pass orders the nodes by when
    they finish; a pass over the reversed graph, latest finished first, then meets the
    components in topological order, sources first.
    """
    finished: list[str] = []
    seen: set[str] = set()
    for root in successors:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(successors[root]))]
        while stack:
            node, following = stack[-1]
            for successor in following:
                if successor not in seen:
                    seen.add(successor)
                    stack.append((successor, iter(successors[successor])))
                    break
            else:
                stack.pop()
                finished.append(node)
    predecessors: dict[str, list[str]] = {node: [] for node in successors}
    for node, targets in successors.items():
        for successor in targets:
            predecessors[successor].append(node)
    rank: dict[str, int] = {}
    component = -1
    for root in reversed(finished):
        if root in rank:
            continue
        component += 1
        rank[root] = component
        todo = [root]
        while todo:
            for node in predecessors[todo.pop()]:
                if node not in rank:
                    rank[node] = component
                    todo.append(node)
    return rank


def order_still_holds(successors: Mapping[str, Iterable[str]], rank: Mapping[str, int]) -> bool:
    """Whether `rank`, one node one rank (the ranks of an acyclic graph), still ranks
    `successors`, a graph of the same nodes, as `topological_ranks` would need: every
    edge goes up in rank. Then the graph is acyclic too (a cycle would come back down),
    each node is its own component, and `Reachability` answers every question with these
    ranks as with its own (a path never goes down in rank; the search between two ranks
    is the same). An edit that adds, removes or rewires an edge mostly keeps the order of
    the graph it was made from: one pass over the edges, not two searches."""
    if len(rank) != len(successors):
        return False
    get = rank.get
    for node, targets in successors.items():
        here = get(node)
        if here is None:
            return False
        for target in targets:
            there = get(target)
            if there is None or not here < there:
                return False
    return True


def reordered(
    successors: Mapping[str, Iterable[str]], rank: Mapping[str, int], edge: tuple[str, str]
) -> dict[str, int] | None:
    """Ranks for `successors` made from `rank` (one node one rank) when every edge of
    `successors` but `edge` goes up in it and `edge` goes down: None when `edge` closes a
    cycle, else `rank` with the nodes between the two ends reordered (Pearce and Kelly's
    dynamic topological order). With `edge` = (a, b): the nodes `b` leads to, ranked
    below `a` (a search that stops at `a`'s rank: no path to `a` goes above it), and the
    nodes that lead to `a`, ranked above `b`, take the ranks they hold between them, those
    leading to `a` first, each group in its old order. The work is that of the nodes
    between the two ends, not of the graph."""
    a, b = edge
    upper, lower = rank[a], rank[b]
    if a == b:
        return None
    forward: list[str] = []
    seen = {b}
    todo = [b]
    while todo:
        node = todo.pop()
        forward.append(node)
        for successor in successors[node]:
            if successor == a:
                return None  # (b leads to a: a -> b closes a cycle)
            if successor not in seen and rank[successor] < upper:
                seen.add(successor)
                todo.append(successor)
    predecessors = predecessor_table(successors)
    backward: list[str] = []
    seen = {a}
    todo = [a]
    while todo:
        node = todo.pop()
        backward.append(node)
        for predecessor in predecessors[node]:
            if predecessor not in seen and rank[predecessor] > lower:
                seen.add(predecessor)
                todo.append(predecessor)
    moved = sorted(backward, key=rank.__getitem__) + sorted(forward, key=rank.__getitem__)
    ranks = sorted(rank[node] for node in moved)
    found = dict(rank)
    found.update(zip(moved, ranks, strict=True))
    return found


def edges_down(
    successors: Mapping[str, Iterable[str]], rank: Mapping[str, int], most: int = 1
) -> list[tuple[str, str]] | None:
    """The edges of `successors` that do not go up in `rank` (one node one rank), as
    `order_still_holds` finds them, or None when `rank` does not rank the graph's nodes
    or more than `most` go down (then there is no point in looking further)."""
    if len(rank) != len(successors):
        return None
    get = rank.get
    down: list[tuple[str, str]] = []
    for node, targets in successors.items():
        here = get(node)
        if here is None:
            return None
        for target in targets:
            there = get(target)
            if there is None:
                return None
            if not here < there:
                down.append((node, target))
                if len(down) > most:
                    return None
    return down
