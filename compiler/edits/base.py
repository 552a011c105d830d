"""What every edit operator shares: the `Edit` value, its errors, finding a site, rebuilding
the tree around it and parsing the source text edits carry (the questions edits ask of
the tree without changing it are in `compiler/queries.py`).

An edit is a small frozen pydantic model with an `op` tag: a value that serializes to
JSON, so an LLM can propose one and the checker decides. An operator enumerates the
places where it applies (`sites`) and `apply` returns a new module; whether the result
checks is the `Editor`'s business (editor.py), so `apply` stays a pure AST rewrite that
raises `EditError` only when the edit does not fit the program at all (no such node...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, SerializerFunctionWrapHandler, model_serializer

from .. import ast, codes
from ..dataflow import ref_heads
from ..diagnostics import Diagnostic, DiagnosticSink
from ..queries import edge_keys, mentions
from ..source import Span
from ..visit import Transformer

S = TypeVar("S", bound=ast.Node)


class EditError(Exception):
    """An edit that cannot be applied; `diagnostics` say why."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(str(d) for d in diagnostics))


class InvalidEdit(EditError):
    """An edit whose result would not check. `diagnostics` may be given as the function
    that makes them: called when they are first asked for (an editor that knows an edit
    is refused before checking it says why only if asked)."""

    def __init__(self, diagnostics: list[Diagnostic] | Callable[[], list[Diagnostic]]):
        if callable(diagnostics):
            Exception.__init__(self)
            self._why = diagnostics
        else:
            super().__init__(diagnostics)

    def __getattr__(self, name: str) -> Any:  # (`diagnostics`, not made yet)
        if name != "diagnostics" or "_why" not in self.__dict__:
            raise AttributeError(name)
        self.diagnostics = self._why()
        return self.diagnostics

    def __str__(self) -> str:
        return "\n".join(str(d) for d in self.diagnostics)

    def __reduce__(self) -> tuple[Any, ...]:  # (copied or pickled with its words made)
        return (type(self), (self.diagnostics,))


def error(
    code: str, message: str, hints: tuple[str, ...] = (), notes: Iterable[str] = ()
) -> EditError:
    sink = DiagnosticSink("<edit>")
    sink.report(code, message, hints=hints, notes=notes)
    return EditError(sink.found)


def no_site(message: str, hints: tuple[str, ...] = ()) -> EditError:
    return error(codes.NO_SUCH_SITE, message, hints)


class Edit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    op: str
    # one line for docs and for the prompts of LLM optimizers
    summary: ClassVar[str] = ""
    # fields still read, for scripts and stored searches written before a better form,
    # but not offered to proposers (an edge's `index`: its `key` is what names it)
    legacy: ClassVar[frozenset[str]] = frozenset()

    # False for an operator whose edits are not enumerated: what it writes comes from a
    # model or a person (a prompt's new text), so `sites` yields none
    enumerable: ClassVar[bool] = True

    @classmethod
    def sites(cls, module: ast.Module) -> Iterator[Edit]:
        """Every concrete edit of this operator on `module` (not yet checked)."""
        raise NotImplementedError  # pragma: no cover - every operator defines it

    def apply(self, module: ast.Module) -> ast.Module:
        raise NotImplementedError  # pragma: no cover - every operator defines it

    @model_serializer(mode="wrap")
    def _without_unused_legacy(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # a legacy field left empty is not written: new scripts read as they are made
        data: dict[str, Any] = handler(self)
        for name in self.legacy:
            if data.get(name, 0) is None:
                del data[name]
        return data

    def to_json(self) -> str:
        return self.model_dump_json()


# -- finding things -------------------------------------------------------------------------


def find_decl(module: ast.Module, name: str, kind: type[S], what: str) -> S:
    found = module.decl(name)
    if not isinstance(found, kind):
        names = [getattr(d, "name", "") for d in module.decls if isinstance(d, kind)]
        from ..resolve import did_you_mean

        raise no_site(
            f"no {what} `{name}` in this program",
            did_you_mean(name, names) or (f"its {what}s: {', '.join(names) or '(none)'}",),
        )
    return found


def find_agent(module: ast.Module, name: str) -> ast.AgentDecl:
    return find_decl(module, name, ast.AgentDecl, "agent")


# Per agent declaration (by identity; each entry keeps its agent alive, so an identity is
# never reused while its entry lives): its nodes by name and its edges by key. A search
# applies many edits to one parent, each looking its sites up in the same agent.
_AGENT_INDEX: dict[int, tuple[ast.AgentDecl, dict[str, ast.NodeDecl], dict[str, ast.EdgeDecl]]] = {}


def _index(agent: ast.AgentDecl) -> tuple[dict[str, ast.NodeDecl], dict[str, ast.EdgeDecl]]:
    found = _AGENT_INDEX.get(id(agent))
    if found is None or found[0] is not agent:
        nodes: dict[str, ast.NodeDecl] = {}
        for statement in agent.body:
            if isinstance(statement, ast.NodeDecl):
                nodes.setdefault(statement.name, statement)  # (the first, as `agent.node`)
        if len(_AGENT_INDEX) >= 256:
            _AGENT_INDEX.clear()
        found = _AGENT_INDEX[id(agent)] = (agent, nodes, edge_keys(agent))
    return found[1], found[2]


def node_index(agent: ast.AgentDecl) -> dict[str, ast.NodeDecl]:
    """`agent`'s nodes by name (the first of a name), found once per agent (not to change)."""
    return _index(agent)[0]


def find_node(agent: ast.AgentDecl, name: str) -> ast.NodeDecl:
    node = _index(agent)[0].get(name)
    if node is None:
        from ..resolve import did_you_mean

        raise no_site(
            f"agent `{agent.name}` has no node `{name}`",
            did_you_mean(name, [n.name for n in agent.nodes]),
        )
    return node


def find_edge(agent: ast.AgentDecl, key: str) -> ast.EdgeDecl:
    """The edge of `agent` whose key (`edge critic -> writer when`; see
    `queries.edge_keys`) is `key`; the leading `edge ` may be left out."""
    edges = _index(agent)[1]
    full = key if key.startswith("edge ") else f"edge {key}"
    found = edges.get(full)
    if found is None:
        from ..resolve import did_you_mean

        listed = ", ".join(f"`{k}`" for k in edges) or "(none)"
        raise no_site(
            f"agent `{agent.name}` has no edge `{key}`",
            (*did_you_mean(full, list(edges)), f"its edges: {listed}"),
        )
    return found


def one_address(key: object, index: object, what: str) -> None:
    """Refuse an address that gives both a `key` and an `index`, or neither."""
    if (key is None) == (index is None):
        given = "not both" if key is not None else "give one"
        raise ValueError(
            f"{what} is named by its `key` (or, in scripts written before keys, by its"
            f" `index`): one of them, {given}"
        )


# -- rebuilding -----------------------------------------------------------------------------


def replace_decl(module: ast.Module, old: ast.Node, new: ast.Node) -> ast.Module:
    return module.with_changes(decls=tuple(new if d is old else d for d in module.decls))


def with_body(module: ast.Module, agent: ast.AgentDecl, body: Iterable[ast.Node]) -> ast.Module:
    return replace_decl(module, agent, agent.with_changes(body=tuple(body)))


def replace_statement(
    module: ast.Module, agent: ast.AgentDecl, old: ast.Node, new: ast.Node | None
) -> ast.Module:
    """`module` with statement `old` of `agent` replaced by `new` (removed: None): what
    `with_body` makes of the body with every `old` replaced, built by the statement's
    position, not by a walk of the body (the general path where `old` is not in the body
    once, or the body is one `with_changes` would validate)."""
    position = _positions(agent).get(id(old))
    if position is None or (new is not None and not ast.holds_nodes(agent, "body", (new,))):
        body = agent.body
        if new is None:
            return with_body(module, agent, (s for s in body if s is not old))
        return with_body(module, agent, (new if s is old else s for s in body))
    body = agent.body
    kept: tuple[Any, ...] = body[:position] + body[position + 1 :]
    if new is not None:
        kept = (*body[:position], new, *body[position + 1 :])
    return replace_decl(module, agent, agent.model_copy(update={"body": kept}))


# id(agent) → (the agent, the position of each statement that is in its body once),
# for agents whose body `with_changes` would take without validating (see `_positions`)
_POSITIONS: dict[int, tuple[ast.AgentDecl, dict[int, int]]] = {}


def _positions(agent: ast.AgentDecl) -> dict[int, int]:
    """The position of each statement of `agent`'s body that is in it once, by identity
    (none when the body is one `with_changes` would validate), made once per agent: an
    edit replaces one statement of an agent that many edits are applied to."""
    known = _POSITIONS.get(id(agent))
    if known is not None and known[0] is agent:
        return known[1]
    positions: dict[int, int] = {}
    if ast.holds_nodes(agent, "body", agent.body):
        twice: set[int] = set()
        for index, statement in enumerate(agent.body):
            if id(statement) in positions:
                twice.add(id(statement))
            positions[id(statement)] = index
        for key in twice:
            del positions[key]
    if len(_POSITIONS) >= 256:
        _POSITIONS.clear()
    _POSITIONS[id(agent)] = (agent, positions)
    return positions


class _RenameNode(Transformer):
    """Every reference to node `old` (references, formula atoms, edge ends) renamed."""

    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new

    def leave_Ref(self, original: ast.Ref, updated: ast.Ref) -> ast.Node:
        if updated.head != self.old:
            return updated
        return updated.with_changes(parts=(self.new, *updated.parts[1:]))

    def leave_LtlFired(self, original: ast.LtlFired, updated: ast.LtlFired) -> ast.Node:
        return updated.with_changes(node=self.new) if updated.node == self.old else updated

    def leave_NodeTarget(self, original: ast.NodeTarget, updated: ast.NodeTarget) -> ast.Node:
        return updated.with_changes(node=self.new) if updated.node == self.old else updated

    def leave_EdgeDecl(self, original: ast.EdgeDecl, updated: ast.EdgeDecl) -> ast.Node:
        return updated.with_changes(source=self.new) if updated.source == self.old else updated


def rename_refs(node: S, old: str, new: str) -> S:
    """`node` with every reference to node `old` (references, formula atoms, edge ends)
    renamed to `new`. (`node` itself when it names no node `old`: `mentions` asks of it
    exactly what the renaming changes, and is remembered per statement; a node bypassed
    in a large agent is named by few of its statements.)"""
    if not mentions(node, old):
        return node
    return _RenameNode(old, new).transform(node)  # type: ignore[return-value]


def insert_after(body: tuple[ast.Node, ...], anchor: ast.Node, *new: ast.Node) -> list[ast.Node]:
    result: list[ast.Node] = []
    for statement in body:
        result.append(statement)
        if statement is anchor:
            result.extend(new)
    return result


def insert_edges(body: Iterable[ast.Node], *edges: ast.Node) -> list[ast.Node]:
    """`body` with `edges` after its last node or edge (before returns and constraints)."""
    body = list(body)
    last = max(
        (i for i, s in enumerate(body) if isinstance(s, ast.NodeDecl | ast.EdgeDecl)), default=-1
    )
    return [*body[: last + 1], *edges, *body[last + 1 :]]


def fresh(taken: Iterable[str], base: str) -> str:
    """`base`, or `base_2`, `base_3`... : the first that is not taken."""
    taken = set(taken)
    if base not in taken and base not in ast.KEYWORDS:
        return base
    index = 2
    while f"{base}_{index}" in taken:
        index += 1
    return f"{base}_{index}"


def snake(name: str) -> str:
    """`SelfRefine` → `self_refine` (for the names of new nodes)."""
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.rsplit(".", 1)[-1]).lower()
    return text if text not in ast.KEYWORDS else f"{text}_"


# -- source fragments (what LLM proposals carry) --------------------------------------------


@lru_cache(maxsize=4096)
def parse_statement(text: str, what: str) -> ast.Node:
    """One agent-body statement (node, edge, return, constraint) from source text, parsed
    once per text: the same edit applied to many programs puts the same (immutable)
    statement in each, which later checks recognise. A plain edge (the texts `add_edge`
    draws) is read without the parser, into the tree the parser makes, spans included."""
    return simple_edge(text) or parsed_statement(text, what)


_STATEMENT_HEAD = "agent Fragment__() -> str {\n"  # a statement is parsed inside an agent

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
# `source -> target [when [not] head.field] max N`: the statement's groups, by position
_SIMPLE_EDGE = re.compile(
    rf"({_NAME}) +-> +({_NAME})"
    rf"(?: +(when +(?:(not) +)?({_NAME})\.({_NAME})))? +max +([1-9][0-9]{{0,8}})"
)


def simple_edge(text: str) -> ast.EdgeDecl | None:
    """The edge `parse_statement` reads from `text` when `text` is a plain edge (names,
    an optional guard `when [not] a.b`, a bound `max N`), else None (the parser's
    business). Its nodes and spans are those the parser makes of the text on line 2 of
    the fragment agent; held to `parsed_statement` in tests/test_edit_fast_paths.py."""
    found = _SIMPLE_EDGE.fullmatch(text)
    if found is None:
        return None
    names = [n for n in found.group(1, 2, 5, 6) if n is not None]
    if any(n in ast.KEYWORDS or n in ast.LTL_LETTERS for n in names):
        return None  # a keyword is no name; a temporal operator names no node

    def span(first: int, last: int) -> Span:
        start, end = found.start(first), found.end(last)
        base = len(_STATEMENT_HEAD)
        return Span(
            line=2,
            column=start + 1,
            end_line=2,
            end_column=end + 1,
            start=base + start,
            end=base + end,
        )

    condition = None
    if found.group(3) is not None:
        guard: ast.Expr = ast.Ref(parts=(found.group(5), found.group(6)), span=span(5, 6))
        if found.group(4) is not None:
            guard = ast.Not(operand=guard, span=span(4, 6))
        condition = ast.When(guard=guard, span=span(3, 6))
    target = ast.NodeTarget(node=found.group(2), span=span(2, 2))
    return ast.EdgeDecl(
        source=found.group(1),
        target=target,
        condition=condition,
        max=int(found.group(7)),
        span=span(1, 7),
    )


def parsed_statement(text: str, what: str) -> ast.Node:
    """One agent-body statement parsed from `text` by the parser (the general path)."""
    module = _parse_fragment(f"{_STATEMENT_HEAD}{text}\n}}\n", what)
    agent = module.decls[0] if module.decls else None
    if not isinstance(agent, ast.AgentDecl) or len(agent.body) != 1:
        raise error(codes.MALFORMED_EDIT, f"{what}: expected one statement, found {text!r}")
    return agent.body[0]


@lru_cache(maxsize=1024)
def parse_decl(text: str, what: str) -> ast.Node:
    """One declaration from source text, parsed once per text."""
    module = _parse_fragment(text, what)
    if len(module.decls) != 1:
        raise error(codes.MALFORMED_EDIT, f"{what}: expected one declaration")
    return module.decls[0]


@lru_cache(maxsize=1024)
def parse_module_text(text: str) -> ast.Module:
    """A whole module from source text (a crossover's donor), parsed once per text."""
    return _parse_fragment(text, "donor program")


def _parse_fragment(text: str, what: str) -> ast.Module:
    # The front end parses fragments for the edits that carry source text; imported
    # here, not at the top, so that the compiler does not load the parser for nothing.
    from rolegraph.grammar import parse_module

    result = parse_module(text, "<edit>")
    problems = [d for d in result.diagnostics if d.is_error]
    if result.module is None or problems:
        raise error(
            codes.MALFORMED_EDIT,
            f"{what} does not parse",
            notes=[d.message for d in problems[:3]],
        )
    return result.module


def literal(value: Any) -> ast.StringLit | ast.IntLit | ast.FloatLit | ast.BoolLit:
    match value:
        case bool():
            return ast.BoolLit(value=value)
        case int():
            return ast.IntLit(value=value)
        case float():
            return ast.FloatLit(value=value)
    return ast.StringLit(value=str(value))


def bind_args(
    agent: ast.AgentDecl,
    params: list[ast.Param],
    fixed: dict[str, ast.Expr],
    known: dict[str, ast.Expr],
    callee: str,
) -> tuple[ast.Arg, ...]:
    """Arguments for a new node, in parameter order: the `fixed` ones, then `known`
    expressions that read no node, else the agent parameter of the same name; parameters
    with defaults are left out. Leading `name: name` arguments are written positionally,
    as people write them (`Critic(task, draft: writer)`)."""
    nodes = {n.name for n in agent.nodes}
    agent_params = {p.name for p in agent.params}
    args: list[ast.Arg] = []
    positional = True
    for index, param in enumerate(params):
        expr = fixed.get(param.name)
        if expr is None:
            expr = known.get(param.name)
            if expr is not None and nodes & set(ref_heads(expr)):
                expr = None
        if expr is None and param.name in agent_params:
            expr = ast.Ref.of(param.name)
        if expr is None:
            if param.default is None:
                raise no_site(f"cannot bind parameter `{param.name}` of `{callee}` here")
            positional = False
            continue
        positional = positional and index == len(args) and expr == ast.Ref.of(param.name)
        args.append(ast.Arg(name=None if positional else param.name, value=expr))
    return tuple(args)


def add_decl_after(module: ast.Module, anchor: ast.Node, *new: ast.Node) -> ast.Module:
    """`module` with the declarations `new` right after `anchor`."""
    decls: list[ast.Node] = []
    for decl in module.decls:
        decls.append(decl)
        if decl is anchor:
            decls.extend(new)
    return module.with_changes(decls=tuple(decls))
