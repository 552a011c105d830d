"""Every definition and reference of names in a document, with what each denotes.

`build_index(module, program, tokens)` walks the AST of the main module, one
`visit_<Node>` method per kind of declaration and statement, and pairs each name it
expects in a node's span with the word the scanner found there: the node's own words
(those outside its children's spans) in order. Names resolve as the checker resolves
them (an agent's nodes, parameters and compile-time parameters, a map's variable, enum
members, declarations, imported modules), and fields through the declared types.
Go-to-definition, references, rename and hover all read this one index.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from rolegraph.compiler import ast
from rolegraph.compiler.resolve import ModuleInfo, Program, Symbol

from .prompts import template_chains
from .symbols import Resolver, Target, TypeRef
from .tokens import Token, Tokens, string_body


@dataclass(frozen=True)
class Occurrence:
    start: int
    end: int
    target: Target
    definition: bool = False


@dataclass
class ConstraintSite:
    """A constraint of an agent, for hover: its span and which agent it belongs to."""

    agent: str
    index: int  # among the agent's constraints
    start: int
    end: int
    node: ast.Constraint


@dataclass
class Index:
    occurrences: list[Occurrence] = field(default_factory=list)
    constraints: list[ConstraintSite] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list, repr=False)

    def finish(self) -> None:
        self.occurrences.sort(key=lambda o: (o.start, not o.definition))
        self._starts = [o.start for o in self.occurrences]

    def at(self, offset: int) -> Occurrence | None:
        """The occurrence under the cursor (a cursor right after a word is on it)."""
        i = bisect.bisect_right(self._starts, offset) - 1
        while i >= 0 and self.occurrences[i].start == self._starts[i]:
            occurrence = self.occurrences[i]
            if occurrence.start <= offset <= occurrence.end:
                return occurrence
            if occurrence.end < offset - 64:
                break
            i -= 1
        return None

    def of(self, target: Target) -> list[Occurrence]:
        """Every occurrence in this document of `target` (its definition included)."""
        return [o for o in self.occurrences if o.target.key == target.key]

    def constraint_at(self, offset: int) -> ConstraintSite | None:
        return next((c for c in self.constraints if c.start <= offset <= c.end), None)


def constraint_sites(module: ast.Module) -> list[ConstraintSite]:
    """The constraints of every agent of a module, where they stand."""
    return [site for agent in module.agents for site in _sites(agent)]


def _sites(agent: ast.AgentDecl) -> list[ConstraintSite]:
    constraints = [c for c in agent.constraints if c.span is not None]
    return [
        ConstraintSite(agent.name, i, c.span.start, c.span.end, c)  # type: ignore[union-attr]
        for i, c in enumerate(constraints)
    ]


def build_index(module: ast.Module, program: Program, tokens: Tokens) -> Index:
    builder = _Builder(program, tokens)
    for decl in module.decls:
        builder.visit(decl)
    builder.index.finish()
    return builder.index


@dataclass
class _Scope:
    """The names an expression can see, besides declarations."""

    owner: Symbol | None = None
    values: dict[str, tuple[Target, TypeRef | None]] = field(default_factory=dict)
    roles: dict[str, Target] = field(default_factory=dict)  # role-valued ct parameters

    def with_value(self, name: str, target: Target, ref: TypeRef | None) -> _Scope:
        return _Scope(self.owner, {**self.values, name: (target, ref)}, self.roles)


class _Builder:
    def __init__(self, program: Program, tokens: Tokens):
        self.program = program
        self.resolver = Resolver(program)
        self.main: ModuleInfo = program.main
        self.file = program.main.filename
        self.tokens = tokens
        self.index = Index()

    # -- recording ------------------------------------------------------------------------

    def add(self, token: Token | None, target: Target | None, definition: bool = False) -> None:
        if token is not None and target is not None:
            self.index.occurrences.append(Occurrence(token.start, token.end, target, definition))

    def define(self, token: Token | None, kind: str, name: str, owner: str) -> Target | None:
        if token is None:
            return None
        target = Target(kind, name, owner, self.file, token.start, token.end)
        self.add(token, target, definition=True)
        return target

    def own_words(self, node: ast.Node) -> Iterator[Token]:
        """The words of `node` outside the spans of its child nodes, in order."""
        if node.span is None:
            return
        inner = sorted((c.span.start, c.span.end) for c in node.children() if c.span is not None)
        i = 0
        for token in self.tokens.names(node.span.start, node.span.end):
            while i < len(inner) and inner[i][1] <= token.start:
                i += 1
            if i < len(inner) and inner[i][0] <= token.start:
                continue
            yield token

    def own_names(self, node: ast.Node) -> list[Token]:
        return list(self.own_words(node))

    def named(self, node: ast.Node, name: str, after: int = 0) -> Token | None:
        """The first own word of `node` that reads `name`, from the `after`-th on."""
        words = itertools.islice(self.own_words(node), after, None)
        return next((t for t in words if t.text == name), None)

    def symbol(self, name: str) -> Symbol | None:
        return self.main.names.get(name)

    # -- declarations --------------------------------------------------------------------------

    def visit(self, node: ast.Node, scope: _Scope | None = None) -> None:
        method = getattr(self, f"visit_{type(node).__name__}", None)
        if method is not None:
            method(node, scope or _Scope())
        else:
            for child in node.children():
                self.visit(child, scope)

    def visit_Import(self, node: ast.Import, scope: _Scope) -> None:
        words = self.own_names(node)
        if node.names:
            module = None
            for name in node.names:
                symbol = self.main.imported.get(name)
                if symbol is not None:
                    self.add(
                        next((t for t in reversed(words) if t.text == name), None),
                        self.resolver.declaration(symbol),
                    )
                    module = symbol.module
            if module is not None:
                self._module_words(node, words, module)
            return
        alias = node.alias or (
            node.module.rsplit("/", 1)[-1].removesuffix(".agent")
            if node.is_path
            else node.module.rsplit(".", 1)[-1]
        )
        info = self.main.namespaces.get(alias)
        if info is None:
            return
        if node.alias is not None and words and words[-1].text == alias:
            self.add(words[-1], _file_target(alias, info))
        self._module_words(node, words, info)

    def _module_words(self, node: ast.Import, words: list[Token], info: ModuleInfo) -> None:
        """`std.debate` or `"./roles.agent"` in an import: a reference to the file."""
        if node.span is None:
            return
        module_target = _file_target(node.module, info)
        if node.is_path:
            string = next(
                (
                    t
                    for t in self.tokens.within(node.span.start, node.span.end)
                    if t.kind == "string"
                ),
                None,
            )
            self.add(string, module_target)
            return
        parts = node.module.split(".")
        for token in words:
            if token.text == parts[-1]:
                self.add(token, module_target)
                break

    def visit_ModelDecl(self, node: ast.ModelDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "model", node.name, "")

    def visit_TypeDecl(self, node: ast.TypeDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "type", node.name, "")
        for f in node.fields:
            self.define(self.named(f, f.name), "field", f.name, node.name)
            self.visit(f.type, scope)

    def visit_EnumDecl(self, node: ast.EnumDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "enum", node.name, "")
        for member in node.members:
            self.define(self.named(member, member.name), "member", member.name, node.name)

    def _params(self, params: Iterable[ast.Param], owner: str, scope: _Scope) -> _Scope:
        for param in params:
            target = self.define(self.named(param, param.name), "param", param.name, owner)
            self.visit(param.type, scope)
            if target is not None:
                scope = scope.with_value(param.name, target, (param.type, self.main))
        return scope

    def visit_RoleDecl(self, node: ast.RoleDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "role", node.name, "")
        scope = self._params(node.params, node.name, _Scope(self.symbol(node.name)))
        self.visit(node.returns, scope)
        if node.model is not None:
            self._qualified(node.model, node.model.name, after=1)
        if node.tools is not None:
            for tool in node.tools.tools:
                self._qualified(node.tools, tool)
        for text in (node.system, node.prompt):
            if text is not None:
                self._template(text, scope)

    def visit_HumanDecl(self, node: ast.HumanDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "human", node.name, "")
        scope = self._params(node.params, node.name, _Scope(self.symbol(node.name)))
        self.visit(node.returns, scope)
        if node.prompt is not None:
            self._template(node.prompt, scope)

    def visit_McpDecl(self, node: ast.McpDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "mcp", node.name, "")

    def visit_ToolDecl(self, node: ast.ToolDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "tool", node.name, "")
        if node.server is not None:  # (`= calc.add`: the server's name, after the tool's)
            self._qualified(node, node.server, after=1)
        self._params(node.params, node.name, _Scope(self.symbol(node.name)))
        self.visit(node.returns, scope)

    def visit_AgentDecl(self, node: ast.AgentDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name), "agent", node.name, "")
        scope = _Scope(self.symbol(node.name))
        for ct in node.ct_params:
            target = self.define(self.named(ct, ct.name), "ct_param", ct.name, node.name)
            if isinstance(ct.type, ast.RoleSig):
                if target is not None:
                    scope.roles[ct.name] = target
                for param in ct.type.params or ():
                    self.define(
                        self.named(param, param.name), "param", param.name, f"{node.name}.{ct.name}"
                    )
                    self.visit(param.type, scope)
                if ct.type.returns is not None:
                    self.visit(ct.type.returns, scope)
            else:
                self.visit(ct.type, scope)
                if target is not None:
                    scope = scope.with_value(ct.name, target, (ct.type, self.main))
        scope = self._params(node.params, node.name, scope)
        self.visit(node.returns, scope)
        for statement in node.nodes:
            target = self.define(
                self.named(statement, statement.name), "node", statement.name, node.name
            )
            if target is not None and scope.owner is not None:
                scope = scope.with_value(
                    statement.name, target, self.resolver.output(scope.owner, statement)
                )
        self.index.constraints.extend(_sites(node))
        for statement in node.body:
            self.visit(statement, scope)

    def visit_TestDecl(self, node: ast.TestDecl, scope: _Scope) -> None:
        self.define(self.named(node, node.name, after=1), "test", node.name, "")
        run = node.run
        agent = self.resolver.lookup(run.agent) if run is not None else None
        scope = _Scope(agent)
        if agent is not None and isinstance(agent.decl, ast.AgentDecl):
            for statement in agent.decl.nodes:
                target = self.resolver.part(
                    "node", statement.name, agent.name, agent.module.filename, statement
                )
                scope = scope.with_value(
                    statement.name, target, self.resolver.output(agent, statement)
                )
            for name, (target, ref) in self.resolver.params(agent).items():
                scope = scope.with_value(name, target, ref)
        for statement in node.body:
            if isinstance(statement, ast.TestRun):
                self._qualified(statement, statement.agent, after=1)
                params = self.resolver.params(agent) if agent is not None else {}
                self._args(statement.args, {n: t for n, (t, _) in params.items()}, scope)
            elif isinstance(statement, ast.TestMock):
                self._qualified(statement, statement.role, after=1)
            else:
                self.visit(statement, scope)

    # -- agent statements -------------------------------------------------------------------

    def visit_NodeDecl(self, node: ast.NodeDecl, scope: _Scope) -> None:
        agent = scope.owner
        words = self.own_names(node)
        callee_words = words[1 : 1 + len(node.role.split("."))]
        if node.role in scope.roles and callee_words:
            self.add(callee_words[0], scope.roles[node.role])
        else:
            self._qualified_words(callee_words, node.role)
        if isinstance(node.replicate, str):
            self._value_word(
                words[-1] if words and words[-1].text == node.replicate else None, scope
            )
        params = self.resolver.callee_params(agent, node) if agent is not None else {}
        self._args(node.ct_args, self._ct_targets(agent, node), scope)
        inner = scope
        if node.map is not None:
            inner = self._map(node, node.map, scope)
        self._args(node.args, params, inner)

    def _ct_targets(self, agent: Symbol | None, node: ast.NodeDecl) -> dict[str, Target]:
        callee = self.resolver.callee(agent, node) if agent is not None else None
        if not isinstance(callee, Symbol):
            return {}
        return {n: t for n, (t, _) in self.resolver.ct_params(callee).items()}

    def _map(self, node: ast.NodeDecl, clause: ast.MapClause, scope: _Scope) -> _Scope:
        self.visit(clause.source, scope)
        words = self.own_names(clause)
        owner = f"{scope.owner.name if scope.owner else ''}.{node.name}"
        target = self.define(self.named(clause, clause.var), "map_var", clause.var, owner)
        if isinstance(clause.max, str):
            self._value_word(words[-1] if words and words[-1].text == clause.max else None, scope)
        if target is None:
            return scope
        return scope.with_value(
            clause.var, target, self.resolver.item(self._type_of(clause.source, scope))
        )

    def _args(self, args: Iterable[ast.Arg], params: dict[str, Target], scope: _Scope) -> None:
        for arg in args:
            if arg.name is not None:
                self.add(self.named(arg, arg.name), params.get(arg.name))
            self.visit(arg.value, scope)

    def visit_EdgeDecl(self, node: ast.EdgeDecl, scope: _Scope) -> None:
        words = self.own_names(node)
        self._value_word(words[0] if words and words[0].text == node.source else None, scope)
        if isinstance(node.max, str) and words and words[-1].text == node.max:
            self._value_word(words[-1], scope)
        target = node.target
        if isinstance(target, ast.NodeTarget):
            self._value_word(self.named(target, target.node), scope)
            agent = scope.owner
            decl = (
                agent.decl.node(target.node)
                if agent and isinstance(agent.decl, ast.AgentDecl)
                else None
            )
            params = self.resolver.callee_params(agent, decl) if agent and decl else {}
            self._args(target.ports, params, scope)
        else:
            self.visit(target.value, scope)
        if isinstance(node.condition, ast.When):
            self.visit(node.condition.guard, scope)

    def visit_LtlFired(self, node: ast.LtlFired, scope: _Scope) -> None:
        self._value_word(self.named(node, node.node), scope)

    # -- expressions -------------------------------------------------------------------------

    def visit_Ref(self, node: ast.Ref, scope: _Scope) -> None:
        words = self.own_names(node)
        if len(words) != len(node.parts):
            return
        head = node.parts[0]
        if head in scope.values:
            target, ref = scope.values[head]
            self.add(words[0], target)
            for (field_target, _), word in zip(
                self.resolver.field_chain(ref, list(node.parts[1:])), words[1:], strict=False
            ):
                self.add(word, field_target)
            return
        if head in scope.roles:
            self.add(words[0], scope.roles[head])
            return
        self._qualified_words(words, ".".join(node.parts), members=True)

    def _value_word(self, token: Token | None, scope: _Scope) -> None:
        if token is not None and token.text in scope.values:
            self.add(token, scope.values[token.text][0])

    def _type_of(self, expr: ast.Node, scope: _Scope) -> TypeRef | None:
        if not isinstance(expr, ast.Ref) or expr.parts[0] not in scope.values:
            return None
        ref = scope.values[expr.parts[0]][1]
        chain = self.resolver.field_chain(ref, list(expr.parts[1:]))
        if len(chain) != len(expr.parts) - 1:
            return None
        return chain[-1][1] if chain else ref

    def visit_NamedType(self, node: ast.NamedType, scope: _Scope) -> None:
        self._qualified_words(self.own_names(node), node.name)

    # -- names of declarations -------------------------------------------------------------

    def _qualified(self, node: ast.Node, dotted: str, after: int = 0) -> None:
        """A (maybe qualified) declaration name among the own words of `node`."""
        words = self.own_names(node)
        parts = dotted.split(".")
        for i in range(after, len(words) - len(parts) + 1):
            if [w.text for w in words[i : i + len(parts)]] == parts:
                self._qualified_words(words[i : i + len(parts)], dotted)
                return

    def _qualified_words(self, words: list[Token], dotted: str, members: bool = False) -> None:
        """`Writer`, `d.Debate`, and with `members` also `Route.math`, `types.Route.math`."""
        parts = dotted.split(".")
        if len(words) != len(parts):
            return
        for split in range(len(parts), 0, -1):
            symbol = self.resolver.lookup(".".join(parts[:split]))
            if symbol is None:
                continue
            if split == 2 and parts[0] in self.main.namespaces:
                self.add(words[0], _file_target(parts[0], self.main.namespaces[parts[0]]))
            self.add(words[split - 1], self.resolver.declaration(symbol))
            if members and split < len(parts):
                member = self.resolver.fields(symbol).get(parts[split])
                if member is not None:
                    self.add(words[split], member[0])
            return
        if parts[0] in self.main.namespaces:
            self.add(words[0], _file_target(parts[0], self.main.namespaces[parts[0]]))

    def _template(self, statement: ast.Prompt | ast.System, scope: _Scope) -> None:
        if statement.span is None:
            return
        string = next(
            (
                t
                for t in self.tokens.within(statement.span.start, statement.span.end)
                if t.kind == "string"
            ),
            None,
        )
        if string is None:
            return
        start, end = string_body(string)
        for chain in template_chains(self.tokens.text, start, end):
            head = chain[0]
            if head.text not in scope.values:
                continue
            target, ref = scope.values[head.text]
            self.add(Token("name", head.text, head.start, head.end), target)
            fields = self.resolver.field_chain(ref, [w.text for w in chain[1:]])
            for (field_target, _), word in zip(fields, chain[1:], strict=False):
                self.add(Token("name", word.text, word.start, word.end), field_target)


def _file_target(alias: str, info: ModuleInfo) -> Target:
    """An imported module: its definition is the top of its file."""
    return Target("module", info.key, "", info.filename, 0, 0)
