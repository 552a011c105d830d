"""The nesting limit on source text: a declaration's parse tree is at most
`MAX_NESTING` levels deep.

The LALR parser itself never recurses, whatever the input; everything after it walks
trees recursively (the printer, the checker, pydantic's equality...). So the parse tree
is measured here, iteratively, before it becomes an AST: a declaration that nests too
deeply is an E0114 diagnostic at the place it goes past the limit, and is left out.
"""

from __future__ import annotations

from typing import Any

from lark import Tree

from rolegraph.compiler import codes
from rolegraph.compiler.depth import MAX_NESTING
from rolegraph.compiler.diagnostics import Diagnostic, diagnostic
from rolegraph.compiler.source import Source

#: The rule of the placeholder that stands for a declaration left out.
TOO_DEEP = "too_deep"


def nesting_diagnostics(tree: Tree, source: Source, limit: int = MAX_NESTING) -> list[Diagnostic]:
    """One E0114 per top-level declaration of `tree` deeper than `limit` levels."""
    found = []
    for declaration in _declarations(tree):
        level = _first_past(declaration, limit)
        if level is not None:
            found.append(_too_deep(level, source, limit))
    return found


def without_deep_declarations(tree: Tree, limit: int = MAX_NESTING) -> Tree:
    """`tree` with each declaration deeper than `limit` replaced by a `too_deep` leaf."""
    children = [
        Tree(TOO_DEEP, []) if _first_past(child, limit) is not None else child
        for child in tree.children
    ]
    return Tree(tree.data, children, tree.meta)


def _declarations(tree: Tree) -> list[Any]:
    return [child for child in tree.children if isinstance(child, Tree)]


def _first_past(declaration: Tree, limit: int) -> Tree | None:
    """The first subtree (in source order) at level `limit + 1`, the declaration being
    level 1; None when the declaration is shallow enough."""
    stack: list[tuple[Tree, int]] = [(declaration, 1)]
    while stack:
        tree, level = stack.pop()
        if level > limit:
            return tree
        stack.extend(
            (child, level + 1) for child in reversed(tree.children) if isinstance(child, Tree)
        )
    return None


def _too_deep(tree: Tree, source: Source, limit: int) -> Diagnostic:
    start = getattr(tree.meta, "start_pos", 0) if not tree.meta.empty else 0
    return diagnostic(
        codes.NESTING_TOO_DEEP,
        f"this declaration nests more than {limit} levels deep",
        file=source.name,
        span=source.span(start, start + 1),
        label=f"level {limit + 1} starts here",
        hints=("name the parts: a node for a sub-result, a record type for a nested type",),
        notes=(
            f"brackets, operators, type arguments and dict entries count one level each; "
            f"rolegraph reads at most {limit}",
        ),
    )
