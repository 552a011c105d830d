"""Comments and blank lines: attached to statements as trivia, so `fmt` keeps them.

Each `// comment` goes to the innermost statement that can hold it: as a *trailing*
comment of the statement that ends on its line, else as a *leading* comment of the
next statement in the same block, else as an *end comment* of the block itself.
A blank line between two statements of a block is kept as `blank_line_before`.
Comments are kept verbatim, `//` included; in a group of leading comments, "" stands
for a blank line (after a file's header comment, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from lark import Token

from rolegraph.compiler import ast
from rolegraph.compiler.source import Source


@dataclass
class _Comment:
    offset: int
    line: int
    text: str


@dataclass
class _Trivia:
    leading: list[_Comment] = field(default_factory=list)
    trailing: str | None = None
    end: list[str] = field(default_factory=list)


def attach_comments(module: ast.Module, tokens: Sequence[Token], source: Source) -> ast.Module:
    comments = [_Comment(t.start_pos or 0, t.line or 1, str(t).rstrip()) for t in tokens]
    comments.sort(key=lambda c: c.offset)
    trivia: dict[int, _Trivia] = {}
    _place(module, comments, trivia)
    return _rebuild(module, trivia)  # type: ignore[return-value]


def _statements(node: ast.Node) -> list[ast.Statement]:
    items = [c for c in node.children() if isinstance(c, ast.Statement) and c.span is not None]
    return sorted(items, key=lambda s: s.span.start)  # type: ignore[union-attr]


def _place(node: ast.Node, comments: list[_Comment], trivia: dict[int, _Trivia]) -> None:
    """Place `comments` (in source order, all within `node`) in one merge of them with
    the node's statements (in source order, none overlapping another): each block's
    statements are listed once, whatever the number of comments in it."""
    statements = _statements(node)
    inside: dict[int, list[_Comment]] = {}  # comments of statements that hold statements
    holders: dict[int, ast.Statement] = {}
    index = 0
    for comment in comments:
        while index < len(statements) and statements[index].span.end <= comment.offset:  # type: ignore[union-attr]
            index += 1
        if index < len(statements) and statements[index].span.start <= comment.offset:  # type: ignore[union-attr]
            statement = statements[index]  # the comment is inside it
            if id(statement) in holders or _statements(statement):
                holders[id(statement)] = statement
                inside.setdefault(id(statement), []).append(comment)
            else:
                trivia.setdefault(id(statement), _Trivia()).leading.append(comment)
            continue
        # the last statement before the comment, if it ends on the comment's line
        before = statements[index - 1] if index else None
        if before is not None and before.span.end_line == comment.line:  # type: ignore[union-attr]
            owner = trivia.setdefault(id(before), _Trivia())
            if owner.trailing is None:
                owner.trailing = comment.text
                continue
        if index < len(statements):  # the next statement
            trivia.setdefault(id(statements[index]), _Trivia()).leading.append(comment)
        elif "end_comments" in type(node).model_fields:
            trivia.setdefault(id(node), _Trivia()).end.append(comment.text)
        else:
            # A block with no place for end comments (a parameter list): keep the comment
            # above its owner rather than lose it.
            trivia.setdefault(id(node), _Trivia()).leading.append(comment)
    for key, held in inside.items():
        _place(holders[key], held, trivia)


def _rebuild(node: ast.Node, trivia: dict[int, _Trivia]) -> ast.Node:
    updates: dict[str, object] = {}
    statements = _statements(node)
    previous_end_line: int | None = None
    blank_before: dict[int, bool] = {}
    for statement in statements:
        assert statement.span is not None
        own = trivia.get(id(statement))
        first_line = statement.span.line
        if own and own.leading:
            first_line = min(first_line, own.leading[0].line)
        if previous_end_line is not None:
            blank_before[id(statement)] = first_line - previous_end_line > 1
        previous_end_line = statement.span.end_line

    for name in node._semantic_fields:
        value = getattr(node, name)
        if isinstance(value, ast.Statement):
            rebuilt = _rebuild_statement(value, trivia, blank_before)
            if rebuilt is not value:
                updates[name] = rebuilt
        elif isinstance(value, tuple) and any(isinstance(v, ast.Statement) for v in value):
            items = tuple(
                _rebuild_statement(v, trivia, blank_before) if isinstance(v, ast.Statement) else v
                for v in value
            )
            if any(a is not b for a, b in zip(items, value, strict=True)):
                updates[name] = items
    own = trivia.get(id(node))
    if own and own.end:
        updates["end_comments"] = tuple(own.end)
    return node.model_copy(update=updates) if updates else node


def _comment_group(comments: list[_Comment], statement: ast.Statement) -> tuple[str, ...]:
    """The comment lines above a statement; "" stands for a blank line kept among them."""
    lines: list[str] = []
    for index, comment in enumerate(comments):
        if index and comment.line - comments[index - 1].line > 1:
            lines.append("")
        lines.append(comment.text)
    assert statement.span is not None
    if statement.span.line - comments[-1].line > 1 and comments[-1].line < statement.span.line:
        lines.append("")
    return tuple(lines)


def _rebuild_statement(
    statement: ast.Statement, trivia: dict[int, _Trivia], blank_before: dict[int, bool]
) -> ast.Statement:
    rebuilt = _rebuild(statement, trivia)
    own = trivia.get(id(statement))
    updates: dict[str, object] = {}
    if blank_before.get(id(statement), False):
        updates["blank_line_before"] = True
    if own:
        if own.leading:
            updates["comments"] = _comment_group(own.leading, statement)
        if own.trailing is not None:
            updates["trailing_comment"] = own.trailing
    if not updates:
        return rebuilt
    return rebuilt.model_copy(update=updates)  # type: ignore[return-value]
