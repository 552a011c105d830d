"""The IR: a checked agent as a `networkx.MultiDiGraph` with typed attributes — data
only. The checker lowers an agent into it (compiler/lower.py); the runtime executes it
and nothing else, so importing the runtime loads neither the resolver nor the type
checker.

Each graph node is a node of the agent (attribute `ir`: an `IRNode`), plus one node
`RETURN` that return edges and return statements point to. Each graph edge carries an
`IREdge`: a *data* edge (the target reads the source's output), a *control* edge (an
explicit `->`, with its condition and bound), or a *return* edge.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from .mcp_servers import McpServer
from .source import Span

if TYPE_CHECKING:
    import networkx as nx

RETURN = "<return>"
GUARD = "<guard>"  # (`ErrorRead.via` of a read in an edge's guard)


class ErrorRead(NamedTuple):
    """An `x.error` read (compiler/dataflow.py `error_reads`): the node read, where, and
    the parameter (port, or `RETURN`) its value is passed to as it is — whose type may
    admit none — or None when it is used otherwise (`+`, a function), where it must be
    a `str`; `GUARD` for a read in a guard (evaluated after each successful firing of
    the edge's source, the edge taken or not), used otherwise too. The explorer proves
    that x's latest firing failed there (compiler/paths.py)."""

    node: str
    span: Any  # Span
    via: str | None


DEFAULT_TOOL_STEPS = 8


class ToolSpec(BaseModel):
    """A Python tool: what a role may call in its tool loop, or what a tool node runs."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    target: str  # "package.module:function", or the MCP server's name for the tool
    params: tuple[tuple[str, Any], ...]  # (name, semantic type)
    returns: Any
    folder: str = ""  # of the `.agent` file that declares it: its module may be there
    server: McpServer | None = None  # a tool of this MCP server, not a Python callable


class IRNode(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    name: str
    kind: Literal["role", "agent", "tool", "human", "param", "unknown"]
    callee: str
    output_type: str
    args: dict[str, Any] = Field(default_factory=dict)  # parameter → ast expression
    deps: tuple[str, ...] = ()  # nodes whose outputs the arguments consume (the AND-join)
    # the parameters whose type admits none (`str?`): an `x.error` read passed to one of
    # them as it is needs no proof that x failed (compiler/paths.py, `error_reads`)
    none_params: frozenset[str] = frozenset()
    # the `x.error` reads of its arguments: (x, where, the parameter it is passed to as
    # it is, or None when its value is used otherwise; those where none is defined,
    # compared or a built-in's argument that takes none, are left out)
    error_reads: tuple[ErrorRead, ...] = ()
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
    target: str | None = None  # a tool node's Python callable (or its MCP server's name for it)
    target_folder: str = ""  # of the `.agent` file that declares the tool
    deadline: float | None = None  # a human step's: seconds to wait for the answer
    server: McpServer | None = None  # a tool node's MCP server

    @property
    def width(self) -> int:
        """Parallel sub-firings of one firing: `x N`, or the map bound."""
        return self.replicate or self.map_max or 1

    @property
    def calls_per_firing(self) -> int:
        if self.kind in ("tool", "human"):
            return 0
        if self.kind == "agent" and self.subgraph is not None:
            return self.width * self.subgraph.worst_case_calls()
        return self.width * (1 + self.tool_steps)

    @property
    def questions_per_firing(self) -> int:
        """The questions one firing asks a person (a human step's; an agent's nodes')."""
        if self.kind == "human":
            return self.width
        if self.kind == "agent" and self.subgraph is not None:
            return self.width * self.subgraph.worst_case_questions()
        return 0


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
    # the `x.error` reads of its guard, ports and value (`IRNode.error_reads`: the port
    # it is bound to, or `RETURN` for the value, when passed as it is)
    error_reads: tuple[ErrorRead, ...] = Field(default=(), repr=False)

    @property
    def loop(self) -> bool:
        return self.kind == "control" and self.max is not None

    def label(self) -> str:
        from .printer import to_source  # (only messages need it: not loaded to run)

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
    error_reads: tuple[ErrorRead, ...] = Field(default=(), repr=False)  # (`IREdge`'s)


class IRConstraint(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    mode: Literal["ensure", "enforce"]
    formula: Any  # ast formula
    span: Span | None = Field(default=None, repr=False)

    @cached_property
    def text(self) -> str:
        """The formula as source, for messages and traces."""
        from .printer import to_source  # (not loaded to run an agent without constraints)

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
    param_defaults: dict[str, Any] = Field(default_factory=dict, repr=False)
    return_type: Any = Field(default=None, repr=False)

    _graph: Any = PrivateAttr(default=None)
    # its control and return edges, in order, where whoever built it knows them, with the
    # list of edges they are of (another list, as a copy's: not known)
    _control: tuple[list[IREdge], list[IREdge]] | None = PrivateAttr(default=None)
    # the IR it was made from and how it differs, where its builder knows (`made_from`)
    _difference: IRDifference | None = PrivateAttr(default=None)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The agent as a `networkx.MultiDiGraph`: its nodes (attribute `ir`), `RETURN`,
        and every edge (attribute `ir`: data, control and return edges). Built on first
        use: the analyses and the executor read the tables above."""
        if self._graph is None:
            import networkx as nx  # (~100 ms to import: only for those who ask)

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
        """The control and return edges, in order (a new list)."""
        known = self._control
        if known is not None and known[0] is self.edges:
            return list(known[1])
        return [e for e in self.edges if e.kind in ("control", "return")]

    @classmethod
    def trusted(cls, **fields: Any) -> AgentIR:
        """`model_construct(**fields)` given every field (values trusted, not validated:
        made of checked declarations), without its per-field work: an editor's check
        makes one per candidate. With a field missing, `model_construct` itself."""
        known = _TRUSTED.get(cls)
        if known is None:
            private = {
                name: attr.get_default() for name, attr in cls.__private_attributes__.items()
            }
            known = _TRUSTED[cls] = (frozenset(cls.model_fields), private)
        if fields.keys() != known[0]:
            return cls.model_construct(**fields)
        ir = cls.__new__(cls)
        object.__setattr__(ir, "__dict__", fields)
        object.__setattr__(ir, "__pydantic_fields_set__", set(fields))
        object.__setattr__(ir, "__pydantic_extra__", None)
        object.__setattr__(ir, "__pydantic_private__", dict(known[1]))  # (defaults: None)
        return ir

    def known_control_edges(self, control: list[IREdge]) -> None:
        """Says which of `edges` are the control and return edges, in order (the IR's
        builder knows: lower.py), so that `control_edges` need not find them."""
        self._control = (self.edges, control)

    def made_from(
        self, base: AgentIR, changed: list[str], removed: list[IREdge], added: list[IREdge]
    ) -> None:
        """Says that this IR is `base` (an IR of the same node names, in the same order)
        with the nodes `changed` replaced (the others are the same objects) and its edges
        `removed` and `added` (as many times as they occur): its builder knows (lower.py),
        and the analyses of this IR start from `base`'s (analyses.py)."""
        self._difference = IRDifference(base, self.edges, changed, removed, added)
        base._difference = None  # (no chain of IRs, each holding the one before)

    @property
    def difference(self) -> IRDifference | None:
        """How this IR differs from the one it was made from (`made_from`), while its
        edges are the list they were then."""
        found = self._difference
        return found if found is not None and found.edges is self.edges else None

    def out_edges(self, node: str) -> list[IREdge]:
        return [e for e in self.edges if e.source == node and e.kind != "data"]

    def dependents(self, node: str) -> list[str]:
        return [n.name for n in self.nodes.values() if node in n.deps]

    def worst_case_questions(self) -> int:
        """The most questions a run asks people (human steps), nested agents included."""
        from .analyses import worst_case_firings

        firings = worst_case_firings(self)
        return sum(firings[name] * node.questions_per_firing for name, node in self.nodes.items())

    def worst_case_calls(self) -> int:
        from .analyses import worst_case_firings

        firings = worst_case_firings(self)
        return sum(firings[name] * node.calls_per_firing for name, node in self.nodes.items())


class IRDifference(NamedTuple):
    """How an IR differs from the IR it was made from (`AgentIR.made_from`)."""

    base: AgentIR
    edges: list[IREdge]  # the IR's edges, when it was said
    changed: list[str]  # the nodes that are not `base`'s objects
    removed: list[IREdge]  # `base`'s edges that are not the IR's (as a multiset)
    added: list[IREdge]  # the IR's edges that are not `base`'s


# for each class of IR, its fields' names and its private attributes' defaults (`trusted`)
_TRUSTED: dict[type[AgentIR], tuple[frozenset[str], dict[str, Any]]] = {}
