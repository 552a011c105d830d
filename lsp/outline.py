"""The outline of a document: its declarations, with their parameters, fields, members,
nodes and constraints as children."""

from __future__ import annotations

from lsprotocol import types

from rolegraph.compiler import ast
from rolegraph.compiler.printer import to_source

from .positions import LineIndex
from .symbols import name_span

K = types.SymbolKind
_KIND = {
    ast.Import: K.Module,
    ast.ModelDecl: K.Constant,
    ast.McpDecl: K.Interface,
    ast.TypeDecl: K.Struct,
    ast.EnumDecl: K.Enum,
    ast.RoleDecl: K.Function,
    ast.ToolDecl: K.Function,
    ast.HumanDecl: K.Function,
    ast.AgentDecl: K.Class,
    ast.TestDecl: K.Method,
}


def outline(module: ast.Module, text: str, lines: LineIndex) -> list[types.DocumentSymbol]:
    return [s for decl in module.decls if (s := _symbol(decl, text, lines)) is not None]


def _symbol(decl: ast.Node, text: str, lines: LineIndex) -> types.DocumentSymbol | None:
    if decl.span is None:
        return None
    if isinstance(decl, ast.Import):
        name, detail = decl.alias or decl.module, "import"
    else:
        name = getattr(decl, "name", "")
        detail = _detail(decl)
    children: list[types.DocumentSymbol] = []
    for part, kind, part_detail in _parts(decl):
        if part.span is not None:
            children.append(
                _make(
                    part.span,
                    getattr(part, "name", "") or part_detail,
                    kind,
                    part_detail,
                    text,
                    lines,
                )
            )
    return _make(decl.span, name, _KIND[type(decl)], detail, text, lines, children)


def _make(span, name, kind, detail, text, lines, children=None) -> types.DocumentSymbol:
    start, end = name_span(text, span, name) if name else (span.start, span.start)
    return types.DocumentSymbol(
        name=name or "?",
        kind=kind,
        detail=detail or None,
        range=lines.range(span.start, span.end),
        selection_range=lines.range(start, end),
        children=children or None,
    )


def _detail(decl: ast.Node) -> str:
    if isinstance(decl, ast.RoleDecl | ast.AgentDecl | ast.ToolDecl | ast.HumanDecl):
        params = ", ".join(to_source(p) for p in decl.params)
        return f"({params}) -> {to_source(decl.returns)}"
    if isinstance(decl, ast.ModelDecl):
        return decl.provider
    if isinstance(decl, ast.McpDecl):
        return decl.address
    return ""


def _parts(decl: ast.Node) -> list[tuple[ast.Node, types.SymbolKind, str]]:
    if isinstance(decl, ast.TypeDecl):
        return [(f, K.Field, to_source(f.type)) for f in decl.fields]
    if isinstance(decl, ast.EnumDecl):
        return [(m, K.EnumMember, "") for m in decl.members]
    if isinstance(decl, ast.RoleDecl | ast.ToolDecl | ast.HumanDecl):
        return [(p, K.Variable, to_source(p.type)) for p in decl.params]
    if isinstance(decl, ast.AgentDecl):
        parts: list[tuple[ast.Node, types.SymbolKind, str]] = [
            (p, K.Variable, to_source(p.type)) for p in decl.params
        ]
        for statement in decl.body:
            if isinstance(statement, ast.NodeDecl):
                parts.append((statement, K.Object, statement.role))
            elif isinstance(statement, ast.Constraint):
                parts.append(
                    (statement, K.Boolean, f"{statement.mode} {to_source(statement.formula)}")
                )
        return parts
    return []
