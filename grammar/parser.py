"""The parse driver: `.agent` text → AST, or diagnostics.

The Lark parser (grammar/lexer.py) builds a parse tree; grammar/to_ast.py turns it into
AST nodes with spans. After a syntax error, parsing resumes at the next top-level
declaration (grammar/recovery.py finds them), so one run reports the first error of
every broken declaration. Checks the grammar cannot express are reported by the
transformer, so a tree that comes out of `parse_module` is always valid.
"""

from __future__ import annotations

import bisect
import gc
import threading
from dataclasses import dataclass
from typing import Any

from lark import Lark
from lark.exceptions import UnexpectedInput, VisitError
from lark.lexer import LexerState, LexerThread, LineCounter
from lark.utils import TextSlice

from rolegraph.compiler import ast
from rolegraph.compiler.diagnostics import Diagnostic, DiagnosticSink
from rolegraph.compiler.source import Source

from .comments import attach_comments
from .depth import nesting_diagnostics, without_deep_declarations
from .errors import syntax_diagnostic
from .lexer import GRAMMAR_PATH, comment_sink, grammar_parser, pattern_cache
from .recovery import declaration_starts
from .to_ast import ToAst

__all__ = ["GRAMMAR_PATH", "ParseResult", "grammar_parser", "parse_module"]

_parse_lock = threading.Lock()


@dataclass(frozen=True)
class ParseResult:
    """The module (None if there were errors) and every diagnostic found."""

    module: ast.Module | None
    diagnostics: tuple[Diagnostic, ...]
    source: Source

    @property
    def ok(self) -> bool:
        return self.module is not None


def parse_module(text: str, filename: str = "<string>") -> ParseResult:
    """Parse a whole `.agent` file. Never raises on bad input: errors are diagnostics.

    Syntax errors are recovered from at the next top-level declaration, so one run
    reports (at least) the first error of every broken declaration.
    """
    # Parsing allocates many short-lived objects and no cycles; the cyclic garbage
    # collector would otherwise take half the time (bench/RESULTS.md).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _parse(text, filename)
    finally:
        if collecting:
            gc.enable()
        pattern_cache().save()  # (when this parse compiled new ones)


def _parse(text: str, filename: str) -> ParseResult:
    source = Source(filename, text)
    text = source.text  # (without a byte order mark)
    parser = grammar_parser()
    sink = DiagnosticSink(filename, source)
    diagnostics = sink.found
    start = 0
    resumption: _Resumption | None = None
    with _parse_lock:
        while True:
            comment_sink.tokens = []
            try:
                tree = _parse_from(parser, source, start)
            except UnexpectedInput as error:
                diagnostic, position = syntax_diagnostic(error, source, begin=start)
                sink.extend([diagnostic])
                resumption = resumption or _Resumption(text)
                resume = resumption.after(position, start)
                if resume is None:
                    break
                start = resume
                continue
            finally:
                comments = comment_sink.tokens
                comment_sink.tokens = None
            too_deep = nesting_diagnostics(tree, source)
            sink.extend(too_deep)
            if too_deep:
                tree = without_deep_declarations(tree)
            if diagnostics:
                # A tail after an error, or a file with a declaration nested too deeply:
                # the other declarations' own errors still matter.
                _transform(ToAst(source), tree, sink)
                break
            module = _transform(ToAst(source), tree, sink)
            if module is None or diagnostics:
                break
            module = attach_comments(module, comments, source)
            return ParseResult(module, (), source)
    return ParseResult(None, tuple(diagnostics), source)


def _parse_from(parser: Lark, source: Source, start: int) -> Any:
    """The parse tree of the text from `start` (the beginning of a line) to the end.

    Positions stay those of the whole text. Lexing starts right at `start`, so each
    recovery after a syntax error costs the length of what it parses, not of the file:
    recovering from every error of a file takes time linear in its size.
    """
    if start == 0:
        return parser.parse(source.text)
    line, column = source.position(start)
    counter = LineCounter("\n")
    counter.char_pos = start
    counter.line = line
    counter.column = column
    counter.line_start_pos = start - column + 1
    frontend = parser.parser
    state = LexerState(TextSlice(source.text, start, len(source.text)), counter)
    return frontend.parser.parse(LexerThread(frontend.lexer, state), "start")


class _Resumption:
    """Where the parser may resume after a syntax error: the declaration starts of the
    text, found once per file (the scan is linear), then looked up by bisection."""

    def __init__(self, text: str):
        self.starts = declaration_starts(text)

    def after(self, error_offset: int, after: int) -> int | None:
        """The error token itself when it begins a declaration (the error then belongs to
        the declaration before it: a missing `}`), else the next declaration start.
        Always beyond `after`, so recovery makes progress."""
        index = bisect.bisect_left(self.starts, max(error_offset, after + 1))
        return self.starts[index] if index < len(self.starts) else None


def _transform(builder: ToAst, tree: Any, sink: DiagnosticSink) -> ast.Module | None:
    try:
        module = builder.transform(tree)
    except VisitError as error:  # pragma: no cover - a bug in a rule method, not user input
        raise error.orig_exc from error
    sink.extend(builder.sink.found)
    return module if isinstance(module, ast.Module) else None
