"""Comment attachment in one merge per block (grammar/comments.py) places every comment
where the first implementation, which searched each block again for each comment, did.
That implementation is kept here as the oracle."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rolegraph.compiler import ast
from rolegraph.grammar import comments
from rolegraph.grammar.lexer import comment_sink, grammar_parser
from rolegraph.grammar.parser import parse_module

from .conftest import EXAMPLES

SOURCES = [p.read_text() for p in EXAMPLES]


def _place_by_search(node: ast.Node, comment, trivia) -> None:
    """One comment at a time: the statements of each block listed and searched again."""
    statements = comments._statements(node)
    for statement in statements:
        span = statement.span
        assert span is not None
        if span.start <= comment.offset < span.end:
            if comments._statements(statement):
                _place_by_search(statement, comment, trivia)
            else:
                trivia.setdefault(id(statement), comments._Trivia()).leading.append(comment)
            return
    ending_here = [
        s
        for s in statements
        if s.span and s.span.end_line == comment.line and s.span.end <= comment.offset
    ]
    if ending_here:
        owner = trivia.setdefault(id(ending_here[-1]), comments._Trivia())
        if owner.trailing is None:
            owner.trailing = comment.text
            return
    following = [s for s in statements if s.span and s.span.start > comment.offset]
    if following:
        trivia.setdefault(id(following[0]), comments._Trivia()).leading.append(comment)
    elif "end_comments" in type(node).model_fields:
        trivia.setdefault(id(node), comments._Trivia()).end.append(comment.text)
    else:
        trivia.setdefault(id(node), comments._Trivia()).leading.append(comment)


def _both(text: str) -> tuple[dict, dict]:
    """The module with comments attached by the oracle, and by the parser."""
    parsed = parse_module(text)
    assert parsed.module is not None, parsed.diagnostics
    comment_sink.tokens = []
    try:
        grammar_parser().parse(text)
        tokens = comment_sink.tokens
    finally:
        comment_sink.tokens = None
    # the parser's tree before attachment: the same tree, spans kept, no trivia attached
    plain = _without_comments(parsed.module)
    trivia: dict = {}
    for token in tokens:
        comment = comments._Comment(token.start_pos or 0, token.line or 1, str(token).rstrip())
        _place_by_search(plain, comment, trivia)
    expected = comments._rebuild(plain, trivia)
    return expected.model_dump(), parsed.module.model_dump()


def _without_comments(module: ast.Module) -> ast.Module:
    def strip(_: ast.Node, node: ast.Node) -> ast.Node:
        changes = {
            name: type(node).model_fields[name].default
            for name in ("comments", "trailing_comment", "blank_line_before", "end_comments")
            if name in type(node).model_fields
        }
        return node.model_copy(update=changes)

    return module.transform(strip)  # type: ignore[return-value]


def _code_lines(text: str) -> list[int]:
    inside = False
    result = []
    for index, line in enumerate(text.split("\n")):
        if not inside:
            result.append(index)
        if line.count('"""') % 2 == 1:
            inside = not inside
    return result


def test_every_example_attaches_as_the_oracle_does():
    for text in SOURCES:
        expected, found = _both(text)
        assert found == expected


@settings(
    max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    st.sampled_from(range(len(SOURCES))),
    st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), min_size=1, max_size=12),
)
def test_inserted_comments_attach_as_the_oracle_does(index, insertions):
    lines = SOURCES[index].split("\n")
    candidates = _code_lines(SOURCES[index])
    for number, (position, own_line) in enumerate(insertions):
        at = candidates[position % len(candidates)]
        if own_line or '"""' in lines[at]:
            lines.insert(at, f"// marker{number}")
            candidates = _code_lines("\n".join(lines))
        else:
            lines[at] = lines[at] + f"  // marker{number}"
    expected, found = _both("\n".join(lines))
    assert found == expected
