"""What a name means: declarations, their parameters and fields, and the types that
lead from a value to the fields it has.

Everything here reads the resolved program (`compiler.resolve.Program`) and the AST,
not the checker's semantic types, so a name means something even in a program with
type errors. A `Target` is what a name denotes, named by its kind, its name, the
declaration that owns it and the file that declares it, with the place of its name
there (offsets), so go-to-definition can open that file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from rolegraph.compiler import ast
from rolegraph.compiler.resolve import ModuleInfo, Program, Symbol
from rolegraph.compiler.source import Span


@dataclass(frozen=True)
class Target:
    """A thing with a name: a declaration (kind model, type, enum, role, tool, agent,
    test), or a part of one (param, ct_param, field, member, node, map_var), or an
    imported module (module). `owner` is the declaration a part belongs to ("" for a
    declaration; `Agent.node` for a map variable)."""

    kind: str
    name: str
    owner: str
    file: str
    start: int
    end: int

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, self.name, self.owner, self.file)


#: A type expression and the module whose names it uses.
TypeRef = tuple[ast.Node, ModuleInfo]


def name_span(text: str, span: Span | None, name: str) -> tuple[int, int]:
    """Where `name` first stands as a whole word in `span` of `text`: the name of the
    declaration, parameter, field or node that `span` covers."""
    if span is None:
        return (0, 0)
    match = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])").search(
        text, span.start, span.end
    )
    return (match.start(), match.end()) if match else (span.start, span.start)


class Resolver:
    """Names, seen from the main module of a resolved program."""

    def __init__(self, program: Program):
        self.program = program
        self.main = program.main

    def text_of(self, file: str) -> str:
        if file not in self.program.sources:
            try:
                self.program.sources[file] = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError, ValueError):
                self.program.sources[file] = ""
        return self.program.sources[file]

    def lookup(self, dotted: str, module: ModuleInfo | None = None) -> Symbol | None:
        return self.program.lookup(module or self.main, dotted)

    def part(self, kind: str, name: str, owner: str, file: str, node: ast.Node) -> Target:
        start, end = name_span(self.text_of(file), node.span, name)
        return Target(kind, name, owner, file, start, end)

    def declaration(self, symbol: Symbol) -> Target:
        return self.part(symbol.kind, symbol.name, "", symbol.module.filename, symbol.decl)

    def module_target(self, alias: str, info: ModuleInfo) -> Target:
        return Target("module", alias, "", info.filename, 0, 0)

    # -- the parts of declarations ---------------------------------------------------------

    def params(self, symbol: Symbol) -> dict[str, tuple[Target, TypeRef]]:
        decl = symbol.decl
        found: dict[str, tuple[Target, TypeRef]] = {}
        for param in getattr(decl, "params", ()) or ():
            target = self.part("param", param.name, symbol.name, symbol.module.filename, param)
            found[param.name] = (target, (param.type, symbol.module))
        return found

    def ct_params(self, symbol: Symbol) -> dict[str, tuple[Target, ast.CtParam]]:
        decl = symbol.decl
        if not isinstance(decl, ast.AgentDecl):
            return {}
        return {
            p.name: (self.part("ct_param", p.name, symbol.name, symbol.module.filename, p), p)
            for p in decl.ct_params
        }

    def returns(self, symbol: Symbol) -> TypeRef | None:
        returns = getattr(symbol.decl, "returns", None)
        return (returns, symbol.module) if returns is not None else None

    def record(self, ref: TypeRef | None) -> Symbol | None:
        """The record or enum a type expression names (through `T?`), or None."""
        if ref is None:
            return None
        expr, module = ref
        if isinstance(expr, ast.OptionalType):
            expr = expr.inner
        if not isinstance(expr, ast.NamedType):
            return None
        symbol = self.program.lookup(module, expr.name)
        return symbol if symbol is not None and symbol.kind in ("type", "enum") else None

    def item(self, ref: TypeRef | None) -> TypeRef | None:
        """The item type of a list type (through `T?`)."""
        if ref is None:
            return None
        expr, module = ref
        if isinstance(expr, ast.OptionalType):
            expr = expr.inner
        return (expr.item, module) if isinstance(expr, ast.ListType) else None

    def fields(self, symbol: Symbol) -> dict[str, tuple[Target, TypeRef | None, ast.Node]]:
        """The fields of a record, or the members of an enum: (target, type, declaration)."""
        decl = symbol.decl
        file = symbol.module.filename
        if isinstance(decl, ast.TypeDecl):
            return {
                f.name: (
                    self.part("field", f.name, symbol.name, file, f),
                    (f.type, symbol.module),
                    f,
                )
                for f in decl.fields
            }
        if isinstance(decl, ast.EnumDecl):
            return {
                m.name: (self.part("member", m.name, symbol.name, file, m), None, m)
                for m in decl.members
            }
        return {}

    def field_chain(
        self, ref: TypeRef | None, names: list[str]
    ) -> list[tuple[Target, TypeRef | None]]:
        """The targets of `names` read one after the other from a value of type `ref`
        (`draft.text.x`: the fields `text`, then `x`), as far as they resolve."""
        found: list[tuple[Target, TypeRef | None]] = []
        for name in names:
            record = self.record(ref)
            if record is None or record.kind != "type":
                break
            field = self.fields(record).get(name)
            if field is None:
                break
            found.append((field[0], field[1]))
            ref = field[1]
        return found

    def callee(self, agent: Symbol, node: ast.NodeDecl) -> Symbol | ast.CtParam | None:
        """What a node calls: a role, agent or tool, or a role-valued compile-time
        parameter of its agent."""
        decl = agent.decl
        if isinstance(decl, ast.AgentDecl):
            for ct in decl.ct_params:
                if ct.name == node.role and isinstance(ct.type, ast.RoleSig):
                    return ct
        return self.program.lookup(agent.module, node.role)

    def output(self, agent: Symbol, node: ast.NodeDecl) -> TypeRef | None:
        """The type a node's readers see; None for replicated and mapped nodes (lists,
        which have no fields)."""
        if node.replicate is not None or node.map is not None:
            return None
        callee = self.callee(agent, node)
        if isinstance(callee, ast.CtParam):
            sig = callee.type
            return (
                (sig.returns, agent.module)
                if isinstance(sig, ast.RoleSig) and sig.returns
                else None
            )
        return self.returns(callee) if callee is not None else None

    def callee_params(self, agent: Symbol, node: ast.NodeDecl) -> dict[str, Target]:
        """The parameters a node's named arguments and port bindings name."""
        callee = self.callee(agent, node)
        if isinstance(callee, ast.CtParam):
            sig = callee.type
            params = sig.params if isinstance(sig, ast.RoleSig) and sig.params else ()
            owner = f"{agent.name}.{callee.name}"
            return {
                p.name: self.part("param", p.name, owner, agent.module.filename, p) for p in params
            }
        if callee is None:
            return {}
        return {name: target for name, (target, _) in self.params(callee).items()}
