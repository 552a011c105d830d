"""Static analyses of an agent's IR, each with its own diagnostic code.

- `check_cycles`: every cycle passes through a loop edge (E0401); a bound on an edge
  that closes no cycle is useless (W0402).
- `check_races`: what an edge reads is ordered before it (E0403).
- `check_returns`: an agent without a return (E0407). Which nodes and returns the runs
  reach is decided by exploring them (paths.py: W0404, E0407).
- `check_unused`: outputs nobody reads (W0405).
- `check_deadlines`: a human step's deadline with no `on error` edge (W0420).
- `worst_case_firings` / `cost_table`: the most firings of each node in any run, and
  the model calls and output tokens they cost (`rolegraph check --cost`).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from . import ast, codes
from .dataflow import read_calls, ref_heads
from .diagnostics import Diagnostic, DiagnosticSink
from .identity import IdentityTable
from .ir import AgentIR, IREdge, IRNode
from .reach import Reachability, edges_down, order_still_holds, reordered


def acyclic_graph(ir: AgentIR) -> dict[str, set[str]]:
    """The graph without its loop edges (data edges and unbounded control edges), as the
    successors of each node. (Plain sets: these graphs are small and checked often.)"""
    successors: dict[str, set[str]] = {name: set() for name in ir.nodes}
    for edge in ir.edges:
        if edge.kind in ("data", "control") and not edge.loop and edge.target in ir.nodes:
            successors[edge.source].add(edge.target)
    return successors


def find_cycle(successors: dict[str, set[str]]) -> list[str] | None:
    """A cycle as its nodes in order (the first not repeated), or None: iterative DFS."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in successors:
        if root in state:
            continue
        path: list[str] = [root]
        stack = [iter(sorted(successors[root]))]
        state[root] = 1
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(child) == 1:
                return path[path.index(child) :]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(successors[child])))
    return None


def reachable(successors: dict[str, set[str]], start: str) -> set[str]:
    """Every node reachable from `start` (itself included)."""
    seen = {start}
    stack = [start]
    while stack:
        for child in successors[stack.pop()]:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def predecessors(successors: dict[str, set[str]]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {name: set() for name in successors}
    for name, children in successors.items():
        for child in children:
            found[child].add(name)
    return found


def analyse(ir: AgentIR, *, errors_only: bool = False) -> list[Diagnostic]:
    """The graph analyses; `errors_only` skips those that can only warn (for the editor)."""
    known = _derived(ir)
    graph = known.successors
    if errors_only and known.acyclic:
        diagnostics = []  # (what `check_cycles` reports of a graph without one)
    else:
        diagnostics = check_cycles(ir, graph, errors_only=errors_only)
    if any(d.code == codes.UNBOUNDED_CYCLE for d in diagnostics):
        return diagnostics  # the other analyses assume a bounded graph
    reach = known.reach  # (not made for a graph with a cycle: reported above)
    diagnostics += check_races(ir, graph, reach, known)
    diagnostics += check_reads(ir, graph, reach, known.readers)
    diagnostics += check_returns(ir)
    if not errors_only:
        diagnostics += check_unused(ir)
        diagnostics += check_else(ir)
        diagnostics += check_deadlines(ir)
    return diagnostics


@dataclass(eq=False)
class _Derived:
    """What the analyses derive from an IR's nodes and edges alone, with the IR: the last
    IR analysed's, from which the next one's are made by the difference (an edited agent
    shares all but a few nodes and edges, the same objects, with the one before it). The
    IR's nodes and edges are held here, so no identity of theirs is reused meanwhile; the
    IR itself is not (the analyses do not keep an IR alive: a run's plan goes with it).
    """

    ir: weakref.ref[AgentIR]
    nodes: dict[str, IRNode]  # the IR's (that object)
    edges: list[IREdge]  # the IR's (that object)
    order: list[str]  # its node names, in order
    pairs: dict[tuple[str, str], int]  # the edges of `successors`: how many make each
    successors: dict[str, set[str]]  # `acyclic_graph(ir)` (its sets are never changed)
    # its `Reachability`; None until asked for, of a graph known to have a cycle (the
    # errors-only analyses report the cycle and ask nothing else)
    known_reach: Reachability | None
    acyclic: bool  # (then `reach` has one rank a node, and every edge goes up in rank)
    readers: dict[str, tuple[str, ...]]  # the nodes that read with `latest`: what they read
    names: frozenset[str]  # its node names (`_node_set`)
    # whether a node reaches another, for each pair `check_races` asked about
    answers: dict[tuple[str, str], bool] = field(default_factory=dict)
    # the graph's it was made from: (its answers, its ranks, the pairs of nodes no edge
    # links any more, the pairs newly linked) (`_answer_kept`)
    prior: _Prior | None = None

    @property
    def reach(self) -> Reachability:
        if self.known_reach is None:
            self.known_reach = _reachability(self.successors)
        return self.known_reach


_Prior = tuple[
    dict[tuple[str, str], bool], dict[str, int], list[tuple[str, str]], list[tuple[str, str]]
]


def _answer_kept(prior: _Prior, pair: tuple[str, str], rank: dict[str, int]) -> bool | None:
    """Whether `pair`'s first node reaches its second, as the graph this one was made from
    answered (`prior`), where no pair of nodes linked or unlinked between the two graphs
    can change it; else None. A path of the old graph is one of the new unless it used a
    pair unlinked, which lies between the two nodes in the old graph's ranks (a path never
    goes down in them); a path of the new graph is one of the old unless it uses a pair
    newly linked, which lies between them in the new graph's ranks (`rank`)."""
    answers, old_rank, unlinked, linked = prior
    found = answers.get(pair)
    if found is None:
        return None
    source, target = pair
    if found:
        low, high = old_rank[source], old_rank[target]
        for a, b in unlinked:
            if low <= old_rank[a] and old_rank[b] <= high:
                return None
    else:
        low, high = rank[source], rank[target]
        for a, b in linked:
            if low <= rank[a] and rank[b] <= high:
                return None
    return found


# the last IR's (`_derived`)
_LAST_DERIVED: list[_Derived | None] = [None]
_ACYCLIC = ("data", "control")


def _derived(ir: AgentIR) -> _Derived:
    """The acyclic graph of `ir` (`acyclic_graph`), its `Reachability` and the nodes that
    read with `latest` (`_latest_reads`), made from the last IR's (`_LAST_DERIVED`) when
    it has the same node names in the same order: the edges the two do not share taken
    from and added to its graph, the last ranks kept when each edge added still goes up in
    them (then the graph is acyclic, and they rank it) or reordered when one goes down
    (`reordered`), the nodes that are not the same objects read again. The difference is
    the one the IR's builder knows (`AgentIR.difference`) when the IR was made from the
    last one, else found by the edges' and nodes' identities."""
    last = _LAST_DERIVED[0]
    order = list(ir.nodes)
    if last is None or last.order != order:
        derived = _derived_afresh(ir, order)
    else:
        difference = ir.difference
        if difference is not None and difference.base is last.ir():
            derived = _derived_from(last, ir, difference.removed, difference.added)
            changed = difference.changed
        else:
            edges, old_edges = ir.edges, last.edges
            now = dict(zip(map(id, edges), edges, strict=True))
            before = dict(zip(map(id, old_edges), old_edges, strict=True))
            if len(now) != len(edges) or len(before) != len(old_edges):
                derived = _derived_afresh(ir, order)  # (an edge twice: no difference by ids)
                _LAST_DERIVED[0] = derived
                return derived
            removed = [before[key] for key in before.keys() - now.keys()]
            added = [now[key] for key in now.keys() - before.keys()]
            derived = _derived_from(last, ir, removed, added)
            olds = last.nodes
            changed = [name for name, node in ir.nodes.items() if node is not olds[name]]
        if changed:
            derived.readers = _readers_after(last.readers, ir, changed)
    _LAST_DERIVED[0] = derived
    return derived


def _derived_afresh(ir: AgentIR, order: list[str]) -> _Derived:
    successors = acyclic_graph(ir)
    pairs: dict[tuple[str, str], int] = {}
    for edge in ir.edges:
        if edge.kind in _ACYCLIC and not edge.loop and edge.target in ir.nodes:
            key = (edge.source, edge.target)
            pairs[key] = pairs.get(key, 0) + 1
    reach, acyclic = _reach_of(successors)
    readers = {name: reads for name, node in ir.nodes.items() if (reads := _latest_reads(node))}
    return _Derived(
        weakref.ref(ir),
        ir.nodes,
        ir.edges,
        order,
        pairs,
        successors,
        reach,
        acyclic,
        readers,
        _node_set(ir),
    )


def _derived_from(
    last: _Derived, ir: AgentIR, removed: list[IREdge], added: list[IREdge]
) -> _Derived:
    """`last` with the edges `removed` taken from its graph and `added` added to it (the
    readers of `latest` left to the caller)."""
    successors, pairs, unlinked, new = _relinked(last, ir.nodes, removed, added)
    reach: Reachability | None
    if last.acyclic:
        rank = last.reach.rank
        down = _going_down(new, rank)
        if not down:  # (an edge rewired or added mostly keeps them, or reorders them)
            reach, acyclic = Reachability(successors, rank, shared=True), True
        elif len(down) == 1:
            reordering = reordered(successors, rank, down[0])
            if reordering is None:  # (the edge closes a cycle)
                reach, acyclic = None, False
            else:
                reach, acyclic = Reachability(successors, reordering, shared=True), True
                _LAST_ORDER[0] = reordering
        else:
            reach, acyclic = _reach_of(successors)
    else:
        reach, acyclic = _reach_of(successors)
    derived = _Derived(
        weakref.ref(ir),
        ir.nodes,
        ir.edges,
        last.order,
        pairs,
        successors,
        reach,
        acyclic,
        last.readers,
        last.names,
    )
    if last.known_reach is not None:
        derived.prior = (last.answers, last.known_reach.rank, unlinked, new)
    return derived


_Pair = tuple[str, str]


def _relinked(
    last: _Derived, names: dict[str, Any], removed: list[IREdge], added: list[IREdge]
) -> tuple[dict[str, set[str]], dict[_Pair, int], list[_Pair], list[_Pair]]:
    """`last`'s graph (`successors`, `pairs`) with the edges `removed` taken out and `added`
    put in (`names`: the node names), and the pairs of nodes no edge links any more, and
    those no edge linked before."""
    successors = dict(last.successors)
    pairs = last.pairs.copy()
    unlinked: list[_Pair] = []  # the pairs no edge makes now
    for edge in removed:
        if edge.kind in _ACYCLIC and not edge.loop and edge.target in names:
            key = (edge.source, edge.target)
            count = pairs[key] - 1
            if count:
                pairs[key] = count
            else:
                del pairs[key]
                successors[edge.source] = successors[edge.source] - {edge.target}
                unlinked.append(key)
    new: list[_Pair] = []  # the pairs no edge made before
    for edge in added:
        if edge.kind in _ACYCLIC and not edge.loop and edge.target in names:
            key = (edge.source, edge.target)
            count = pairs.get(key, 0)
            pairs[key] = count + 1
            if not count:
                successors[edge.source] = successors[edge.source] | {edge.target}
                new.append(key)
    return successors, pairs, unlinked, new


def _going_down(pairs: list[_Pair], rank: dict[str, int]) -> list[_Pair]:
    return [(a, b) for a, b in pairs if not rank[a] < rank[b]]


def closes_a_cycle(ir: AgentIR, removed: list[IREdge], added: list[IREdge]) -> bool:
    """Whether the graph of `ir`, the IR analysed last, acyclic, has a cycle of edges
    without a bound (E0401) once the edges `removed` are taken from it and `added` put in,
    where its ranks tell it as the next analysis (`_derived_from`) would find it: exactly
    one edge added goes down in them, and no reordering puts it up. False otherwise
    (acyclic, or not told so: the analyses decide)."""
    last = _LAST_DERIVED[0]
    if last is None or last.ir() is not ir or not last.acyclic:
        return False
    successors, _, _, new = _relinked(last, ir.nodes, removed, added)
    down = _going_down(new, last.reach.rank)
    return len(down) == 1 and reordered(successors, last.reach.rank, down[0]) is None


def races_after(
    ir: AgentIR, removed: list[IREdge], added: list[IREdge], control: list[IREdge]
) -> bool:
    """Whether the IR analysed last, `ir`, acyclic, with the edges `removed` taken out and
    `added` put in (its control and return edges then `control`), has a race (E0403), as
    `check_races` finds them on the IR the next analysis would see: its nodes standing for
    that IR's (the caller knows they do). False otherwise (a cycle: `closes_a_cycle`)."""
    last = _LAST_DERIVED[0]
    if last is None or last.ir() is not ir or not last.acyclic:
        return False
    derived = _derived_from(last, ir, removed, added)
    if not derived.acyclic:
        return False
    return bool(check_races(ir, derived.successors, derived.reach, derived, control))


def _reach_of(graph: dict[str, set[str]]) -> tuple[Reachability | None, bool]:
    """The `Reachability` of `graph` and whether it is acyclic; None for the first when
    the graph is known to have a cycle (an edge that goes down in the last acyclic graph's
    ranks closes one): asked for later, if ever."""
    rank, cycle = _ranks_from_last(graph)
    if cycle:
        return None, False
    reach = Reachability(graph, rank) if rank is not None else _ranked_afresh(graph)
    return reach, rank is not None or not _has_cycle(reach)


def _readers_after(
    readers: dict[str, tuple[str, ...]], ir: AgentIR, changed: list[str]
) -> dict[str, tuple[str, ...]]:
    """`readers` with the nodes `changed` read again, in the order of `ir`'s nodes."""
    found = dict(readers)
    inserted = False  # (a node updated in place keeps its place)
    for name in changed:
        reads = _latest_reads(ir.nodes[name])
        if reads:
            inserted |= name not in found
            found[name] = reads
        else:
            found.pop(name, None)
    if inserted and len(found) > 1:
        position = {name: index for index, name in enumerate(ir.nodes)}
        found = dict(sorted(found.items(), key=lambda item: position[item[0]]))
    return found


# the ranks of the last acyclic graph analysed, one node one rank: an edited agent's graph
# is mostly still ordered by the graph of the agent it was made from (`order_still_holds`)
_LAST_ORDER: list[dict[str, int]] = [{}]


def _reachability(graph: dict[str, set[str]]) -> Reachability:
    """`Reachability(graph)`, with the last acyclic graph's ranks when they still hold, or
    reordered (`reordered`) when one edge goes down in them and closes no cycle."""
    rank, _ = _ranks_from_last(graph)
    return Reachability(graph, rank) if rank is not None else _ranked_afresh(graph)


def _ranks_from_last(graph: dict[str, set[str]]) -> tuple[dict[str, int] | None, bool]:
    """The last acyclic graph's ranks (`_LAST_ORDER`) when they still rank `graph`, or
    reordered when one edge goes down in them and closes no cycle; and whether it closes
    one (then no ranks: `graph` has a cycle)."""
    last = _LAST_ORDER[0]
    if not last:
        return None, False
    if order_still_holds(graph, last):
        return last, False
    down = edges_down(graph, last)
    if down is None or len(down) != 1:
        return None, False
    rank = reordered(graph, last, down[0])
    if rank is None:
        return None, True
    _LAST_ORDER[0] = rank
    return rank, False


def _ranked_afresh(graph: dict[str, set[str]]) -> Reachability:
    """`Reachability(graph)`, its ranks kept for the next graph when it is acyclic."""
    reach = Reachability(graph)
    if len(set(reach.rank.values())) == len(reach.rank):  # (acyclic: one node one rank)
        _LAST_ORDER[0] = reach.rank
    return reach


def _has_cycle(reach: Reachability) -> bool:
    """Whether the graph has a cycle: two nodes of one strongly connected component, or
    a node that follows itself."""
    ranks = reach.rank
    return len(set(ranks.values())) < len(ranks) or any(
        node in targets for node, targets in reach.successors.items()
    )


def check_deadlines(ir: AgentIR) -> list[Diagnostic]:
    """A human step with a deadline and no `on error` edge: no answer in time fails the
    run (W0420)."""
    handled = {e.source for e in ir.edges if e.condition == "error"}
    sink = DiagnosticSink(ir.filename)
    for name, node in ir.nodes.items():
        if node.kind == "human" and node.deadline is not None and name not in handled:
            sink.report(
                codes.DEADLINE_WITHOUT_ON_ERROR,
                f"if nobody answers `{name}` within its deadline, the run fails",
                node.span,
                "has a deadline, and no `on error` edge",
                hints=(f"route the missed deadline: `{name} -> ... on error`",),
            )
    return sink.found


def check_else(ir: AgentIR) -> list[Diagnostic]:
    """`else` means: none of the source's `when` edges was taken. Diagnosed: an `else`
    beside an unguarded edge (both are taken at every firing), and an `else` with no
    `when` beside it (it is an unguarded edge in disguise)."""
    sink = DiagnosticSink(ir.filename)
    by_source: dict[str, list[IREdge]] = {}
    for edge in ir.edges:
        if edge.kind != "data":
            by_source.setdefault(edge.source, []).append(edge)
    for source, edges in by_source.items():
        conditions = {e.condition for e in edges}
        for edge in (e for e in edges if e.condition == "else"):
            unguarded = next((e for e in edges if e.condition == "always"), None)
            if unguarded is not None:
                sink.report(
                    codes.ELSE_BESIDE_UNGUARDED,
                    f"`{source}` takes this `else` edge and its unguarded edge at every firing",
                    edge.span,
                    "taken every time",
                    hints=(
                        f"did you mean a `when` guard on `{source} -> "
                        f"{'return' if unguarded.kind == 'return' else unguarded.target}`?",
                    ),
                )
            elif "when" not in conditions:
                sink.report(
                    codes.ELSE_WITHOUT_WHEN,
                    f"`{source}` has no `when` edge: this `else` is taken at every firing",
                    edge.span,
                    "no `when` beside it",
                    hints=("drop `else`, or add the `when` edge it is the alternative to",),
                )
    return sink.found


def check_cycles(
    ir: AgentIR, graph: dict[str, set[str]] | None = None, *, errors_only: bool = False
) -> list[Diagnostic]:
    graph = acyclic_graph(ir) if graph is None else graph
    sink = DiagnosticSink(ir.filename)
    cycle = find_cycle(graph)
    if cycle:
        path = [*cycle, cycle[0]]
        pairs = set(pairwise(path))
        closing = next(
            (
                e
                for e in ir.edges
                if e.kind == "control" and not e.loop and (e.source, e.target) in pairs
            ),
            None,
        )
        span = closing.span if closing else ir.nodes[path[0]].span
        hint = (
            "bound it: add `max N` to this edge"
            if closing
            else "a node cannot consume its own output; route it back with a bounded edge"
        )
        sink.report(
            codes.UNBOUNDED_CYCLE,
            f"unbounded cycle: {' -> '.join(path)}",
            span,
            "this edge closes the cycle" if closing else "in this cycle",
            hints=(hint,),
        )
        return sink.found
    if errors_only:
        return sink.found
    # A bound matters on any edge of a cycle, even one that another bound already closes
    # (two bounds on one cycle limit different things): only an edge on no cycle warns.
    full = {name: set(targets) for name, targets in graph.items()}
    for edge in ir.edges:
        if edge.kind == "control" and edge.target in ir.nodes:
            full[edge.source].add(edge.target)
    reach = Reachability(full)  # (one search per question, not a walk of the graph)
    for edge in ir.edges:
        if (
            edge.loop
            and edge.target in ir.nodes
            and not (edge.source == edge.target or reach.reaches(edge.target, edge.source))
        ):
            sink.report(
                codes.USELESS_BOUND,
                f"`max {edge.max}` on an edge that closes no cycle",
                edge.span,
                "no cycle through this edge",
                hints=(
                    "remove the bound: the edge is taken at most once per firing of its source",
                ),
            )
    return sink.found


# what each (immutable) expression reads, by its identity: every name it reads
# (`ref_heads`) and its `latest`/`history` reads (`read_calls`). An edited agent shares
# all but a few expressions with the agent it was made from, and its analyses run again
# at each edit. Each entry is kept while its expression lives (identity.py).
_READS: IdentityTable[int, tuple[tuple[str, ...], tuple[tuple[str, str], ...]]] = IdentityTable()


def _reads(expr: ast.Node) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    found = _READS.get(id(expr))
    if found is None:
        found = _READS.keep(id(expr), (ref_heads(expr), tuple(read_calls(expr))), expr)
    return found


def _node_refs(ir: AgentIR, expr: ast.Node | None) -> set[str]:
    """The nodes `expr` reads, of any kind (`x.error` and `latest(x)` included: each
    needs `x` to have fired)."""
    if expr is None:
        return set()
    nodes = ir.nodes
    return {head for head in _reads(expr)[0] if head in nodes}


# the `latest` reads of each (frozen) IR node's arguments and map source, by its
# identity: the analyses' IR nodes are shared by the IRs of edited agents (lower.py)
_LATEST: IdentityTable[int, tuple[str, ...]] = IdentityTable()


def _latest_reads(node: IRNode) -> tuple[str, ...]:
    """The nodes `node`'s arguments and map source read with `latest(...)`, in order."""
    found = _LATEST.get(id(node))
    if found is None:
        reads = [
            read
            for expr in [*node.args.values(), node.map_source]
            if expr is not None
            for function, read in _read_calls(expr)
            if function == "latest"
        ]
        found = _LATEST.keep(id(node), tuple(reads), node)
    return found


def _read_calls(expr: ast.Node) -> tuple[tuple[str, str], ...]:
    """`read_calls(expr)`, remembered by the expression's identity."""
    return _reads(expr)[1]


def check_races(
    ir: AgentIR,
    graph: dict[str, set[str]] | None = None,
    reach: Reachability | None = None,
    known: _Derived | None = None,
    control: list[IREdge] | None = None,
) -> list[Diagnostic]:
    """(`graph`: `acyclic_graph(ir)`, and `reach` its `Reachability`, when known; `known`:
    their `_Derived`, whose answers are kept, and reused from the graph it was made from
    where no edge changed between could change them: `_answer_kept`. `control`: the
    control and return edges, when not `ir`'s own: `races_after`'s.)"""
    forward = acyclic_graph(ir) if graph is None else graph
    reach = Reachability(forward) if reach is None else reach
    sink = DiagnosticSink(ir.filename)
    names = known.names if known is not None else _node_set(ir)
    answers = known.answers if known is not None else {}
    prior = known.prior if known is not None else None
    for edge in ir.control_edges if control is None else control:
        if edge.source not in ir.nodes:
            continue
        source = edge.source
        for node, reader in _edge_reads(ir, edge, names):
            # ordered before the source: the source itself, or one of its ancestors
            if node == source:
                continue
            if node in forward:
                pair = (node, source)
                ordered = answers.get(pair)
                if ordered is None:
                    ordered = _answer_kept(prior, pair, reach.rank) if prior else None
                    if ordered is None:
                        ordered = reach.reaches(node, source)
                    answers[pair] = ordered
            else:
                ordered = False
            if not ordered:
                sink.report(
                    codes.RACE,
                    f"race: {reader} reads `{node}`, which is not ordered before `{edge.source}`",
                    edge.span,
                    "this edge",
                    hints=(
                        f"bind the value on the edge, or make `{edge.source}` depend on `{node}`",
                    ),
                )
    return sink.found


# one object per set of node names met (an edited agent mostly has its parent's): named
# in `_EDGE_READS`'s keys (whose entries go with it, when it is let go here)
_NODE_SETS: dict[frozenset[str], frozenset[str]] = {}
# what a control or return edge reads, with what reads it (`_edge_reads`), by the edge's
# identity, its target node's and the agent's node names'; kept while they live
_EDGE_READS: IdentityTable[tuple[int, int, int], list[tuple[str, str]]] = IdentityTable()


def _node_set(ir: AgentIR) -> frozenset[str]:
    names = frozenset(ir.nodes)
    found = _NODE_SETS.get(names)
    if found is None:
        if len(_NODE_SETS) >= 1024:
            _NODE_SETS.clear()
            _EDGE_READS.clear()
        found = _NODE_SETS[names] = names
    return found


def _edge_reads(ir: AgentIR, edge: IREdge, names: frozenset[str]) -> list[tuple[str, str]]:
    """The nodes an edge's firing reads (its guard, value and ports, and its target's
    arguments and map that the ports leave to it), each with what reads it: made of the
    edge, its target node and the agent's node names alone, so remembered by them."""
    target = ir.nodes.get(edge.target) if edge.kind == "control" else None
    key = (id(edge), id(target), id(names))
    found = _EDGE_READS.get(key)
    if found is not None:
        return found
    reads: list[tuple[str, str]] = []  # (node read, what reads it)
    reads += [(n, "the guard") for n in _node_refs(ir, edge.guard)]
    reads += [(n, "the returned value") for n in _node_refs(ir, edge.value)]
    for port, expr in edge.ports.items():
        reads += [(n, f"port `{port}`") for n in _node_refs(ir, expr)]
    if target is not None:
        for param, expr in target.args.items():
            if param in edge.ports:
                continue
            refs = _node_refs(ir, expr) - {target.map_var}
            reads += [(n, f"argument `{param}` of `{edge.target}`") for n in refs]
        if target.map_source is not None:
            reads += [(n, f"the map of `{edge.target}`") for n in _node_refs(ir, target.map_source)]
    return _EDGE_READS.keep(key, reads, edge, target, names)


def check_reads(
    ir: AgentIR,
    graph: dict[str, set[str]] | None = None,
    known: Reachability | None = None,
    readers: dict[str, tuple[str, ...]] | None = None,
) -> list[Diagnostic]:
    """`latest(x)` in a node's arguments reads an output that must exist before the
    firing: x comes before the node (an ancestor in the graph without loop edges), as any
    read must. `history(x)` may read any node: before its first output it is `[]`. Both
    are for node arguments only (E0413). (`readers`: the nodes that read with `latest`,
    in order, and what they read, when known.)"""
    forward = acyclic_graph(ir) if graph is None else graph
    reach = known  # (made for the first `latest` read when not given: most have none)
    sink = DiagnosticSink(ir.filename)
    if readers is None:
        readers = {name: _latest_reads(node) for name, node in ir.nodes.items()}
    for name, reads in readers.items():
        node = ir.nodes[name]
        for read in reads:
            if reach is None:
                reach = Reachability(forward)
            if read == name or read not in forward or not reach.reaches(read, name):
                sink.report(
                    codes.RACE,
                    f"race: `{name}` reads `latest({read})`, and `{read}` does not "
                    f"come before `{name}`",
                    node.span,
                    "reads it",
                    hints=(
                        f"read `history({read})` (every output so far, `[]` before "
                        f"the first), or make `{name}` depend on `{read}`",
                    ),
                )
    edges = ir.control_edges  # (a data edge has no guard, value or port)
    places: list[tuple[Any, Any]] = []
    if any(map(_edge_reads_outputs, edges)):  # (mostly none does)
        places += [(e.guard, e.span) for e in edges] + [(e.value, e.span) for e in edges]
        places += [(p, e.span) for e in edges for p in e.ports.values()]
    places += [(r.value, r.span) for r in ir.returns_]
    places += [(c.formula, c.span) for c in ir.constraints]
    for expr, span in places:
        if expr is not None and _read_calls(expr):
            sink.report(
                codes.READ_OUTSIDE_ARGUMENTS,
                "`latest` and `history` read outputs for a node's arguments only",
                span,
                "here",
                hints=("a plain reference reads the latest output here",),
            )
    return sink.found


# whether a (frozen) control or return edge's guard, value or ports read with `latest` or
# `history`, by its identity (kept while the edge lives)
_EDGE_READ_CALLS: IdentityTable[int, bool] = IdentityTable()


def _edge_reads_outputs(edge: IREdge) -> bool:
    found = _EDGE_READ_CALLS.get(id(edge))
    if found is None:
        exprs = [edge.guard, edge.value, *edge.ports.values()]
        reads = any(_read_calls(expr) for expr in exprs if expr is not None)
        found = _EDGE_READ_CALLS.keep(id(edge), reads, edge)
    return found


def check_returns(ir: AgentIR) -> list[Diagnostic]:
    """An agent needs a return. (Which nodes and returns runs reach: see paths.py.)"""
    if ir.returns_ or any(e.kind == "return" for e in ir.edges):
        return []
    sink = DiagnosticSink(ir.filename)
    sink.report(
        codes.NO_RETURN,
        f"agent `{ir.name}` has no `return`",
        ir.span,
        "no return in this agent",
        hints=("add `return NODE`, or an edge `NODE -> return(VALUE)`",),
    )
    return sink.found


def check_unused(ir: AgentIR) -> list[Diagnostic]:
    read: set[str] = set()
    for node in ir.nodes.values():
        read.update(node.deps)
    for edge in ir.edges:
        if edge.kind != "data":
            read.add(edge.source)
            read.update(_node_refs(ir, edge.guard) | _node_refs(ir, edge.value))
            for expr in edge.ports.values():
                read.update(_node_refs(ir, expr))
    for ret in ir.returns_:
        read.update(ret.deps)
    for constraint in ir.constraints:
        for atom in constraint.formula.walk():
            match atom:
                case ast.LtlFired(node=fired):
                    read.add(fired)
                case ast.LtlHolds(expr=expr):
                    read.update(_node_refs(ir, expr))
    sink = DiagnosticSink(ir.filename)
    for name, node in ir.nodes.items():
        if name not in read:
            sink.report(
                codes.UNUSED_OUTPUT,
                f"the output of `{name}` is never used",
                node.span,
                "never read",
                hints=("read it, return it, or remove the node",),
            )
    return sink.found


def worst_case_firings(ir: AgentIR) -> dict[str, int]:
    """The most times each node can fire in one run (a sound upper bound).

    A node fires once at start if it is an entry, once per consumed set of new outputs
    of its dependencies (at most the fewest firings among them), and once per taken edge
    into it; a loop edge is taken at most `max` times, any edge at most once per firing
    of its source. The least fixed point of these equations is the bound.
    """
    firings = dict.fromkeys(ir.nodes, 0)
    incoming: dict[str, list[IREdge]] = {name: [] for name in ir.nodes}
    for edge in ir.edges:
        if edge.kind == "control" and edge.target in incoming:
            incoming[edge.target].append(edge)
    for _ in range(10_000):
        changed = False
        for name, node in ir.nodes.items():
            count = 1 if node.entry else 0
            if node.deps:
                count += min(firings[d] for d in node.deps)
            for edge in incoming[name]:
                taken = firings[edge.source]
                count += min(taken, edge.max) if edge.max is not None else taken
            if count != firings[name]:
                firings[name] = count
                changed = True
        if not changed:
            break
    return firings


@dataclass(frozen=True)
class CostRow:
    node: str
    callee: str
    model: str | None
    firings: int
    calls: int
    output_tokens: int | None
    questions: int = 0  # asked of people (human steps): no model call, counted apart


def cost_table(ir: AgentIR) -> list[CostRow]:
    firings = worst_case_firings(ir)
    rows = []
    for name, node in ir.nodes.items():
        calls = firings[name] * node.calls_per_firing
        tokens = (
            calls * node.max_tokens
            if node.max_tokens is not None and calls
            else (0 if calls == 0 else None)
        )
        questions = firings[name] * node.questions_per_firing
        rows.append(CostRow(name, node.callee, node.model, firings[name], calls, tokens, questions))
    return rows
