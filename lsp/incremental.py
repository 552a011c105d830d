"""Parse again only the top-level declarations an edit touched.

A keystroke changes one declaration; parsing the whole file again costs time
proportional to the file (bench/RESULTS.md: about a third of a second for 2,000 lines).
The parser already knows where a declaration begins (`declaration_starts`: a line that
starts with `role`, `agent`, ... in column 1, outside strings), and the grammar is a
plain sequence of declarations, so a text whose declarations each parse on its own
parses as their concatenation — the same tree, with the same spans, as long as each
declaration is parsed at its place in the file. This parser keeps the declarations of
the last text by their source, reuses those an edit left alone (moved by the lines and
characters inserted before them), and parses the others at their place. When any
declaration has a syntax error, it parses the whole text, so the diagnostics are
exactly the parser's.

What it gives up: comments between declarations are attached within each declaration's
chunk, not as the whole-file parse would; the checker ignores comments, and formatting
always parses the whole text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from rolegraph.compiler import ast
from rolegraph.compiler.source import Source, Span
from rolegraph.grammar import ParseResult, parse_module
from rolegraph.grammar.recovery import declaration_starts


@dataclass(frozen=True)
class _Parsed:
    offset: int
    line: int
    decls: tuple[ast.Node, ...]


class IncrementalParser:
    """`parse(text)` as `parse_module(text, filename)` would, reusing the declarations
    of the previous call that the text still has."""

    def __init__(self, filename: str):
        self.filename = filename
        self._chunks: dict[str, _Parsed] = {}
        self.reparsed = 0  # declarations parsed by the last call (for tests and benches)

    def parse(self, text: str) -> ParseResult:
        chunks = _chunks(text)
        if chunks is None or not self._chunks:
            return self._whole(text, chunks)
        decls: list[ast.Node] = []
        kept: dict[str, _Parsed] = {}
        self.reparsed = 0
        line = 1
        previous_end = 0
        for start, end in chunks:
            line += text.count("\n", previous_end, start)
            previous_end = start
            chunk = text[start:end]
            parsed = self._chunks.get(chunk)
            if parsed is None:
                self.reparsed += 1
                result = parse_module(_placed(chunk, start, line), self.filename)
                if result.module is None:
                    return self._whole(text, chunks)
                parsed = _Parsed(start, line, result.module.decls)
            if parsed.offset != start:
                moved = tuple(
                    _shift(d, line - parsed.line, start - parsed.offset) for d in parsed.decls
                )
                parsed = _Parsed(start, line, moved)
            kept[chunk] = parsed
            decls.extend(parsed.decls)
        self._chunks = kept
        source = Source(self.filename, text)
        module = ast.Module(
            decls=tuple(decls), filename=self.filename, span=_module_span(source, decls)
        )
        return ParseResult(module, (), source)

    def _whole(self, text: str, chunks: list[tuple[int, int]] | None) -> ParseResult:
        """Parse all of `text`; remember its declarations by chunk for the next call."""
        self.reparsed = -1
        result = parse_module(text, self.filename)
        self._chunks = {}
        if result.module is None or chunks is None:
            return result
        decls = list(result.module.decls)
        line = 1
        previous_end = 0
        for start, end in chunks:
            line += text.count("\n", previous_end, start)
            previous_end = start
            mine = []
            while decls and decls[0].span is not None and decls[0].span.start < end:
                mine.append(decls.pop(0))
            self._chunks[text[start:end]] = _Parsed(start, line, tuple(mine))
        return result


def _module_span(source: Source, decls: list[ast.Node]) -> Span | None:
    """Where the whole-text parse puts a module: from its first declaration to the end."""
    first = decls[0].span if decls else None
    return source.span(first.start, len(source.text.rstrip())) if first else None


def _chunks(text: str) -> list[tuple[int, int]] | None:
    """The (start, end) of each declaration, the text before the first one joined to
    it; None when there is none, or code (not comments) stands before the first."""
    starts = declaration_starts(text)
    if not starts:
        return None
    head = text[: starts[0]]
    if any(line.strip() and not line.strip().startswith("//") for line in head.splitlines()):
        return None
    bounds = [0, *starts[1:], len(text)]
    return list(itertools.pairwise(bounds))


def _node_classes() -> frozenset[type]:
    classes: set[type] = set()
    pending: list[type] = [ast.Node]
    while pending:
        cls = pending.pop()
        classes.add(cls)
        pending.extend(cls.__subclasses__())
    return frozenset(classes)


# (pydantic's `isinstance` on model classes is slow: a set of classes is ten times faster)
_NODES = _node_classes()


def _placed(chunk: str, offset: int, line: int) -> str:
    """`chunk` after blanks that put it at `offset`, on line `line`, column 1: the lexer
    skips them in one match and every span comes out as in the whole text (cheaper than
    moving the spans of a large declaration afterwards)."""
    newlines = line - 1
    return " " * (offset - newlines) + "\n" * newlines + chunk


def _shift(node: ast.Node, lines: int, chars: int) -> ast.Node:
    """A copy of `node` with every span moved by `lines` and `chars` (columns stay: a
    declaration starts in column 1)."""
    changes: dict[str, object] = {}
    for name in _semantic_fields(type(node)):
        value = getattr(node, name)
        if type(value) in _NODES:
            changes[name] = _shift(value, lines, chars)
        elif type(value) is tuple and value:
            items = [_shift(v, lines, chars) if type(v) in _NODES else v for v in value]
            changes[name] = tuple(items)
    span = node.span
    if span is not None:
        # (a validated Span is the cheapest to make: pydantic's core builds it)
        changes["span"] = Span(
            line=span.line + lines,
            column=span.column,
            end_line=span.end_line + lines,
            end_column=span.end_column,
            start=span.start + chars,
            end=span.end + chars,
        )
    return node.model_copy(update=changes)


_FIELDS: dict[type, tuple[str, ...]] = {}


def _semantic_fields(cls: type) -> tuple[str, ...]:
    if cls not in _FIELDS:
        _FIELDS[cls] = tuple(name for name in cls.model_fields if name not in ast.TRIVIA)  # type: ignore[attr-defined]
    return _FIELDS[cls]
