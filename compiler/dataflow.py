"""What an expression reads, and how: the one place that says which references make an
AND-join and which only read.

Four questions, four functions (use these; do not walk `find_all(ast.Ref)` again):

- `ref_heads(expr, among)`: every name the expression reads, of any kind (a node's
  output, its failure `x.error`, through `latest`/`history`, a parameter, an enum):
  what must exist when it is evaluated (races, dependencies, renaming, code generation);
- `joined_heads(expr)`: the nodes a firing *waits for* (the AND-join): plain references,
  not `x.error`, not inside `latest`/`history`;
- `plain_heads(expr)`: the references outside `latest`/`history`, `x.error` included:
  what the expression reads of the current firing's environment;
- `read_calls(expr)`: the `latest(x)` / `history(x)` reads themselves;
- `error_reads(expr)`: the `x.error` reads, each with where its value goes (as the
  whole expression, where none is defined, or otherwise used): the explorer proves the reads whose
  value must be a `str` (compiler/paths.py, "Reading `x.error`").

- A plain reference to a node (`writer`, `writer.text`) in a node's arguments joins: the
  node fires when every node it joins has a new output (DESIGN §3.2b).
- `x.error` reads x's failure (in `on error` handlers), not its output: no join.
- `latest(x)` reads x's latest output before the firing, without waiting for a new one;
  `history(x)` reads every output of x before the firing, in logical-time order (a
  `list`). Neither joins: a reviewer re-fired by a new test result reads the current
  code; a memory keeps every lesson.
"""

from __future__ import annotations

from collections.abc import Container, Iterator

from . import ast
from .builtins import takes_none

READS = ("latest", "history")


def ref_heads(expr: ast.Node | None, among: Container[str] | None = None) -> tuple[str, ...]:
    """The heads of every reference in `expr`, in source order, once each; with `among`,
    only those in it (the agent's nodes, say). None reads nothing.

    `critic.ok and latest(draft) != x.error` reads `("critic", "draft", "x")`.
    """
    if expr is None:
        return ()
    heads: dict[str, None] = {}
    for ref in expr.find_all(ast.Ref):
        if among is None or ref.head in among:
            heads[ref.head] = None
    return tuple(heads)


def reads_name(expr: ast.Node | None, name: str) -> bool:
    """Whether `expr` reads `name` (any reference headed by it: see `ref_heads`)."""
    return expr is not None and any(ref.head == name for ref in expr.find_all(ast.Ref))


def joined_heads(expr: ast.Node) -> tuple[str, ...]:
    """The heads of the references that make a join, in order, once each."""
    heads: dict[str, None] = {}
    for ref in _refs_outside_reads(expr):
        if tuple(ref.parts[1:]) != ("error",):
            heads[ref.head] = None
    return tuple(heads)


def plain_heads(expr: ast.Node) -> set[str]:
    """The heads of the references outside `latest(...)` / `history(...)` (`x.error`
    included): what the expression reads plainly."""
    return {ref.head for ref in _refs_outside_reads(expr)}


def read_calls(expr: ast.Node) -> Iterator[tuple[str, str]]:
    """`(function, node)` for each `latest(node)` / `history(node)` in `expr`."""
    for call in expr.find_all(ast.Call):
        if call.func in READS and len(call.args) == 1 and isinstance(call.args[0], ast.Ref):
            yield call.func, call.args[0].head


# where an `x.error` read's value goes (`error_reads`)
WHOLE = "whole"  # it is the whole expression: the place it is passed to decides
DEFINED = "defined"  # where none is defined: compared, or a built-in's argument taking none
USED = "used"  # anything else (`+`, a string's `contains` item): it must be a `str`


def error_reads(expr: ast.Node | None) -> list[tuple[ast.Ref, str]]:
    """The `x.error` references in `expr` (outside `latest`/`history`), in source order,
    each with where its value goes: `WHOLE`, `DEFINED` (an operand of a comparison, which
    is false with none, runtime/expressions.py; or an argument of a built-in at a place
    its implementation takes none, `builtins.takes_none`) or `USED`. Its head may be any
    name: the caller keeps those of nodes."""
    if expr is None:
        return []
    found: list[tuple[ast.Ref, str]] = []
    stack: list[tuple[ast.Node, str]] = [(expr, WHOLE)]
    while stack:
        node, how = stack.pop()
        if isinstance(node, ast.Ref):
            if len(node.parts) == 2 and node.parts[1] == "error":
                found.append((node, how))
            continue
        if isinstance(node, ast.Call):
            if node.func in READS:
                continue
            func = node.func
            stack.extend(
                (arg, DEFINED if takes_none(func, i) else USED)
                for i, arg in reversed(list(enumerate(node.args)))
            )
            continue
        inner = DEFINED if isinstance(node, ast.Compare) else USED
        stack.extend((child, inner) for child in reversed(list(node.children())))
    return found


def _refs_outside_reads(expr: ast.Node) -> Iterator[ast.Ref]:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call) and node.func in READS:
            continue
        if isinstance(node, ast.Ref):
            yield node
            continue
        stack.extend(reversed(list(node.children())))


def read_key(function: str, node: str) -> str:
    """Where a run's environment keeps what `latest(node)` / `history(node)` reads."""
    return f"{function} {node}"
