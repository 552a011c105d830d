"""The plan: what a run derives from an agent's IR alone — edge tables, reachability,
joins, and every expression compiled once (guards, ports, returned values, arguments,
map sources, the conditions constraints name) — built once per IR and kept here, on the
runtime's side: the IR (compiler/ir.py) stays the compiler's data.

    plan = plan_of(ir)     # the same object for every run of `ir`

The cache holds one plan per live IR; an IR's plan goes when the IR does (a weak
reference's finalizer removes it, before the IR's identity can be reused).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.dataflow import plain_heads, read_calls, reads_name
from rolegraph.compiler.ir import RETURN, AgentIR, IREdge
from rolegraph.compiler.ltl import proposition
from rolegraph.compiler.reach import Reachability, predecessor_table

from .expressions import Evaluator, compile_expression, holds, references
from .keys import firing_key
from .values import as_is, coercer, result_coercer

# a Python tool's parameter: its name, the type of the values it takes as they are
# (`values.as_is`), and the coercer of the others
Coercion = tuple[str, type, Callable[[Any], Any]]


@dataclass(frozen=True, slots=True)
class CompiledEdge:
    """An explicit edge's expressions, compiled: its guard (a `when` edge's), the values
    it binds to the target's ports, and the value it returns (a return edge's)."""

    guard: Evaluator | None
    ports: tuple[tuple[str, Evaluator], ...]
    value: Evaluator | None

    def holds(self, env: Mapping[str, Any]) -> bool:
        """Whether the guard is true on `env` (asked of `when` edges only)."""
        return self.guard is not None and bool(self.guard(env))


# per node, per parameter: (name, its argument compiled, or None: the default, the
# default, and whether the argument reads a map's item, so is evaluated per item)
Argument = tuple[str, Evaluator | None, Any, bool]


@dataclass
class Plan:
    """What a run derives from the IR alone, computed once per IR."""

    out_edges: dict[str, list[IREdge]]  # the explicit edges out of each node
    reach: Reachability  # which node can lead to which (a node leads to itself)
    # the nodes each node's explicit edges read, but itself (what it just made or failed
    # with is given to them: runtime/scheduler.py `edge_env`)
    edge_reads: dict[str, frozenset[str]]
    # what a node's route waits for (runtime/scheduler.py `_take_routes`): the nodes its
    # edges read, and itself when one of its edges is bounded (a `max` is spent by its
    # firings in key order, as the explorer spends it: logical time first)
    route_reads: dict[str, frozenset[str]]
    # per set of `route_reads`, the nodes that lead to a node of it (itself included), when
    # they are no more than `FEEDERS`: the only ones whose firings in flight a route that
    # reads it may wait for (runtime/scheduler.py `_blocker`); None when more (a route
    # then looks at every node in flight: listing them all is quadratic in a long chain)
    feeders: dict[frozenset[str], frozenset[str] | None]
    # the nodes each node's explicit edges start (what a firing's route may make: a join
    # or a read waits for a route still to be taken only through these, runtime/scheduler.py
    # `_routing_to`; its own output is already queued)
    edge_targets: dict[str, frozenset[str]]
    consumers: dict[str, list[str]]  # the joins each node's outputs go to
    # the nodes that may fire twice at one logical time: those two sources start (two
    # edges, or an edge and a join), and what those lead to (a join of such a node, or an
    # edge from it, fires twice at one time too). A join orders their outputs of one time
    # by key (runtime/scheduler.py `join`, `AgentRun.flying`); the others fire once a time.
    twice: frozenset[str]
    # whether a node may fire more than once in a run: one fires twice at one time
    # (`twice`), or the graph has a loop. Where none does, every queue of a join holds one
    # output at most, and the order in which `settle` makes the joins does not matter
    # (runtime/scheduler.py `_join_order`)
    repeats: bool
    # the consumers (nodes and return statements) that join one node, all of whose
    # consumers join it alone, which join as its output comes (runtime/scheduler.py
    # `_succeeded`, when nothing else waits for `settle`) rather than at the next
    # `settle`: where no node fires more than once (not `repeats`), each joins once and
    # the order of the joins pairs nothing differently; none where a node may repeat
    # (`settle` then makes the joins in the time of the firings they make, `_join_order`)
    handed: frozenset[str]
    reads: dict[str, frozenset[str]]  # the nodes each node's arguments read
    # per node: its `latest(x)` / `history(x)` reads, as (function, x)
    node_reads: dict[str, tuple[tuple[str, str], ...]]
    arguments: dict[str, list[Argument]]
    entries: list[tuple[str, tuple]]  # the nodes that fire at start and their keys
    joins: list[tuple[str, tuple[str, ...]]]  # each consumer and the nodes it joins
    # per tool node: how its arguments (each: its name, the type of the values it takes
    # as they are, `values.as_is`, and its coercer) and its result are coerced to their
    # types, and the type of the results taken as they are
    tool_types: dict[str, tuple[list[Coercion], Callable[[Any], Any], type]]
    edges: dict[int, CompiledEdge]  # each explicit edge's expressions, by its index
    returns: list[Evaluator]  # each return statement's value
    map_sources: dict[str, Evaluator]  # the list each mapped node maps over
    # the output conditions the constraints name: (proposition, test, the names it reads)
    conditions: list[tuple[str, Callable[[Mapping[str, Any]], bool], set[str]]]
    # per node: whether a firing that joins reads latest outputs as well (`node_reads`,
    # or `reads` beyond what it joins), and whether a firing makes one call (no `x N`,
    # no map)
    reading: dict[str, bool]
    single: dict[str, bool]
    # per tool node that calls a Python function once and reads nothing it may wait for:
    # the function's target and folder. Such a firing needs no task of its own when the
    # function is `@nonblocking` (runtime/tools.py): the scheduler calls it inline.
    python_tools: dict[str, tuple[str, str]]
    # the nodes whose firings may run in the task of the firing that started them, once
    # it has ended (runtime/scheduler.py `fire`): tool and role nodes that read nothing
    # they may wait for (a human step parks; a called agent runs its own firings)
    carriable: frozenset[str]
    # per node, its parameters' names: a firing whose edge binds them all evaluates no
    # argument (runtime/scheduler.py `fire_inline`)
    parameters: dict[str, frozenset[str]]
    # the consumers that join more than one node, with them; and per consumer, how many
    # nodes it joins (a run's queues and their count of empty ones start from these:
    # `AgentRun`; a consumer of one node has its queue made when it is first needed)
    wide_joins: list[tuple[str, tuple[str, ...]]]
    join_sizes: dict[str, int]
    # per node, its name as `repr` writes it (a firing's label: runtime/keys.py `label`)
    quoted: dict[str, str]
    # per node, what its firing's success leads to (runtime/scheduler.py `_succeeded`):
    # the joins its output is queued for (`consumers`), what its route waits for
    # (`route_reads`; None: no explicit edge leaves it), and whether its outputs are kept
    # for later reads (`kept`)
    ending: dict[str, tuple[list[str], frozenset[str] | None, bool]]
    # the nodes whose outputs a run reads as latest outputs or history (`AgentRun.outputs`):
    # those an edge's guard, port or returned value names (`edge_reads`), those `latest` or
    # `history` names (`node_reads`), and those a firing's arguments read but do not join
    # (`reads`, less its dependencies: a firing started by an edge, or at the start, joins
    # nothing, so all of them). The others are never read back: not kept.
    kept: frozenset[str]
    # filled by runs (runtime/scheduler.py `AgentRun.python_call`): per working directory
    # (and count of `@nonblocking` marks), each Python tool node's call, as a run whose
    # context was given no tools finds it, and whether each node runs inline
    calls: dict[tuple[str, int], tuple[dict[str, Any], dict[str, bool]]] = field(
        default_factory=dict
    )


_PLANS: dict[int, Plan] = {}


def plan_of(ir: AgentIR) -> Plan:
    """The plan of `ir`, derived at its first run."""
    plan = _PLANS.get(id(ir))
    if plan is None:
        plan = _PLANS[id(ir)] = derive(ir)
        weakref.finalize(ir, _PLANS.pop, id(ir), None)
    return plan


# the most nodes `Plan.feeders` lists as leading to what a route reads
FEEDERS = 32


def _leading_to_at_most(
    predecessors: Mapping[str, list[str]], targets: frozenset[str], limit: int
) -> frozenset[str] | None:
    """`targets` and every node that leads to one of them (one pass backwards), or None
    once they are more than `limit` (the pass stops there: `Plan.feeders`)."""
    seen = set(targets)
    todo = list(targets)
    while todo:
        for node in predecessors[todo.pop()]:
            if node not in seen:
                seen.add(node)
                if len(seen) > limit:
                    return None
                todo.append(node)
    return frozenset(seen) if len(seen) <= limit else None


def _twice(
    ir: AgentIR, out_edges: dict[str, list[IREdge]], successors: dict[str, set[str]]
) -> frozenset[str]:
    """`Plan.twice`: the nodes that two sources start (a join, and each explicit edge into
    it), and every node they lead to."""
    sources = {name: 1 if node.deps else 0 for name, node in ir.nodes.items()}
    for edges in out_edges.values():
        for edge in edges:
            if edge.target in sources:
                sources[edge.target] += 1
    found: set[str] = set()
    todo = [name for name, count in sources.items() if count > 1]
    while todo:
        name = todo.pop()
        if name not in found and name in ir.nodes:
            found.add(name)
            todo.extend(successors[name])
    return frozenset(found)


def _looped(rank: dict[str, int], successors: dict[str, set[str]]) -> bool:
    """Whether the graph has a cycle: two nodes of one rank (one strongly connected
    component), or an edge from a node to itself."""
    return len(set(rank.values())) < len(rank) or any(
        name in targets for name, targets in successors.items()
    )


def derive(ir: AgentIR) -> Plan:
    out_edges: dict[str, list[IREdge]] = {name: [] for name in ir.nodes}
    for edge in ir.edges:
        if edge.kind != "data" and edge.source in out_edges:
            out_edges[edge.source].append(edge)
    successors: dict[str, set[str]] = {name: set() for name in [*ir.nodes, RETURN]}
    for edge in ir.edges:
        if edge.source in ir.nodes:
            successors[edge.source].add(edge.target)
    for ret in ir.returns_:
        for dep in ret.deps:
            successors[dep].add(RETURN)
    reach = Reachability(successors)
    reach.ancestors(RETURN)  # asked of every firing in flight when a return is offered
    edge_reads = {
        name: frozenset(
            head
            for edge in edges
            for expr in (edge.guard, edge.value, *edge.ports.values())
            for head in references(expr)
            if head in ir.nodes and head != name
        )
        for name, edges in out_edges.items()
    }
    route_reads = {
        name: reads | {name} if any(edge.max is not None for edge in out_edges[name]) else reads
        for name, reads in edge_reads.items()
    }
    predecessors = predecessor_table(reach.successors)
    feeders = {
        reads: _leading_to_at_most(predecessors, reads, FEEDERS)
        for reads in set(route_reads.values())
        if reads
    }
    edge_targets = {
        name: frozenset(edge.target for edge in edges if edge.target in ir.nodes)
        for name, edges in out_edges.items()
    }
    consumers: dict[str, list[str]] = {name: [] for name in ir.nodes}
    for name, node in ir.nodes.items():
        for dep in node.deps:
            consumers[dep].append(name)
    for index, ret in enumerate(ir.returns_):
        for dep in ret.deps:
            consumers[dep].append(f"{RETURN}{index}")
    # (by name, as `settle` joins them, so that the joins made as an output comes,
    # `handed`, are made in its order: a return, whose name sorts first, is offered
    # before the nodes that read the same output start, which it may leave out)
    for listed in consumers.values():
        listed.sort()
    twice = _twice(ir, out_edges, successors)
    repeats = bool(twice) or _looped(reach.rank, successors)
    reads: dict[str, frozenset[str]] = {}
    node_reads: dict[str, tuple[tuple[str, str], ...]] = {}
    arguments: dict[str, list[Argument]] = {}
    node_names = set(ir.nodes)
    for name, node in ir.nodes.items():
        found: set[str] = set()
        calls: dict[tuple[str, str], None] = {}
        for expr in [*node.args.values(), node.map_source]:
            if expr is not None:
                calls.update(dict.fromkeys(read_calls(expr)))
                found |= plain_heads(expr)
        node_reads[name] = tuple(calls)
        reads[name] = frozenset(found & node_names)
        arguments[name] = [
            (
                param,
                compile_expression(node.args[param]) if param in node.args else None,
                default,
                param in node.args
                and node.map_var is not None
                and reads_name(node.args[param], node.map_var),
            )
            for param, _, default in node.params
        ]
    tool_types = {
        name: (
            [(param, as_is(t), coercer(t)) for param, t, *_ in node.params],
            result_coercer(node.result),
            as_is(node.result),
        )
        for name, node in ir.nodes.items()
        if node.kind == "tool"
    }
    entries = [
        (name, firing_key(1, name, "entry")) for name in sorted(ir.nodes) if ir.nodes[name].entry
    ]
    joins = [(name, node.deps) for name, node in ir.nodes.items()]
    joins += [(f"{RETURN}{index}", tuple(ret.deps)) for index, ret in enumerate(ir.returns_)]
    edges = {
        edge.index: CompiledEdge(
            compile_expression(edge.guard) if edge.guard is not None else None,
            tuple((port, compile_expression(expr)) for port, expr in edge.ports.items()),
            compile_expression(edge.value) if edge.value is not None else None,
        )
        for edges in out_edges.values()
        for edge in edges
    }
    conditions = [
        (proposition(atom), holds(atom.expr), references(atom.expr))
        for c in ir.constraints
        for atom in c.formula.walk()
        if isinstance(atom, ast.LtlHolds)
    ]
    reading = {
        name: bool(node_reads[name] or reads[name] - set(node.deps))
        for name, node in ir.nodes.items()
    }
    single = {name: not node.replicate and node.map_var is None for name, node in ir.nodes.items()}
    python_tools = {
        name: (node.target or "", node.target_folder)
        for name, node in ir.nodes.items()
        if node.kind == "tool" and node.server is None and single[name] and not reading[name]
    }
    # started without a join (at the start, or by an edge): they read all their `reads`
    unjoined = {name for name, node in ir.nodes.items() if node.entry}
    unjoined.update(edge.target for edges in out_edges.values() for edge in edges)
    kept = frozenset(
        head
        for name, node in ir.nodes.items()
        for head in (
            *edge_reads[name],
            *(read for _, read in node_reads[name]),
            *(reads[name] if name in unjoined else reads[name] - set(node.deps)),
        )
    )
    carriable = frozenset(
        name
        for name, node in ir.nodes.items()
        if node.kind in ("tool", "role") and not reading[name]
    )
    width = {consumer: len(deps) for consumer, deps in joins}
    return Plan(
        out_edges,
        reach,
        edge_reads,
        route_reads,
        feeders,
        edge_targets,
        consumers,
        twice,
        repeats,
        frozenset()
        if repeats
        else frozenset(
            # (of a node all of whose consumers join it alone: a consumer of two nodes
            # that its output completes joins at `settle`, so the others wait for it)
            consumer
            for consumer, deps in joins
            if len(deps) == 1 and all(width[other] == 1 for other in consumers[deps[0]])
        ),
        reads,
        node_reads,
        arguments,
        entries,
        joins,
        tool_types,
        edges,
        [compile_expression(ret.value) for ret in ir.returns_],
        {
            name: compile_expression(node.map_source)
            for name, node in ir.nodes.items()
            if node.map_source is not None
        },
        conditions,
        reading,
        single,
        python_tools,
        carriable,
        {name: frozenset(param for param, *_ in arguments[name]) for name in ir.nodes},
        [(consumer, deps) for consumer, deps in joins if len(deps) != 1],
        {consumer: len(set(deps)) for consumer, deps in joins},
        {name: repr(name) for name in ir.nodes},
        {
            name: (consumers[name], route_reads[name] if out_edges[name] else None, name in kept)
            for name in ir.nodes
        },
        kept,
    )
