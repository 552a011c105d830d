"""Static analyses of an agent's IR, each with its own diagnostic code.

- `check_cycles`: every cycle passes through a loop edge (E0401); a bound on an edge
  that closes no cycle is useless (W0402).
- `check_races`: what an edge reads is ordered before it (E0403).
- `check_returns`: an agent without a return (E0407). Which nodes and returns the runs
  reach is decided by exploring them (paths.py: W0404, E0407).
- `check_unused`: outputs nobody reads (W0405).
- `worst_case_firings` / `cost_table`: the most firings of each node in any run, and
  the model calls and output tokens they cost (`rolegraph check --cost`).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx

from . import ast, codes
from .diagnostics import Diagnostic, diagnostic
from .ir import AgentIR, IREdge


def _diag(
    ir: AgentIR, code: str, message: str, span, label: str = "", hints=(), notes=(), labels=()
) -> Diagnostic:
    return diagnostic(
        code,
        message,
        file=ir.filename,
        span=span,
        label=label,
        hints=hints,
        notes=notes,
        labels=labels,
    )


def acyclic_graph(ir: AgentIR) -> nx.DiGraph:
    """The graph without its loop edges: data edges and unbounded control edges."""
    graph = nx.DiGraph()
    graph.add_nodes_from(ir.nodes)
    for edge in ir.edges:
        if edge.kind in ("data", "control") and not edge.loop and edge.target in ir.nodes:
            graph.add_edge(edge.source, edge.target)
    return graph


def analyse(ir: AgentIR) -> list[Diagnostic]:
    diagnostics = check_cycles(ir)
    if any(d.code == codes.UNBOUNDED_CYCLE for d in diagnostics):
        return diagnostics  # the other analyses assume a bounded graph
    diagnostics += check_races(ir)
    diagnostics += check_returns(ir)
    diagnostics += check_unused(ir)
    return diagnostics


def check_cycles(ir: AgentIR) -> list[Diagnostic]:
    graph = acyclic_graph(ir)
    found: list[Diagnostic] = []
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        path = [u for u, _ in cycle] + [cycle[0][0]]
        closing = next(
            (
                e
                for e in ir.edges
                if e.kind == "control"
                and not e.loop
                and (e.source, e.target) in {(u, v) for u, v in cycle}
            ),
            None,
        )
        span = closing.span if closing else ir.nodes[path[0]].span
        hint = (
            "bound it: add `max N` to this edge"
            if closing
            else "a node cannot consume its own output; route it back with a bounded edge"
        )
        found.append(
            _diag(
                ir,
                codes.UNBOUNDED_CYCLE,
                f"unbounded cycle: {' -> '.join(path)}",
                span,
                "this edge closes the cycle" if closing else "in this cycle",
                hints=(hint,),
            )
        )
        return found
    for edge in ir.edges:
        if (
            edge.loop
            and edge.target in ir.nodes
            and not (edge.source == edge.target or nx.has_path(graph, edge.target, edge.source))
        ):
            found.append(
                _diag(
                    ir,
                    codes.USELESS_BOUND,
                    f"`max {edge.max}` on an edge that closes no cycle",
                    edge.span,
                    "no cycle through this edge",
                    hints=(
                        "remove the bound: the edge is taken at most once per firing of its source",
                    ),
                )
            )
    return found


def _node_refs(ir: AgentIR, expr) -> set[str]:
    if expr is None:
        return set()
    return {r.head for r in expr.find_all(ast.Ref) if r.head in ir.nodes}


def check_races(ir: AgentIR) -> list[Diagnostic]:
    graph = acyclic_graph(ir)
    found: list[Diagnostic] = []
    for edge in ir.control_edges:
        if edge.source not in ir.nodes:
            continue
        ordered = nx.ancestors(graph, edge.source) | {edge.source}
        reads: list[tuple[str, str]] = []  # (node read, what reads it)
        reads += [(n, "the guard") for n in _node_refs(ir, edge.guard)]
        reads += [(n, "the returned value") for n in _node_refs(ir, edge.value)]
        for port, expr in edge.ports.items():
            reads += [(n, f"port `{port}`") for n in _node_refs(ir, expr)]
        if edge.kind == "control" and edge.target in ir.nodes:
            target = ir.nodes[edge.target]
            for param, expr in target.args.items():
                if param in edge.ports:
                    continue
                refs = _node_refs(ir, expr) - {target.map_var}
                reads += [(n, f"argument `{param}` of `{edge.target}`") for n in refs]
            if target.map_source is not None:
                reads += [
                    (n, f"the map of `{edge.target}`") for n in _node_refs(ir, target.map_source)
                ]
        for node, reader in reads:
            if node not in ordered:
                found.append(
                    _diag(
                        ir,
                        codes.RACE,
                        f"race: {reader} reads `{node}`, "
                        f"which is not ordered before `{edge.source}`",
                        edge.span,
                        "this edge",
                        hints=(
                            f"bind the value on the edge, or make `{edge.source}` depend on "
                            f"`{node}`",
                        ),
                    )
                )
    return found


def check_returns(ir: AgentIR) -> list[Diagnostic]:
    """An agent needs a return. (Which nodes and returns runs reach: see paths.py.)"""
    if ir.returns_ or any(e.kind == "return" for e in ir.edges):
        return []
    return [
        _diag(
            ir,
            codes.NO_RETURN,
            f"agent `{ir.name}` has no `return`",
            ir.span,
            "no return in this agent",
            hints=("add `return NODE`, or an edge `NODE -> return(VALUE)`",),
        )
    ]


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
            if isinstance(atom, ast.LtlFired):
                read.add(atom.node)
            elif isinstance(atom, ast.LtlHolds):
                read.update(_node_refs(ir, atom.expr))
    return [
        _diag(
            ir,
            codes.UNUSED_OUTPUT,
            f"the output of `{name}` is never used",
            node.span,
            "never read",
            hints=("read it, return it, or remove the node",),
        )
        for name, node in ir.nodes.items()
        if name not in read
    ]


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
        rows.append(CostRow(name, node.callee, node.model, firings[name], calls, tokens))
    return rows
