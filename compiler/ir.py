"""The IR: a checked agent as a `networkx.MultiDiGraph` with typed attributes.

Each graph node is a node of the agent (attribute `ir`: an `IRNode`), plus one node
`RETURN` that return edges and return statements point to. Each graph edge carries an
`IREdge`: a *data* edge (the target reads the source's output), a *control* edge (an
explicit `->`, with its condition and bound), or a *return* edge. The runtime executes
this and nothing else.

Patterns are expanded here: a node that calls an agent gets that agent's IR as its
`subgraph`, built for the call's `Instance`: compile-time role parameters bound to the
roles passed, and compile-time constants replaced by their values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from . import ast
from .printer import to_source
from .pyimport import folder_of
from .resolve import Symbol
from .source import Span
from .typecheck import AgentInfo, CheckResult, NodeInfo

RETURN = "<return>"
DEFAULT_TOOL_STEPS = 8


class ToolSpec(BaseModel):
    """A Python tool: what a role may call in its tool loop, or what a tool node runs."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    target: str  # "package.module:function"
    params: tuple[tuple[str, Any], ...]  # (name, semantic type)
    returns: Any
    folder: str = ""  # of the `.agent` file that declares it: its module may be there


class IRNode(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: Literal["role", "agent", "tool", "param", "unknown"]
    callee: str
    output_type: str
    args: dict[str, Any] = Field(default_factory=dict)  # parameter → ast expression
    deps: tuple[str, ...] = ()  # nodes whose outputs the arguments consume (the AND-join)
    entry: bool = False
    replicate: int | None = None
    map_var: str | None = None
    map_source: Any = None
    map_max: int | None = None
    model: str | None = None
    max_tokens: int | None = None
    tool_steps: int = 0  # the bound of the tool-calling loop; 0 for roles without tools
    subgraph: Any = Field(default=None, repr=False)  # AgentIR of a called agent
    span: Span | None = Field(default=None, repr=False)
    # What the runtime needs to make the call:
    result: Any = Field(default=None, repr=False)  # semantic type of one call's result
    params: tuple[tuple[str, Any, Any], ...] = ()  # (name, semantic type, default value)
    prompt: str | None = Field(default=None, repr=False)
    system: str | None = Field(default=None, repr=False)
    model_name: str | None = None  # the `model` declaration's name
    model_params: dict[str, Any] = Field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    target: str | None = None  # a tool node's Python callable
    target_folder: str = ""  # of the `.agent` file that declares the tool

    @property
    def width(self) -> int:
        """Parallel sub-firings of one firing: `x N`, or the map bound."""
        return self.replicate or self.map_max or 1

    @property
    def calls_per_firing(self) -> int:
        if self.kind == "tool":
            return 0
        if self.kind == "agent" and self.subgraph is not None:
            return self.width * self.subgraph.worst_case_calls()
        return self.width * (1 + self.tool_steps)


class IREdge(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    kind: Literal["data", "control", "return"]
    source: str
    target: str
    index: int = 0  # declaration order of control edges
    condition: Literal["always", "when", "else", "error"] = "always"
    guard: Any = None  # ast expression
    max: int | None = None
    ports: dict[str, Any] = Field(default_factory=dict)
    value: Any = None  # the returned expression, for return edges
    span: Span | None = Field(default=None, repr=False)

    @property
    def loop(self) -> bool:
        return self.kind == "control" and self.max is not None

    def label(self) -> str:
        parts = []
        if self.condition == "when":
            parts.append(f"when {to_source(self.guard)}")
        elif self.condition in ("else", "error"):
            parts.append("else" if self.condition == "else" else "on error")
        if self.max is not None:
            parts.append(f"max {self.max}")
        return " ".join(parts)


class IRReturn(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    value: Any
    deps: tuple[str, ...]
    span: Span | None = Field(default=None, repr=False)


class IRConstraint(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    mode: Literal["ensure", "enforce"]
    formula: Any  # ast formula
    span: Span | None = Field(default=None, repr=False)

    @cached_property
    def text(self) -> str:
        """The formula as source, for messages and traces."""
        return to_source(self.formula)


class AgentIR(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str
    params: dict[str, str]
    returns: str
    nodes: dict[str, IRNode]
    edges: list[IREdge]
    returns_: list[IRReturn]
    constraints: list[IRConstraint]
    filename: str = ""
    span: Span | None = Field(default=None, repr=False)
    param_types: dict[str, Any] = Field(default_factory=dict, repr=False)
    # what the runtime derives once from this IR (reachability, edge tables): a cache
    _plan: Any = PrivateAttr(default=None)
    param_defaults: dict[str, Any] = Field(default_factory=dict, repr=False)
    return_type: Any = Field(default=None, repr=False)

    _graph: Any = PrivateAttr(default=None)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The agent as a `networkx.MultiDiGraph`: its nodes (attribute `ir`), `RETURN`,
        and every edge (attribute `ir`: data, control and return edges). Built on first
        use: the analyses and the executor read the tables above."""
        if self._graph is None:
            graph = nx.MultiDiGraph()
            for name, node in self.nodes.items():
                graph.add_node(name, ir=node)
            graph.add_node(RETURN)
            for edge in self.edges:
                if edge.source in graph and edge.target in graph:
                    graph.add_edge(edge.source, edge.target, ir=edge)
            for ret in self.returns_:
                for dep in ret.deps:
                    graph.add_edge(
                        dep,
                        RETURN,
                        ir=IREdge(kind="data", source=dep, target=RETURN, span=ret.span),
                    )
            self._graph = graph
        return self._graph

    @property
    def control_edges(self) -> list[IREdge]:
        return [e for e in self.edges if e.kind in ("control", "return")]

    def out_edges(self, node: str) -> list[IREdge]:
        return [e for e in self.edges if e.source == node and e.kind != "data"]

    def dependents(self, node: str) -> list[str]:
        return [n.name for n in self.nodes.values() if node in n.deps]

    def worst_case_calls(self) -> int:
        from .analyses import worst_case_firings

        firings = worst_case_firings(self)
        return sum(firings[name] * node.calls_per_firing for name, node in self.nodes.items())


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

        def replace(node: ast.Node) -> ast.Node | None:
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
    nodes: dict[str, IRNode] = {}
    edges: list[IREdge] = []
    decl = agent.decl
    node_names = set(agent.nodes)
    incoming_control = {
        e.target.node for e in decl.edges if isinstance(e.target, ast.NodeTarget) and e.max is None
    }
    for name, info in agent.nodes.items():
        ir_node = _node(result, agent, info, node_names, instance, stack, incoming_control, runtime)
        nodes[name] = ir_node
        for dep in ir_node.deps:
            edges.append(IREdge(kind="data", source=dep, target=name, span=info.decl.span))
    for index, edge_decl in enumerate(decl.edges):
        condition, guard = _condition(edge_decl.condition)
        guard = instance.substitute(guard)
        if isinstance(edge_decl.target, ast.ReturnTarget):
            edge = IREdge(
                kind="return",
                source=edge_decl.source,
                target=RETURN,
                index=index,
                condition=condition,
                guard=guard,
                max=instance.bound(edge_decl.max),
                value=instance.substitute(edge_decl.target.value),
                span=edge_decl.span,
            )
        else:
            ports = {p.name: instance.substitute(p.value) for p in edge_decl.target.ports if p.name}
            edge = IREdge(
                kind="control",
                source=edge_decl.source,
                target=edge_decl.target.node,
                index=index,
                condition=condition,
                guard=guard,
                max=instance.bound(edge_decl.max),
                ports=ports,
                span=edge_decl.span,
            )
        edges.append(edge)
    returns = [
        IRReturn(
            value=instance.substitute(statement.value),
            deps=_refs(statement.value, node_names),
            span=statement.span,
        )
        for statement in decl.returns_
    ]
    constraints = [
        IRConstraint(mode=c.mode, formula=c.formula, span=c.span) for c in decl.constraints
    ]
    return AgentIR(
        name=agent.symbol.qualified,
        params={k: str(v) for k, v in agent.params.items()},
        returns=str(agent.returns),
        nodes=nodes,
        edges=edges,
        returns_=returns,
        constraints=constraints,
        filename=agent.symbol.module.filename,
        span=decl.span,
        param_types=dict(agent.params),
        param_defaults={
            p.name: ast.constant_value(p.default) for p in decl.params if p.default is not None
        },
        return_type=agent.returns,
    )


def _refs(expr: Any, node_names: set[str], exclude: str | None = None) -> tuple[str, ...]:
    """The nodes whose outputs `expr` reads, in order."""
    if expr is None:
        return ()
    return tuple(h for h in _read_heads(expr) if h in node_names and h != exclude)


# the names each (immutable) expression reads, by its identity; each entry keeps its
# expression alive, so an identity is never reused while its entry lives
_HEADS: dict[int, tuple[Any, tuple[str, ...]]] = {}


def _read_heads(expr: ast.Node) -> tuple[str, ...]:
    """The heads of the references in `expr`, in order, once each — but not `x.error`,
    which reads x's failure (in `on error` handlers), not its output."""
    found = _HEADS.get(id(expr))
    if found is None:
        heads = dict.fromkeys(
            ref.head for ref in expr.find_all(ast.Ref) if ref.parts[1:] != ("error",)
        )
        if len(_HEADS) >= 65_536:
            _HEADS.clear()
        found = _HEADS[id(expr)] = (expr, tuple(heads))
    return found[1]


def _condition(condition: ast.Node | None) -> tuple[Any, Any]:
    if isinstance(condition, ast.When):
        return "when", condition.guard
    if isinstance(condition, ast.Else):
        return "else", None
    if isinstance(condition, ast.OnError):
        return "error", None
    return "always", None


_KINDS: dict[str, Literal["role", "agent", "tool", "param", "unknown"]] = {
    "role": "role",
    "agent": "agent",
    "tool": "tool",
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
    callee, symbol = info.callee.name, info.callee.symbol
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
    return IRNode(
        name=decl.name,
        entry=not deps and decl.name not in incoming_control and not unbound_parameters(info),
        kind=kind,
        callee=callee,
        output_type=str(info.output),
        args={name: instance.substitute(expr) for name, expr in info.bound.items()},
        deps=tuple(deps),
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
    if isinstance(decl, ast.RoleDecl | ast.ToolDecl | ast.AgentDecl):
        defaults = {
            p.name: ast.constant_value(p.default) for p in decl.params if p.default is not None
        }
    fields["params"] = tuple((name, t, defaults.get(name)) for name, t, _ in signature.params or ())
    if isinstance(decl, ast.ToolDecl):
        assert symbol is not None
        fields["target"] = decl.target
        fields["target_folder"] = folder_of(symbol.module.filename)
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
                    )
                )
        fields["tools"] = tuple(tools)
    return fields


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
