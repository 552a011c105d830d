"""Lowering: a checked agent becomes its IR (compiler/ir.py).

Patterns are expanded here: a node that calls an agent gets that agent's IR as its
`subgraph`, built for the call's `Instance`: compile-time role parameters bound to the
roles passed, and compile-time constants replaced by their values.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from itertools import compress, repeat
from operator import is_, is_not
from typing import Any, Literal, NamedTuple

from . import ast
from .dataflow import DEFINED, WHOLE, error_reads, joined_heads
from .identity import IdentityTable
from .ir import (
    DEFAULT_TOOL_STEPS,
    GUARD,
    RETURN,
    AgentIR,
    ErrorRead,
    IRConstraint,
    IREdge,
    IRNode,
    IRReturn,
    ToolSpec,
)
from .mcp_servers import McpServer, read_server
from .pyimport import folder_of
from .resolve import ModuleInfo, Symbol
from .typecheck import AgentInfo, CheckResult, NodeInfo
from .types import NONE, assignable


@dataclass(frozen=True)
class Instance:
    """How a pattern is instantiated: compile-time role parameters bound to roles (by
    qualified name) and compile-time constants bound to values."""

    roles: dict[str, str] = field(default_factory=dict)
    constants: dict[str, ast.Node] = field(default_factory=dict)

    def bound(self, value: int | str | None) -> int | None:
        """A bound: a number, or the value of the compile-time constant it names (the
        checker made sure it is a positive int; 1 stands in after an error)."""
        if value is None or isinstance(value, int):
            return value
        number = ast.constant_value(self.constants.get(value))
        return number if isinstance(number, int) and not isinstance(number, bool) else 1

    def substitute(self, expr: Any) -> Any:
        """`expr` with every reference to a compile-time constant replaced by its value."""
        if expr is None or not self.constants:
            return expr

        def replace(_: ast.Node, node: ast.Node) -> ast.Node | None:
            if isinstance(node, ast.Ref) and len(node.parts) == 1:
                return self.constants.get(node.head)
            return None

        return expr.transform(replace)


def build_ir(
    result: CheckResult,
    agent: AgentInfo,
    instance: Instance | None = None,
    stack: tuple[str, ...] = (),
    *,
    runtime: bool = True,
) -> AgentIR:
    """The IR of a checked agent, for one instantiation of its compile-time parameters.

    `runtime=False` leaves out what only a run and the cost table need (prompts, models
    and their parameters, token bounds, tools): an IR for the analyses alone, as the
    editor's fast check builds it."""
    if instance is None:  # a pattern run as it is: its parameters take their defaults
        instance = _with_defaults(result, agent, {}, {}) if agent.ct_params else Instance()
    if not runtime and not stack and _plain(instance):
        return _analysis_ir(result, agent)
    nodes: dict[str, IRNode] = {}
    edges: list[IREdge] = []
    decl = agent.decl
    node_names = set(agent.nodes)
    edge_decls = decl.edges
    incoming_control = _incoming_control(edge_decls)
    for name, info in agent.nodes.items():
        ir_node = _node(result, agent, info, node_names, instance, stack, incoming_control, runtime)
        nodes[name] = ir_node
        for dep in ir_node.deps:
            edges.append(_data_edge(dep, name, info.decl, remember=not runtime))
    edges += [
        _control_edge(edge_decl, index, instance) for index, edge_decl in enumerate(edge_decls)
    ]
    returns = [
        IRReturn(
            value=instance.substitute(statement.value),
            deps=_refs(statement.value, node_names),
            span=statement.span,
            error_reads=_error_reads([(RETURN, statement.value)]),
        )
        for statement in decl.returns_
    ]
    constraints = [
        IRConstraint(mode=c.mode, formula=c.formula, span=c.span) for c in decl.constraints
    ]
    return AgentIR(
        **_agent_fields(agent), nodes=nodes, edges=edges, returns_=returns, constraints=constraints
    )


def _agent_fields(agent: AgentInfo) -> dict[str, Any]:
    """An agent's IR fields but its nodes, edges, returns and constraints."""
    decl = agent.decl
    return {
        "name": agent.symbol.qualified,
        "params": {k: str(v) for k, v in agent.params.items()},
        "returns": str(agent.returns),
        "filename": agent.symbol.module.filename,
        "span": decl.span,
        "param_types": dict(agent.params),
        "param_defaults": {
            p.name: ast.constant_value(p.default) for p in decl.params if p.default is not None
        },
        "return_type": agent.returns,
    }


def _incoming_control(edge_decls: tuple[ast.EdgeDecl, ...]) -> set[str]:
    """The nodes an edge that is not a loop's comes into: they do not start the run."""
    return {
        e.target.node  # type: ignore[union-attr]
        for e in edge_decls
        if e.max is None and (type(e.target) is _NODE_TARGET or isinstance(e.target, _NODE_TARGET))
    }


def _control_edge(edge_decl: ast.EdgeDecl, index: int, instance: Instance) -> IREdge:
    """The control or return edge the `index`th edge statement makes."""
    condition, guard = _condition(edge_decl.condition)
    guard = instance.substitute(guard)
    if isinstance(edge_decl.target, ast.ReturnTarget):
        return IREdge(
            kind="return",
            source=edge_decl.source,
            target=RETURN,
            index=index,
            condition=condition,
            guard=guard,
            max=instance.bound(edge_decl.max),
            value=instance.substitute(edge_decl.target.value),
            span=edge_decl.span,
            error_reads=_error_reads([(GUARD, guard), (RETURN, edge_decl.target.value)]),
        )
    ports = {p.name: instance.substitute(p.value) for p in edge_decl.target.ports if p.name}
    return IREdge(
        kind="control",
        source=edge_decl.source,
        target=edge_decl.target.node,
        index=index,
        condition=condition,
        guard=guard,
        max=instance.bound(edge_decl.max),
        ports=ports,
        span=edge_decl.span,
        error_reads=_error_reads([(GUARD, guard), *ports.items()]),
    )


@dataclass(eq=False)
class _Lowered:
    """An agent's analyses' IR as last built, with what each of its parts was made of: the
    next check of an edit of the agent (an editor's next candidate) shares all but a few
    statements with it. Everything compared is held here, so an identity compared is
    never one reused by another object."""

    order: list[str]  # the node names, in order (what the nodes' deps were filtered by)
    incoming: set[str]  # `_incoming_control`: the nodes that do not start the run
    # name → (statement, callee's signature, callee's declaration, callee's kind and name,
    # IR node, its incoming data edges): what `_analysis_key` names, and what it made
    nodes: dict[str, tuple[Any, ...]]
    edge_decls: tuple[ast.EdgeDecl, ...]
    edges: list[IREdge]  # what each of `edge_decls` made, by index
    returns: list[tuple[ast.ReturnStmt, IRReturn]]
    constraints: list[tuple[ast.Constraint, IRConstraint]]
    ir: AgentIR  # the IR built
    data: list[IREdge]  # its data edges, in order
    # the type checker's node infos it was made from, by name (None for a node that calls
    # an agent: made again each time, its IR holding its callee's)
    infos: dict[str, NodeInfo | None]
    # the agent's declaration it was made of, and those of the program it was made in
    # when the agent is its main module's and it imports nothing (else None): a later
    # program of the same ones but the agent calls the same callees from the same nodes
    # (`EdgesSince.decls`). Held weakly: the last build keeps no program alive.
    decl: weakref.ref[ast.AgentDecl]
    decls: tuple[weakref.ref[ast.Node], ...] | None
    # the node statements it was made of, in order (None for a node that calls an agent)
    statements: list[ast.NodeDecl | None]


# the last analyses' IR of each agent, by its qualified name (`_analysis_ir`)
_LOWERED: dict[str, _Lowered] = {}


def _analysis_ir(result: CheckResult, agent: AgentInfo) -> AgentIR:
    """`build_ir(result, agent, runtime=False)` for an agent of no pattern instance, made
    from the last one built for the agent of this name (`_LOWERED`) where the parts are
    the same: a node whose statement, callee (signature, declaration, kind and name) and
    whether a control edge comes in are those of the last build, among the same node
    names in the same order, is the last build's IR node with its data edges; an edge
    statement at the same index makes the same edge; a return or constraint statement,
    among the same node names, the same. The rest is made as `build_ir` makes it (from
    the memos keyed by what makes each part). Among the same node names only the nodes
    whose info is not the last build's are compared (`_other_infos`)."""
    decl = agent.decl
    qualified = agent.symbol.qualified
    edge_list, return_list, constraint_list = _statements(decl.body)
    edge_decls = tuple(edge_list)
    order = list(agent.nodes)
    incoming = _incoming_control(edge_decls)
    last = _LOWERED.get(qualified)
    same_names = last is not None and last.order == order
    known = last.nodes if last is not None and same_names else {}
    flipped = incoming ^ last.incoming if last is not None and same_names else incoming
    node_names = set(order)
    # (among the same node names, the last build's, each node made again replaced)
    nodes: dict[str, IRNode] = dict(last.ir.nodes) if last is not None and same_names else {}
    made: dict[str, tuple[Any, ...]] = dict(known)
    # what differs from the last build (among the same node names): the nodes made again,
    # the edges of the last build not in this one, and those of this one not in it
    changed: list[str] = []
    removed: list[IREdge] = []
    added: list[IREdge] = []
    infos = agent.nodes
    kept_infos: dict[str, NodeInfo | None] = dict(infos)
    visited = order  # (other node names, or none built: every node compared)
    if last is not None and same_names:
        visited = _other_infos(infos, last.infos, flipped, order)
    for name in visited:
        info = infos[name]
        statement, callee = info.decl, info.callee
        symbol = callee.symbol
        callee_decl = symbol.decl if symbol is not None else None
        old = known.get(name)
        if (
            old is not None
            and old[0] is statement
            and old[1] is callee.signature
            and old[2] is callee_decl
            and old[3] == callee.kind
            and old[4] == callee.name
            and name not in flipped
        ):
            continue
        if callee.kind == "agent":  # (its IR holds its callee's, which is not compared here)
            ir_node = _node(result, agent, info, node_names, Instance(), (), incoming, False)
            data = tuple(_data_edge(dep, name, statement, remember=True) for dep in ir_node.deps)
            made[name] = (None, None, None, None, None, ir_node, data)  # (never the same)
            kept_infos[name] = None
        else:
            key = _analysis_key(info, node_names, incoming)
            found = _ANALYSIS.get(key)
            if found is not None:
                ir_node, data = found
            else:
                ir_node, data = _analysis_node(result, agent, info, node_names, incoming, key)
            made[name] = (statement, callee.signature, callee_decl, callee.kind, callee.name)
            made[name] += (ir_node, data)
        nodes[name] = ir_node
        changed.append(name)
        if old is not None:
            removed += old[6]
            added += data
    if last is not None and same_names and not changed:
        edges = list(last.data)
    else:
        edges = [edge for entry in made.values() for edge in entry[6]]
    data_edges = list(edges)
    control = _control_edges(edge_decls, last, removed, added)
    edges += control
    old_returns = dict(map(_by_identity, last.returns)) if last is not None and same_names else {}
    returns = [(r, old_returns.get(id(r)) or _return(r, node_names)) for r in return_list]
    old_constraints = dict(map(_by_identity, last.constraints)) if last is not None else {}
    constraints = [(c, old_constraints.get(id(c)) or _constraint(c)) for c in constraint_list]
    # (made of checked parts as `build_ir` makes them: not validated again)
    ir = AgentIR.trusted(
        **_agent_fields(agent),
        nodes=nodes,
        edges=edges,
        returns_=[r for _, r in returns],
        constraints=[c for _, c in constraints],
    )
    ir.known_control_edges(control)
    if last is not None and same_names:
        ir.made_from(last.ir, changed, removed, added)
    if len(_LOWERED) >= 256 and qualified not in _LOWERED:
        _LOWERED.clear()
    _LOWERED[qualified] = _Lowered(
        order,
        incoming,
        made,
        edge_decls,
        control,
        returns,
        constraints,
        ir,
        data_edges,
        kept_infos,
        weakref.ref(decl),
        _only_module(result, agent),
        last.statements
        if last is not None and same_names and not changed
        else [made[name][0] for name in order],
    )
    return ir


def _control_edges(
    edge_decls: tuple[ast.EdgeDecl, ...],
    last: _Lowered | None,
    removed: list[IREdge],
    added: list[IREdge],
) -> list[IREdge]:
    """The control and return edges `edge_decls` make (an edge statement at the same index
    as in the last build makes the same edge); those of the last build they do not make
    put in `removed`, the new ones in `added`."""
    control: list[IREdge] = []
    old_decls = last.edge_decls if last is not None else ()
    for index, edge_decl in enumerate(edge_decls):
        if index < len(old_decls) and old_decls[index] is edge_decl:
            assert last is not None
            control.append(last.edges[index])
            continue
        edge = _EDGES.get((id(edge_decl), index))  # type: ignore[assignment]
        if edge is None:
            edge = _EDGES.keep(
                (id(edge_decl), index), _control_edge(edge_decl, index, Instance()), edge_decl
            )
        control.append(edge)
        added.append(edge)
        if index < len(old_decls):
            assert last is not None
            removed.append(last.edges[index])
    if last is not None and len(old_decls) > len(edge_decls):
        removed += last.edges[len(edge_decls) :]
    return control


def _only_module(result: CheckResult, agent: AgentInfo) -> tuple[weakref.ref[ast.Node], ...] | None:
    main = result.program.main
    if agent.symbol.module is not main or len(result.program.modules) > 1:
        return None
    return tuple(map(weakref.ref, main.module.decls))


class EdgesSince(NamedTuple):
    """An agent's edges against the analyses' IR last built for it (`edges_since_last_build`)."""

    ir: AgentIR  # that IR
    removed: list[IREdge]  # its edges the agent's IR would not have
    added: list[IREdge]  # the edges the agent's IR would have that it has not
    control: list[IREdge]  # the agent's IR's control and return edges, in order
    # the declarations of the program it was made in, weakly (`_Lowered.decls`)
    decls: tuple[weakref.ref[ast.Node], ...] | None


def edges_since_last_build(decl: ast.AgentDecl, qualified: str) -> EdgesSince | None:
    """The analyses' IR last built for the agent `qualified` (`_analysis_ir`), and the
    edges the IR of `decl` would have that it has not, and those it has that `decl`'s
    would not (`EdgesSince`), when `decl`'s nodes are the statements that IR was made
    of, in the same order, none calling an agent. Then, if `decl` type-checks,
    the graph its IR's analyses see is that IR's with those edges changed, whatever else
    changed (a node's data edges are made of its statement and the node names alone;
    an edge's, of its statement and index). None otherwise, and for the very statements
    of that build (nothing to tell)."""
    last = _LOWERED.get(qualified)
    if last is None or last.decl() is decl:
        return None
    body = decl.body  # (its nodes picked in C: most edits an editor checks change no edge)
    nodes = list(compress(body, map(is_, map(type, body), repeat(_NODE_DECL))))
    made = last.statements
    if len(nodes) != len(made) or not all(map(is_, nodes, made)):
        return None
    removed: list[IREdge] = []
    added: list[IREdge] = []
    control = _control_edges(tuple(_statements(body)[0]), last, removed, added)
    return EdgesSince(last.ir, removed, added, control, last.decls)


def _other_infos(
    infos: dict[str, NodeInfo],
    last: dict[str, NodeInfo | None],
    flipped: set[str],
    order: list[str],
) -> list[str]:
    """Among the same node names as the last build's, in order, those whose node info is
    not the one the last build was made from (the type checker shares the infos of the
    nodes an edit keeps) or that a control edge now comes into or no longer does: the
    others are made as they were (their statement and callee are the info's; a node that
    calls an agent is never one: its last info is None). Compared in C: an edit of one
    statement visits one node, not the agent's."""
    other = list(compress(infos, map(is_not, map(last.get, infos), infos.values())))
    if flipped:
        other = sorted(flipped.union(other), key=order.index)
    return other


def _return(statement: ast.ReturnStmt, node_names: set[str]) -> IRReturn:
    deps = _refs(statement.value, node_names)
    reads = _error_reads([(RETURN, statement.value)])
    return IRReturn(value=statement.value, deps=deps, span=statement.span, error_reads=reads)


def _error_reads(places: list[tuple[str | None, Any]]) -> tuple[ErrorRead, ...]:
    """The `x.error` reads of the expressions given with where each goes (a parameter,
    a port, `RETURN`, `GUARD`; None: a map's source), but those where none is defined
    (`dataflow.error_reads`; `IRNode.error_reads`)."""
    found = [
        ErrorRead(ref.head, ref.span, where if how == WHOLE or where == GUARD else None)
        for where, expr in places
        for ref, how in error_reads(expr)
        if how != DEFINED
    ]
    return tuple(found) if found else ()


def _constraint(statement: ast.Constraint) -> IRConstraint:
    return IRConstraint(mode=statement.mode, formula=statement.formula, span=statement.span)


def _by_identity(pair: tuple[Any, Any]) -> tuple[int, Any]:
    return id(pair[0]), pair[1]


_NODE_DECL, _EDGE_DECL, _NODE_TARGET = ast.NodeDecl, ast.EdgeDecl, ast.NodeTarget


def _statements(
    body: tuple[ast.Node, ...],
) -> tuple[list[ast.EdgeDecl], list[ast.ReturnStmt], list[ast.Constraint]]:
    """An agent body's edges, returns and constraints, in order: one pass."""
    edges: list[ast.EdgeDecl] = []
    returns: list[ast.ReturnStmt] = []
    constraints: list[ast.Constraint] = []
    # (most are nodes; `isinstance` of a pydantic model class is slow)
    for statement in [s for s in body if type(s) is not _NODE_DECL]:
        if type(statement) is _EDGE_DECL or isinstance(statement, ast.EdgeDecl):
            edges.append(statement)  # type: ignore[arg-type]
        elif isinstance(statement, ast.ReturnStmt):
            returns.append(statement)
        elif isinstance(statement, ast.Constraint):
            constraints.append(statement)
    return edges, returns, constraints


def _refs(expr: Any, node_names: set[str], exclude: str | None = None) -> tuple[str, ...]:
    """The nodes whose outputs `expr` reads, in order."""
    if expr is None:
        return ()
    return tuple(h for h in _read_heads(expr) if h in node_names and h != exclude)


# the nodes each (immutable) expression joins, by its identity (kept while it lives)
_HEADS: IdentityTable[int, tuple[str, ...]] = IdentityTable()


def _read_heads(expr: ast.Node) -> tuple[str, ...]:
    """The heads of the references in `expr` that make a join (compiler/dataflow.py)."""
    found = _HEADS.get(id(expr))
    if found is None:
        found = _HEADS.keep(id(expr), joined_heads(expr), expr)
    return found


def _condition(condition: ast.Node | None) -> tuple[Any, Any]:
    if isinstance(condition, ast.When):
        return "when", condition.guard
    if isinstance(condition, ast.Else):
        return "else", None
    if isinstance(condition, ast.OnError):
        return "error", None
    return "always", None


_KINDS: dict[str, Literal["role", "agent", "tool", "human", "param", "unknown"]] = {
    "role": "role",
    "agent": "agent",
    "tool": "tool",
    "human": "human",
    "param": "param",
}


def _node(
    result: CheckResult,
    agent: AgentInfo,
    info: NodeInfo,
    node_names: set[str],
    instance: Instance,
    stack: tuple[str, ...],
    incoming_control: set[str],
    runtime: bool = True,
) -> IRNode:
    decl = info.decl
    exclude = decl.map.var if decl.map else None
    found: dict[str, None] = {}  # in order of first use, each once (a merge may read thousands)
    sources = [arg.value for arg in decl.args] + ([decl.map.source] if decl.map else [])
    for expr in sources:
        for dep in _refs(expr, node_names, exclude=exclude):
            found.setdefault(dep)
    deps = list(found)
    entry = not deps and decl.name not in incoming_control and not unbound_parameters(info)
    key = _node_key(info, deps, entry) if not runtime and not stack and _plain(instance) else None
    if key is not None:
        known = _NODES.get(key)
        if known is not None:
            return known[1]
    callee, symbol = info.callee.name, info.callee.symbol
    if runtime and symbol is not None:
        # What a run reads through the callee's module (its model, its tools and their
        # servers) is this program's: a callee carried over from an earlier check
        # (check_agents `_shared`) holds the symbol of the program that first made it, whose
        # modules an imported file changed since may no longer match.
        symbol = _symbol(result, callee) or symbol
    kind = _KINDS.get(info.callee.kind, "unknown")
    if kind == "param" and callee in instance.roles:
        callee = instance.roles[callee]
        symbol = _symbol(result, callee)
        kind = _KINDS.get(symbol.kind, "unknown") if symbol is not None else "param"
    model: str | None = None
    max_tokens: int | None = None
    tool_steps = 0
    subgraph = None
    if runtime and symbol is not None and isinstance(symbol.decl, ast.RoleDecl):
        # (the model, its token bound and the tool loop's: for runs and the cost table)
        role = symbol.decl
        if role.model is not None:
            model_symbol = result.program.lookup(symbol.module, role.model.name)
            if model_symbol is not None and isinstance(model_symbol.decl, ast.ModelDecl):
                model = model_symbol.decl.provider
                params = {p.name: p.value for p in model_symbol.decl.params}
                params.update({p.name: p.value for p in role.model.params})
                tokens = params.get("max_tokens")
                if isinstance(tokens, ast.IntLit):
                    max_tokens = tokens.value
        if role.tools is not None:
            tool_steps = Instance().bound(role.tools.max_steps) or DEFAULT_TOOL_STEPS
    fields = _runtime_fields(result, symbol, info) if runtime else {}
    if symbol is not None and isinstance(symbol.decl, ast.HumanDecl) and symbol.decl.deadline:
        fields["deadline"] = float(symbol.decl.deadline.seconds)  # (the analyses read it)
    if symbol is not None and symbol.kind == "agent" and symbol.qualified not in stack:
        sub = result.agents.get(symbol.qualified)
        if sub is not None:
            subgraph = build_ir(
                result,
                sub,
                _instance(result, agent, decl, sub, instance),
                (*stack, agent.symbol.qualified),
                runtime=runtime,
            )
    # The IR is built from checked declarations: its values are trusted, not validated again.
    node = IRNode(
        name=decl.name,
        entry=entry,
        kind=kind,
        callee=callee,
        output_type=str(info.output),
        args={name: instance.substitute(expr) for name, expr in info.bound.items()},
        deps=tuple(deps),
        none_params=none_params(info),
        error_reads=_error_reads(
            [*info.bound.items(), *([(None, decl.map.source)] if decl.map else [])]
        ),
        replicate=instance.bound(decl.replicate),
        map_var=decl.map.var if decl.map else None,
        map_source=instance.substitute(decl.map.source) if decl.map else None,
        map_max=instance.bound(decl.map.max) if decl.map else None,
        model=model,
        max_tokens=max_tokens,
        tool_steps=tool_steps,
        subgraph=subgraph,
        span=decl.span,
        **fields,
    )
    if key is not None:
        # (the callee's declaration, not its symbol, whose module is held weakly; the
        # bound arguments, named by identity in the key, live as long as the entry)
        held = info.callee.symbol.decl if info.callee.symbol is not None else None
        _NODES.keep(key, (tuple(info.bound.values()), node), info.decl, held)
    return node


# The analyses' IR nodes (`runtime=False`, no pattern instance), by what makes them: an
# editor's check builds the IR of an agent that shares all but a few nodes with the
# agent it was made from. The key holds identities (of the declaration, the callee, the
# arguments): kept while the declarations live (identity.py), the arguments with the
# entry. IR nodes are frozen: one may sit in several IRs.
_NODES: IdentityTable[tuple[Any, ...], tuple[tuple[Any, ...], IRNode]] = IdentityTable()


_DATA_EDGES: IdentityTable[tuple[str, str, int], IREdge] = IdentityTable()


def _data_edge(source: str, target: str, decl: ast.NodeDecl, *, remember: bool) -> IREdge:
    """The data edge from `source` into the node `decl` declares (remembered, as
    `_NODES`, for the analyses' IRs)."""
    key = (source, target, id(decl))
    known = _DATA_EDGES.get(key) if remember else None
    if known is not None:
        return known
    edge = IREdge(kind="data", source=source, target=target, span=decl.span)
    if remember:
        _DATA_EDGES.keep(key, edge, decl)
    return edge


# The analyses' IR control and return edges, by their statement's identity and index.
_EDGES: IdentityTable[tuple[int, int], IREdge] = IdentityTable()

# The analyses' IR nodes with their incoming data edges, by what makes them: the
# statement, the callee (its kind, name, signature and declaration: the signature and
# the statement make the node's output type and bound arguments), the nodes it reads
# and whether it starts the run. Identities, kept while their objects live, as `_NODES`.
_ANALYSIS: IdentityTable[tuple[Any, ...], tuple[IRNode, tuple[IREdge, ...]]] = IdentityTable()
# the heads of the nodes a statement's arguments (and map source) read, in order, once
_ARG_HEADS: IdentityTable[int, tuple[str, ...]] = IdentityTable()


def _analysis_node(
    result: CheckResult,
    agent: AgentInfo,
    info: NodeInfo,
    node_names: set[str],
    incoming_control: set[str],
    key: tuple[Any, ...],
) -> tuple[IRNode, tuple[IREdge, ...]]:
    """`_node` for the analyses' IR of no instance (the node does not call an agent), and
    the data edges into it; remembered (`_ANALYSIS`) by `key`, its `_analysis_key`: an
    edited agent shares all but a few of its nodes with the agent it was made from."""
    known = _ANALYSIS.get(key)
    if known is not None:
        return known
    decl, callee = info.decl, info.callee
    symbol = callee.symbol
    node = _node(result, agent, info, node_names, Instance(), (), incoming_control, False)
    made = (node, tuple(_data_edge(dep, decl.name, decl, remember=True) for dep in node.deps))
    return _ANALYSIS.keep(key, made, decl, callee.signature, symbol.decl if symbol else None)


def _analysis_key(
    info: NodeInfo, node_names: set[str], incoming_control: set[str]
) -> tuple[Any, ...]:
    """What an analyses' IR node of no instance is made of: the statement, the callee (its
    kind, name, signature and declaration: the signature and the statement make the
    node's output type and bound arguments), the nodes it reads and whether it starts the
    run. Identities, of objects alive while their `_ANALYSIS` entry lives."""
    decl, callee = info.decl, info.callee
    found = _ARG_HEADS.get(id(decl))
    heads = found if found is not None else _arg_heads(decl)
    deps = heads if node_names.issuperset(heads) else _kept(heads, node_names)
    entry = not deps and decl.name not in incoming_control and not unbound_parameters(info)
    symbol = callee.symbol
    return (
        id(decl),
        callee.kind,
        callee.name,
        id(callee.signature),
        id(symbol.decl) if symbol is not None else None,
        deps,
        entry,
    )


def _kept(heads: tuple[str, ...], node_names: set[str]) -> tuple[str, ...]:
    """The heads that are nodes of the agent, in order."""
    return tuple(filter(node_names.__contains__, heads))


def _arg_heads(decl: ast.NodeDecl) -> tuple[str, ...]:
    """The heads a node's arguments and map source join, in order of first use, each
    once, less the map's variable: its dependencies once filtered by the agent's nodes."""
    found = _ARG_HEADS.get(id(decl))
    if found is not None:
        return found
    exclude = decl.map.var if decl.map else None
    heads: dict[str, None] = {}
    for expr in [arg.value for arg in decl.args] + ([decl.map.source] if decl.map else []):
        for head in _read_heads(expr):
            if head != exclude:
                heads.setdefault(head)
    return _ARG_HEADS.keep(id(decl), tuple(heads), decl)


def _plain(instance: Instance) -> bool:
    return not instance.roles and not instance.constants


def _node_key(info: NodeInfo, deps: list[str], entry: bool) -> tuple[Any, ...] | None:
    """What an analyses' IR node is made of, or None when it calls an agent (its IR
    holds the callee's, which this key does not say)."""
    callee = info.callee
    if callee.kind == "agent":
        return None
    return (
        id(info.decl),
        callee.kind,
        callee.name,
        id(callee.symbol.decl) if callee.symbol is not None else None,
        str(info.output),
        tuple((name, id(expr)) for name, expr in info.bound.items()),
        tuple(deps),
        entry,
    )


def none_params(info: NodeInfo) -> frozenset[str]:
    """The callee's parameters whose type admits none (`IRNode.none_params`)."""
    params = info.callee.signature.params or ()
    return frozenset(name for name, t, _ in params if assignable(NONE, t))


def unbound_parameters(info: NodeInfo) -> list[str]:
    """Required parameters the node's declaration leaves to the edges that fire it: such
    a node fires only through those edges, never at start."""
    params = info.callee.signature.params or ()
    return [name for name, _, optional in params if not optional and name not in info.bound]


def _runtime_fields(result: CheckResult, symbol: Symbol | None, info: NodeInfo) -> dict[str, Any]:
    """Prompts, types, model and tools of the callee: what a firing needs at run time."""
    signature = info.callee.signature
    fields: dict[str, Any] = {"result": signature.returns}
    if symbol is not None and symbol.qualified in result.signatures:
        signature = result.signatures[symbol.qualified]
        fields["result"] = signature.returns
    decl = symbol.decl if symbol is not None else None
    defaults = {}
    if isinstance(decl, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl | ast.AgentDecl):
        defaults = {
            p.name: ast.constant_value(p.default) for p in decl.params if p.default is not None
        }
    fields["params"] = tuple((name, t, defaults.get(name)) for name, t, _ in signature.params or ())
    if isinstance(decl, ast.HumanDecl):
        fields["prompt"] = decl.prompt.text if decl.prompt else None
    if isinstance(decl, ast.ToolDecl):
        assert symbol is not None
        fields["target"] = decl.target
        fields["target_folder"] = folder_of(symbol.module.filename)
        fields["server"] = mcp_server(result, symbol.module, decl)
    if isinstance(decl, ast.RoleDecl):
        assert symbol is not None
        fields["prompt"] = decl.prompt.text if decl.prompt else None
        fields["system"] = decl.system.text if decl.system else None
        if decl.model is not None:
            fields["model_name"] = decl.model.name
            model_symbol = result.program.lookup(symbol.module, decl.model.name)
            params = {}
            if model_symbol is not None and isinstance(model_symbol.decl, ast.ModelDecl):
                params = {p.name: ast.constant_value(p.value) for p in model_symbol.decl.params}
            params.update({p.name: ast.constant_value(p.value) for p in decl.model.params})
            fields["model_params"] = params
        tools = []
        for name in decl.tools.tools if decl.tools else ():
            tool = result.program.lookup(symbol.module, name)
            if tool is not None and isinstance(tool.decl, ast.ToolDecl):
                tool_signature = result.signatures[tool.qualified]
                tools.append(
                    ToolSpec(
                        name=tool.name,
                        target=tool.decl.target,
                        params=tuple((n, t) for n, t, _ in tool_signature.params or ()),
                        returns=tool_signature.returns,
                        folder=folder_of(tool.module.filename),
                        server=mcp_server(result, tool.module, tool.decl),
                    )
                )
        fields["tools"] = tuple(tools)
    return fields


def mcp_server(result: CheckResult, module: ModuleInfo, decl: ast.ToolDecl) -> McpServer | None:
    """The MCP server of a tool declaration; None for a Python tool (or a server the
    checker reported)."""
    if decl.server is None:
        return None
    symbol = result.program.lookup(module, decl.server)
    if symbol is None or not isinstance(symbol.decl, ast.McpDecl):
        return None
    found = read_server(symbol.decl, folder_of(symbol.module.filename))
    return found if isinstance(found, McpServer) else None


def _symbol(result: CheckResult, qualified: str) -> Symbol | None:
    head, _, rest = qualified.rpartition(".")
    module = result.program.modules.get(head or "__main__")
    return module.names.get(rest) if module is not None else None


def _instance(
    result: CheckResult, caller: AgentInfo, decl: ast.NodeDecl, callee: AgentInfo, outer: Instance
) -> Instance:
    """The instantiation of `callee` by the node `decl` of `caller`."""
    roles: dict[str, str] = {}
    constants: dict[str, ast.Node] = {}
    params = list(callee.ct_params.values())
    for index, arg in enumerate(decl.ct_args):
        name = arg.name or (params[index].name if index < len(params) else None)
        if name is None or name not in callee.ct_params:
            continue
        if isinstance(callee.ct_params[name].type, ast.RoleSig):
            if not isinstance(arg.value, ast.Ref):
                continue
            target = ".".join(arg.value.parts)
            if target in outer.roles:
                roles[name] = outer.roles[target]
                continue
            symbol = result.program.lookup(caller.symbol.module, target)
            if symbol is not None:
                roles[name] = symbol.qualified
        else:
            constants[name] = outer.substitute(arg.value)
    return _with_defaults(result, callee, roles, constants)


def _with_defaults(
    result: CheckResult, callee: AgentInfo, roles: dict[str, str], constants: dict[str, ast.Node]
) -> Instance:
    """An instance completed with the defaults of the compile-time parameters not bound."""
    for param in callee.ct_params.values():
        if param.name in roles or param.name in constants or param.default is None:
            continue
        if isinstance(param.type, ast.RoleSig) and isinstance(param.default, ast.Ref):
            symbol = result.program.lookup(callee.symbol.module, ".".join(param.default.parts))
            if symbol is not None:
                roles[param.name] = symbol.qualified
        elif not isinstance(param.type, ast.RoleSig):
            constants[param.name] = param.default
    return Instance(roles, constants)
