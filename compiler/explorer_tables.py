"""The tables the explorer (compiler/paths.py) reads of an agent's graph, per edit.

An editor checks many agents that differ from the last one checked by a statement or
two, and lower.py hands them the same node and edge objects for the statements that did
not change. So the tables are derived from the last agent's (`tables_of`): the nodes
and edges that are not the same objects say which entries to make again, and every
other entry is the last one's own object. That is cheaper than building them over every
node, and the explorer compares a node's entries of two agents (`_Explorer.reads_as`)
by identity first. When the node names, their order or the returns differ, the tables
are built afresh (`_built`). tests/test_explorer_tables.py holds the derived tables to
the ones built afresh, along seeded random walks of edits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import compress
from operator import is_, is_not

from .ir import RETURN, AgentIR, IREdge, IRNode

Deliveries = list[tuple[str, str, bool]]


@dataclass
class Tables:
    """What firing a node reads of the graph, by node.

    - `out`: its control and return edges, in source order;
    - `dependents`: the nodes that read its output (once per input that reads it);
    - `deps_of`: what each node, and each return (`<return>0`, ...), reads;
    - `return_deps`, `return_of_dep`: what each return reads, and the returns each
      node's output goes to;
    - `entries`: the nodes that start a run, in order;
    - `delivers`: where its output goes, in order: each consumer (a node, a return's
      queue), what that consumer fires (the node, or a return), and whether it reads
      this output only (it then joins at once and holds no queue).

    And what they were made from: the agent's nodes and its control and return edges
    (compared by identity with the next agent's; `out` reads no data edge, a node's
    inputs are its `deps`), the node names and their positions."""

    out: dict[str, list[IREdge]]
    dependents: dict[str, list[str]]
    deps_of: dict[str, tuple[str, ...]]
    return_deps: list[tuple[str, ...]]
    return_of_dep: dict[str, list[int]]
    delivers: dict[str, Deliveries]
    entries: tuple[str, ...]
    nodes: dict[str, IRNode]
    edges: list[IREdge]  # the control and return edges, in order
    by_id: dict[int, IREdge]  # those by their ids
    names: tuple[str, ...]
    position: dict[str, int]
    # the nodes whose arguments, and the edges whose guard, ports or value, read some
    # `x.error` (`IRNode.error_reads`): none in most agents
    reading: frozenset[str] = frozenset()
    reading_edges: tuple[IREdge, ...] = ()


# the tables made last (the agent an editor checks next is mostly the same)
_LAST: list[Tables] = []


def tables_of(ir: AgentIR) -> Tables:
    """The agent's tables: derived from the last ones made when the node names (in
    order) and the returns are the same, else built afresh."""
    names = tuple(ir.nodes)
    return_deps = [tuple(r.deps) for r in ir.returns_]
    last = _LAST[0] if _LAST else None
    if last is not None and last.names == names and last.return_deps == return_deps:
        made = _derived(ir, last)
    else:
        made = _built(ir, names, return_deps)
    _LAST[:] = [made]
    return made


def forget() -> None:
    """Forget the last tables (the next are built afresh)."""
    _LAST.clear()


def _built(ir: AgentIR, names: tuple[str, ...], return_deps: list[tuple[str, ...]]) -> Tables:
    edges = ir.control_edges
    out: dict[str, list[IREdge]] = {name: [] for name in names}
    for edge in edges:
        if edge.source in out:
            out[edge.source].append(edge)
    dependents: dict[str, list[str]] = {name: [] for name in names}
    for name, node in ir.nodes.items():
        for dep in node.deps:
            dependents[dep].append(name)
    return_of_dep: dict[str, list[int]] = {name: [] for name in names}
    for index, deps in enumerate(return_deps):
        for dep in deps:
            return_of_dep[dep].append(index)
    deps_of: dict[str, tuple[str, ...]] = {n: tuple(ir.nodes[n].deps) for n in names}
    for index, deps in enumerate(return_deps):
        deps_of[f"{RETURN}{index}"] = deps
    delivers = {name: _deliveries(name, dependents, deps_of, return_of_dep) for name in names}
    return Tables(
        out,
        dependents,
        deps_of,
        return_deps,
        return_of_dep,
        delivers,
        tuple(name for name, node in ir.nodes.items() if node.entry),
        dict(ir.nodes),
        edges,
        dict(zip(map(id, edges), edges, strict=True)),
        names,
        {name: i for i, name in enumerate(names)},
        frozenset(name for name, node in ir.nodes.items() if node.error_reads),
        tuple(e for e in edges if e.error_reads),
    )


def _deliveries(
    name: str,
    dependents: dict[str, list[str]],
    deps_of: dict[str, tuple[str, ...]],
    return_of_dep: dict[str, list[int]],
) -> Deliveries:
    found = [(c, c, _alone(deps_of[c])) for c in dependents[name]]
    for index in return_of_dep[name]:
        consumer = f"{RETURN}{index}"
        found.append((consumer, RETURN, _alone(deps_of[consumer])))
    return found


def _alone(deps: tuple[str, ...]) -> bool:
    """Whether a consumer reads one node's output only (its queues are one queue)."""
    return len(deps) == 1 or len(set(deps)) == 1


def _derived(ir: AgentIR, last: Tables) -> Tables:
    """The tables of `ir`, whose node names and returns are `last`'s: the entries of the
    nodes and edges that changed made again, the others `last`'s own."""
    edges = ir.control_edges
    out = last.out
    by_id = last.by_id
    reading_edges = last.reading_edges
    if len(edges) != len(last.edges) or not all(map(is_, edges, last.edges)):
        reading_edges = tuple(e for e in edges if e.error_reads)
        by_id = dict(zip(map(id, edges), edges, strict=True))
        old = last.by_id
        sources = _sources(by_id[key] for key in by_id.keys() - old.keys())
        sources |= _sources(old[key] for key in old.keys() - by_id.keys())
        if sources:
            out = dict(out)
            made: dict[str, list[IREdge]] = {s: [] for s in sources if s in out}
            for edge in edges:
                if edge.source in made:
                    made[edge.source].append(edge)
            out.update(made)
    nodes = ir.nodes
    changed = list(compress(last.names, map(is_not, nodes.values(), last.nodes.values())))
    dependents, deps_of, delivers = last.dependents, last.deps_of, last.delivers
    moved = {}  # the nodes that read other nodes than before: what they read before
    for name in changed:
        deps = tuple(nodes[name].deps)
        if deps != last.deps_of[name]:
            moved[name] = last.deps_of[name]
    if moved:
        deps_of = dict(deps_of)
        for name in moved:
            deps_of[name] = tuple(nodes[name].deps)
        touched = {dep for name, before in moved.items() for dep in (*before, *deps_of[name])}
        dependents = dict(dependents)
        for dep in touched:
            kept = [c for c in last.dependents[dep] if c not in moved]
            added = [c for c in moved for read in deps_of[c] if read == dep]
            if added:
                kept += added
                kept.sort(key=last.position.__getitem__)  # (stable: the nodes' order)
            dependents[dep] = kept
        delivers = dict(delivers)
        for dep in touched:
            delivers[dep] = _deliveries(dep, dependents, deps_of, last.return_of_dep)
    entries = last.entries
    reading = last.reading
    if changed and (reading or any(nodes[name].error_reads for name in changed)):
        reading = frozenset(name for name in reading.union(changed) if nodes[name].error_reads)
    if changed:
        starts = set(entries).difference(changed)
        starts.update(name for name in changed if nodes[name].entry)
        entries = tuple(sorted(starts, key=last.position.__getitem__))
    return Tables(
        out,
        dependents,
        deps_of,
        last.return_deps,
        last.return_of_dep,
        delivers,
        entries,
        dict(nodes),
        edges,
        by_id,
        last.names,
        last.position,
        reading,
        reading_edges,
    )


def _sources(edges: Iterable[IREdge]) -> set[str]:
    """The sources of `edges`."""
    return {e.source for e in edges}
