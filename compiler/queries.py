"""Queries of the AST: what a program's tree says, asked without changing it.

The edits ask them to find their sites and to build what they add, and name the
statements of an agent's body by what they are (`statement_identity`, `body_keys`,
`edge_keys`: the keys of `diff` scripts and of the edge edits); the backends ask
them too (`names_used` decides what generated Python imports). Each is a plain
function of nodes; nothing here edits or raises an edit's error.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import ast
from .dataflow import ref_heads
from .printer import to_source
from .visit import Visitor


def role_of(module: ast.Module, node: ast.NodeDecl) -> ast.RoleDecl | None:
    """The role a node calls, when this module declares it."""
    decl = module.decl(node.role)
    return decl if isinstance(decl, ast.RoleDecl) else None


def output_type(module: ast.Module, node: ast.NodeDecl) -> str | None:
    """The type of a node's output as source text (`Answer`, `list[Answer]`), when the
    callee is declared in this module: a cheap syntactic answer for proposing sites."""
    decl = module.decl(node.role)
    if not isinstance(decl, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl | ast.AgentDecl):
        return None
    text = to_source(decl.returns)
    return f"list[{text}]" if node.replicate is not None or node.map is not None else text


def record_fields(module: ast.Module, type_text: str | None) -> dict[str, str]:
    """The fields of a record declared in this module, by name, as type text."""
    decl = module.decl(type_text) if type_text else None
    if not isinstance(decl, ast.TypeDecl):
        return {}
    return {f.name: to_source(f.type) for f in decl.fields}


def bound_args(node: ast.NodeDecl, role: ast.RoleDecl | None) -> dict[str, ast.Expr]:
    """A node's arguments by parameter name (positional ones named by the role)."""
    found: dict[str, ast.Expr] = {}
    names = [p.name for p in role.params] if role is not None else []
    for index, arg in enumerate(node.args):
        name = arg.name or (names[index] if index < len(names) else None)
        if name is not None:
            found[name] = arg.value
    return found


def node_deps(agent: ast.AgentDecl, node: ast.NodeDecl) -> list[str]:
    """The nodes a node's arguments (and map source) reference: its data dependencies."""
    names = _node_names(agent)
    arg_heads, map_heads = _node_heads(node)
    found: list[str] = []
    for head in arg_heads:
        if head in names and head not in found:
            found.append(head)
    found += [h for h in map_heads if h in names and h not in found]
    return found


# What the edit operators ask of one statement many times a program, remembered by the
# statement's identity: an edited agent shares most statements with the agent it was made
# from. Each entry holds its statement (so an address is never reused while its entry
# lives); a table is emptied when full. Held to the plain walks in
# tests/test_edit_queries_memo.py.
_MEMO_MAX = 4096
_HEADS: dict[int, tuple[ast.NodeDecl, tuple[str, ...], tuple[str, ...]]] = {}
_NAMES: dict[int, tuple[ast.AgentDecl, frozenset[str]]] = {}
_MENTIONED: dict[int, tuple[ast.Node, frozenset[str]]] = {}


def _node_heads(node: ast.NodeDecl) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The heads its arguments read, in order (the map's variable left out), and those
    its map source reads."""
    known = _HEADS.get(id(node))
    if known is not None and known[0] is node:
        return known[1], known[2]
    exclude = node.map.var if node.map else None
    arg_heads = tuple(h for arg in node.args for h in ref_heads(arg.value) if h != exclude)
    map_heads = ref_heads(node.map.source) if node.map is not None else ()
    if len(_HEADS) >= _MEMO_MAX:
        _HEADS.clear()
    _HEADS[id(node)] = (node, arg_heads, map_heads)
    return arg_heads, map_heads


def _node_names(agent: ast.AgentDecl) -> frozenset[str]:
    known = _NAMES.get(id(agent))
    if known is not None and known[0] is agent:
        return known[1]
    names = frozenset(n.name for n in agent.nodes)
    if len(_NAMES) >= 256:  # (an entry holds a whole agent: fewer of them)
        _NAMES.clear()
    _NAMES[id(agent)] = (agent, names)
    return names


def mentions(statement: ast.Node, name: str) -> bool:
    """Whether a statement refers to node `name` (reference, edge end, formula atom)."""
    known = _MENTIONED.get(id(statement))
    if known is None or known[0] is not statement:
        mentioned = frozenset(n for item in statement.walk() for n in _node_named(item))
        if len(_MENTIONED) >= _MEMO_MAX:
            _MENTIONED.clear()
        known = _MENTIONED[id(statement)] = (statement, mentioned)
    return name in known[1]


def _node_named(item: ast.Node) -> tuple[str, ...]:
    """The node `item` names, if it names one (see `mentions`)."""
    match item:
        case ast.Ref():
            return (item.head,)
        case ast.LtlFired(node=node) | ast.NodeTarget(node=node):
            return (node,)
        case ast.EdgeDecl(source=source):
            return (source,)
    return ()


def ancestors(agent: ast.AgentDecl, name: str) -> set[str]:
    """The nodes `name` depends on through data (its arguments), transitively."""
    by_name = {n.name: n for n in agent.nodes}
    seen: set[str] = set()
    stack = [name]
    while stack:
        current = by_name.get(stack.pop())
        if current is None:
            continue
        for dep in node_deps(agent, current):
            if dep not in seen:
                seen.add(dep)
                stack.append(dep)
    return seen


def declared_names(module: ast.Module) -> set[str]:
    return {d.name for d in module.decls if hasattr(d, "name")}  # type: ignore[union-attr]


def agent_names(module: ast.Module, agent: ast.AgentDecl) -> set[str]:
    """The names a new node must not take: nodes, parameters and declarations."""
    return {n.name for n in agent.nodes} | {p.name for p in agent.params} | declared_names(module)


def names_used(node: ast.Node) -> list[str]:
    """The declaration names a statement or declaration uses: types, models, tools, roles."""
    names = _NamesUsed()
    names.visit(node)
    return [name.split(".")[0] if "." in name else name for name in names.found]


class _NamesUsed(Visitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_NamedType(self, node: ast.NamedType) -> None:
        self.found.append(node.name)

    def visit_ModelUse(self, node: ast.ModelUse) -> None:
        self.found.append(node.name)

    def visit_ToolUse(self, node: ast.ToolUse) -> None:
        self.found.extend(node.tools)

    def visit_NodeDecl(self, node: ast.NodeDecl) -> None:
        self.found.append(node.role)
        self.found.extend(head for arg in node.ct_args for head in ref_heads(arg.value))

    def visit_Ref(self, node: ast.Ref) -> None:
        self.found.append(node.head)  # enum members (`Route.math`) name their enum

    def visit_ToolDecl(self, node: ast.ToolDecl) -> None:
        if node.server is not None:
            self.found.append(node.server)  # a tool of an MCP server needs its declaration


def plain_node(node: ast.NodeDecl) -> bool:
    """A node neither replicated nor mapped, without compile-time arguments."""
    return node.replicate is None and node.map is None and not node.ct_args


def fires(edge: ast.EdgeDecl, name: str) -> bool:
    """Whether `edge` fires node `name`."""
    return isinstance(edge.target, ast.NodeTarget) and edge.target.node == name


def statement_identity(statement: ast.Node) -> str:
    """What a statement of an agent's body is, as a script names it: a node by its name
    (`node writer`); an edge by its source, its target (a node, or `return`) and the
    kind of its condition (`edge critic -> writer when`); the return and each
    constraint by their keyword (`return`, `ensure`, `enforce`).

    An edge's guard, bound, ports and returned value are what it says, not what it is:
    an edge whose guard or bound changed is the same edge, changed. Two statements with
    the same identity are told apart by their order (`#2`, `#3`...; see `body_keys`).
    """
    match statement:
        case ast.NodeDecl(name=name):
            return f"node {name}"
        case ast.EdgeDecl(source=source, target=ast.NodeTarget(node=end), condition=condition):
            return f"edge {source} -> {end}{_CONDITION_WORDS[type(condition)]}"
        case ast.EdgeDecl(source=source, condition=condition):
            return f"edge {source} -> return{_CONDITION_WORDS[type(condition)]}"
        case ast.ReturnStmt():
            return "return"
        case ast.Constraint(mode=mode):
            return mode
    raise TypeError(f"not a statement of an agent: {type(statement).__name__}")


_CONDITION_WORDS: dict[type, str] = {
    type(None): "",
    ast.When: " when",
    ast.Else: " else",
    ast.OnError: " on error",
}


def body_keys(body: Sequence[ast.Node]) -> list[str]:
    """The key of each statement of a body: its identity, with `#n` on the n-th (n > 1)
    of the statements that share it, so that every key names one statement."""
    seen: dict[str, int] = {}
    keys = []
    for statement in body:
        identity = statement_identity(statement)
        seen[identity] = seen.get(identity, 0) + 1
        keys.append(identity if seen[identity] == 1 else f"{identity}#{seen[identity]}")
    return keys


def edge_keys(agent: ast.AgentDecl) -> dict[str, ast.EdgeDecl]:
    """An agent's explicit edges by key, in order: the keys `body_keys` gives them
    (`edge critic -> writer when`, `edge writer -> return`, `edge a -> b#2`). A key
    does not change when a statement of another identity is added, removed or moved,
    as a position would."""
    return {
        key: statement
        for key, statement in zip(body_keys(agent.body), agent.body, strict=True)
        if isinstance(statement, ast.EdgeDecl)
    }
