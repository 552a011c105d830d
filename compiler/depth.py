"""How deeply input may nest, and the checks that hold it there without recursing.

Trees are walked recursively in many places (the printer, the type checker, the
expression evaluator, pydantic's equality), and Python's stack is about a thousand
frames. So nesting is bounded where input enters, by checks that are themselves
iterative, and every stage after them can recurse safely:

- source text: a declaration's parse tree is at most `MAX_NESTING` levels deep
  (grammar/depth.py reports E0115 where it goes past);
- agents used as nodes: calls nest at most `MAX_AGENT_NESTING` levels (compiler/check.py
  reports E0409), since the IR and a run nest one level per call;
- JSON (run inputs, edit proposals, dataset lines, model replies): at most
  `MAX_JSON_NESTING` levels of arrays and objects (`loads_json`);
- prompt templates: at most `MAX_TEMPLATE_NESTING` levels of jinja blocks, brackets
  and operators (`template_too_deep`), since jinja's own parser recurses;
- an AST built without the parser (in Python): `first_too_deep`, the same bound in AST
  nodes (compiler/check.py reports E0115, through `too_deep_declarations`, which
  measures only the nodes it has not measured before).
"""

from __future__ import annotations

import json
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import compress, count
from operator import is_not
from typing import Any

from jinja2 import Environment, TemplateSyntaxError

#: Levels in the parse tree of one declaration: the declaration, a statement, and each
#: bracket, operator, type argument and dict entry inside it count one.
MAX_NESTING = 64

#: Levels of agents used as nodes of agents used as nodes... (an agent of roles is one).
MAX_AGENT_NESTING = 32

#: Levels of arrays and objects in a JSON value.
MAX_JSON_NESTING = 100

#: Levels of a template: the blocks open around a tag, and the brackets, operators,
#: attribute accesses and filters inside it.
MAX_TEMPLATE_NESTING = 20

# A JSON string (whole, so that brackets inside it are skipped), or a bracket.
_JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]', re.DOTALL)


def json_too_deep(text: str, limit: int = MAX_JSON_NESTING) -> int | None:
    """The offset of the bracket that opens level `limit + 1` of `text`, or None.

    Reads the text once, left to right, with no recursion and no parse: strings are
    skipped whole, so `"[[["` nests nothing.
    """
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for match in _JSON_STRUCTURE.finditer(text):
        char = text[match.start()]
        if char in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def loads_json(text: str, *, limit: int = MAX_JSON_NESTING, **options: Any) -> Any:
    """`json.loads`, refusing values nested more than `limit` levels deep.

    A value too deep raises `json.JSONDecodeError` (a `ValueError`) at the bracket that
    goes past the limit, so every caller that handles malformed JSON handles it too,
    and says where. (`json.loads` itself would recurse, and fail with a RecursionError
    that depends on how deep the caller's own stack is.)
    """
    offset = json_too_deep(text, limit)
    if offset is not None:
        raise json.JSONDecodeError(
            f"nested more than {limit} levels deep (the limit)", text, offset
        )
    return json.loads(text, **options)


@dataclass(frozen=True)
class TooDeep:
    """Where a template goes past `MAX_TEMPLATE_NESTING`: the line within the template."""

    line: int
    limit: int = MAX_TEMPLATE_NESTING


# Jinja block tags that open a level, closed by `end<name>` (`set` only without `=`).
_OPENING_BLOCKS = frozenset(
    {"if", "for", "macro", "call", "filter", "with", "autoescape", "block", "trans"}
)
# Operators that add no level: closing brackets, separators, keyword arguments.
_FLAT_OPERATORS = frozenset({")", "]", "}", ",", ":", "="})
# Words that are operators inside a tag.
_OPERATOR_WORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})


def template_too_deep(tokens: Any, limit: int = MAX_TEMPLATE_NESTING) -> TooDeep | None:
    """Where jinja tokens (from `Environment.lex`) nest past `limit`, or None.

    Jinja's parser recurses a dozen frames per bracket, its compiler once or more per
    operator (`a and b and c` is a nested tree), and Python refuses code with more than
    20 nested loops; so the count is conservative: the blocks open around a tag, plus
    every bracket, operator, attribute access and filter inside it.
    """
    blocks = 0
    levels = 0  # inside the current tag
    name: str | None = None  # a block tag's name (`if`, `endfor`...)
    assigns = False
    for line, kind, value in tokens:
        if kind in ("block_begin", "variable_begin"):
            levels, name, assigns = 0, "" if kind == "block_begin" else None, False
        elif kind == "block_end":
            if name in _OPENING_BLOCKS or (name == "set" and not assigns):
                blocks += 1
            elif name and name.startswith("end"):
                blocks = max(0, blocks - 1)
        elif kind == "name" and name == "":
            name = value
        elif kind == "operator":
            assigns = assigns or value == "="
            levels += value not in _FLAT_OPERATORS
        elif kind == "name" and value in _OPERATOR_WORDS:
            levels += 1
        if blocks + levels > limit:
            return TooDeep(line, limit)
    return None


class TemplateTooDeep(TemplateSyntaxError):
    """A template nested past `MAX_TEMPLATE_NESTING` (a syntax error jinja never sees)."""


def refuse_deep_template(text: str, environment: Environment) -> None:
    """Raise `TemplateTooDeep` when `text` nests past the limit; call before jinja parses
    it. (A template jinja cannot even lex is left for jinja's own parse to report.)"""
    try:
        too_deep = template_too_deep(environment.lex(text))
    except TemplateSyntaxError:
        return
    if too_deep is not None:
        raise TemplateTooDeep(
            f"the template nests more than {too_deep.limit} levels deep (blocks around a "
            "tag, and brackets, operators, attribute accesses and filters inside it)",
            too_deep.line,
        )


#: The same bound on a tree built without the parser (in Python, by edits): its levels of
#: AST nodes, with room for the node or two the parser's tree has no level for (a
#: condition in a formula is `LtlHolds(Compare(...))`), so that no parsed program fails it.
MAX_AST_NESTING = MAX_NESTING + 4


def first_too_deep(node: Any, limit: int = MAX_AST_NESTING) -> Any | None:
    """The first AST node (depth first) at level `limit + 1`, `node` being level 1; None
    when the tree is shallow enough. Iterative, so any depth is measured safely."""
    children_of = _children_of()
    nodes, levels = [node], [1]
    while nodes:
        current, level = nodes.pop(), levels.pop()
        if level > limit:
            return current
        children = children_of(current)  # (a new list: reversed in place)
        if children:
            children.reverse()
            nodes += children
            levels += [level + 1] * len(children)
    return None


_AST: list[Any] = []


def _ast() -> Any:
    """The AST module, imported at the first walk (importing this module stays cheap: it
    checks JSON and templates where no AST is loaded)."""
    if not _AST:
        from . import ast

        _AST.append(ast)
    return _AST[0]


def _children_of() -> Callable[[Any], list[Any]]:
    return _ast().child_nodes  # type: ignore[no-any-return]


def _parts(node: Any) -> list[Any]:
    """The child nodes of a node with a body (an agent, a test block), in no particular
    order. Its statements are nodes by their type, so they are taken without the
    `isinstance` that `ast.child_nodes` asks of each (pydantic's, which is slow)."""
    ast = _ast()
    parts = list(node.body)
    for name in ast.node_fields(type(node)):
        if name != "body":
            value = getattr(node, name)
            if isinstance(value, ast.Node):
                parts.append(value)
            elif type(value) is tuple:
                parts.extend(item for item in value if isinstance(item, ast.Node))
    return parts


# limit → {id(node): the node, weakly}: the nodes measured at most `limit` levels deep.
# Nodes are immutable, and an edited program shares all but a few declarations with the
# program it was made from, and an edited agent all but a few statements with the agent
# it was made from: so an editor's check measures only what is new. The weak reference is
# the guard: an id is the node's only while the node lives (a dead node's entry goes with
# it; an id reused by a newer node finds the reference dead or not that node).
_SHALLOW: dict[int, dict[int, weakref.ref]] = {}
_SHALLOW_MAX = 65_536  # entries per limit; all are dropped when one more would pass it
# limit → the parts of the last node with a body (an agent) found shallow at that limit,
# held, so that each id is its node's (an edited agent's next check shares all but a few
# of them)
_LAST_PARTS: dict[int, list[Any]] = {}


def clear_measured() -> None:
    """Forget every node measured shallow (a check then measures every node again)."""
    _SHALLOW.clear()
    _LAST_PARTS.clear()


def _measured(limit: int) -> dict[int, weakref.ref]:
    known = _SHALLOW.get(limit)
    if known is None:
        known = _SHALLOW[limit] = {}
    return known


def _forget(known: dict[int, weakref.ref], key: int, gone: weakref.ref) -> None:
    if known.get(key) is gone:  # (not a newer node's entry at that address)
        del known[key]


def measured_shallow(node: Any, limit: int = MAX_AST_NESTING) -> bool:
    """Whether `node` nests at most `limit` levels (it being level 1), remembered for the
    nodes that do. A node with statements (an agent) is as deep as its deepest statement
    plus one (as every node is): each statement is measured, and remembered, alone."""
    known = _measured(limit)
    seen = known.get(id(node))
    if seen is not None and seen() is node:
        return True
    if isinstance(getattr(node, "body", None), tuple) and limit > 1:
        if not _parts_shallow(_parts(node), limit - 1):
            return False
    elif first_too_deep(node, limit) is not None:
        return False
    if len(known) >= _SHALLOW_MAX:
        known.clear()
    key = id(node)
    known[key] = weakref.ref(node, partial(_forget, known, key))
    return True


def _parts_shallow(parts: list[Any], limit: int) -> bool:
    """Whether each of `parts` nests at most `limit` levels. Those that were parts of the
    last node with a body found shallow at this limit (`_LAST_PARTS`) are; the others are
    looked up, or measured (`_others`): an edited agent's check looks at the few
    statements the edit made, not at each of the agent's."""
    last = _LAST_PARTS.get(limit)
    below = _measured(limit).get
    for child in _others(parts, last) if last is not None else parts:
        seen = below(id(child))
        if (seen is None or seen() is not child) and not measured_shallow(child, limit):
            return False
    _LAST_PARTS[limit] = parts
    return True


def _others(parts: list[Any], last: list[Any]) -> list[Any]:
    """The `parts` between the longest run at their start and the longest at their end
    that are `last`'s, place by place (an edit replaces, adds or removes statements in
    few places): the others are among `last` (held, so their ids are theirs). Compared
    in C."""
    both = min(len(parts), len(last))
    start = next(compress(count(), map(is_not, parts, last)), both)
    end = next(compress(count(), map(is_not, reversed(parts), reversed(last))), both)
    return parts[start : max(start, len(parts) - end)]


def too_deep_declarations(
    decls: Iterable[Any], limit: int = MAX_AST_NESTING
) -> list[tuple[Any, Any]]:
    """(declaration, its first node at level `limit + 1`) for each declaration that nests
    past `limit`, in order. Declarations measured shallow before are only looked up."""
    found = []
    known = _measured(limit).get
    for decl in decls:
        seen = known(id(decl))  # (inline: in an edited program most declarations are known)
        if (seen is None or seen() is not decl) and not measured_shallow(decl, limit):
            found.append((decl, first_too_deep(decl, limit)))
    return found
