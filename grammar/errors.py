"""Lark's syntax errors → diagnostics in human words.

A Lark error knows the token it met and the terminals it expected. This module
says that in words ("expected `,` or `)` after an argument, found `draft`"), points
at the token, and adds hints for the common slips: `=>` for `->`, a missing `}`, a
keyword used as a name, `=` for `:` in a named argument, and friends.
"""

from __future__ import annotations

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from rolegraph.compiler import ast, codes
from rolegraph.compiler.diagnostics import Diagnostic, Label, diagnostic
from rolegraph.compiler.source import Source, Span

from .recovery import scan_brackets

# How terminals read in a message. Keywords and punctuation read as themselves.
_TERMINAL_WORDS = {
    "NAME": "a name",
    "KEYWORD_AS_FIELD": "a name",
    "STRING": "a string",
    "LONG_STRING": "a string",
    "INT": "a whole number",
    "FLOAT": "a number",
    "CMP_OP": "a comparison",
    "REPLICATE": "`x N`",
    "ON_ERROR": "`on error`",
    "LTL_UNARY": "a temporal operator",
    "LTL_BINARY": "`until`, `release` or `since`",
    "CONSTRAINT_MODE": "`ensure` or `enforce`",
    "ARROW": "`->`",
    "$END": "the end of the file",
}

# Tokens that can start an expression; when all are expected we say "an expression".
_EXPRESSION_START = {
    "NAME",
    "STRING",
    "LONG_STRING",
    "INT",
    "FLOAT",
    "LPAR",
    "LSQB",
    "LBRACE",
    "TRUE",
    "FALSE",
    "NONE",
    "MINUS",
    "NOT",
}
_FORMULA_START = {"NAME", "LTL_UNARY", "LPAR", "NOT", "BANG", "TRUE", "FALSE", "START", "RETURN"}
_DECLARATION_START = {"IMPORT", "FROM", "MODEL", "TYPE", "ENUM", "ROLE", "TOOL", "AGENT"}
_ROLE_ITEMS = {"MODEL", "SYSTEM", "PROMPT", "TOOLS"}
_STATEMENT_START = {"NAME", "RETURN", "CONSTRAINT_MODE"}
# Tokens that would only continue what came before (an operator after an operand):
# listed last, and dropped when something else was expected too.
_CONTINUATIONS = {
    "DOT",
    "CMP_OP",
    "AND",
    "OR",
    "IN",
    "NOT",
    "LPAR",
    "LSQB",
    "QMARK",
    "AT",
    "LTL_BINARY",
    "__ANON_0",
    "__ANON_1",
    "KEYWORD_AS_FIELD",
}


def syntax_diagnostic(
    error: UnexpectedInput, source: Source, begin: int = 0
) -> tuple[Diagnostic, int]:
    """The diagnostic for a Lark error met by a parse that started at offset `begin`,
    and the offset at which it occurred. (Only the text from `begin` is read again, so
    a file's errors cost time linear in its size.)"""
    if isinstance(error, UnexpectedCharacters):
        return _unexpected_character(error, source), error.pos_in_stream or 0
    if isinstance(error, UnexpectedToken) and error.token.type != "$END":
        return _unexpected_token(error, source, begin), error.token.start_pos or 0
    return _unexpected_eof(error, source, begin), len(source.text)


def _diag(
    source: Source,
    code: str,
    message: str,
    span: Span,
    label: str = "",
    hints: tuple[str, ...] = (),
    labels: tuple[Label, ...] = (),
    notes: tuple[str, ...] = (),
) -> Diagnostic:
    return diagnostic(
        code,
        message,
        file=source.name,
        span=span,
        label=label,
        hints=hints,
        labels=labels,
        notes=notes,
    )


def _unexpected_character(error: UnexpectedCharacters, source: Source) -> Diagnostic:
    pos = error.pos_in_stream or 0
    text = source.text
    ch = text[pos] if pos < len(text) else ""
    if ch == '"':
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        if text.startswith('"""', pos - 2):  # the lexer read `""` as an empty string
            pos -= 2
        if text.startswith('"""', pos):
            return _diag(
                source,
                codes.UNTERMINATED_STRING,
                "unterminated triple-quoted string",
                source.span(pos, pos + 3),
                "this string is never closed",
                hints=('close it with `"""`',),
            )
        return _diag(
            source,
            codes.UNTERMINATED_STRING,
            "unterminated string",
            source.span(pos, end),
            "this string is never closed",
            hints=(
                'close the string with `"` on the same line; for several lines use `"""...."""`',
            ),
        )
    if text.startswith("=>", pos) or (ch == ">" and text[pos - 1 : pos] == "="):
        start = pos if ch == "=" else pos - 1
        return _diag(
            source,
            codes.FAT_ARROW,
            "`=>` is not an edge",
            source.span(start, start + 2),
            "write `->`",
            hints=("edges use `->`",),
        )
    hints: tuple[str, ...] = ()
    if ch == "'":
        hints = ('strings use double quotes: `"text"`',)
    elif ch == "#":
        hints = ("comments start with `//`",)
    elif ch in "&|" and text[pos : pos + 2] not in ("&&", "||"):
        hints = ("write `and` / `or`",)
    elif ch == "=" or ch == "!":
        hints = ("comparisons are `==` and `!=`",)
    shown = ch if ch.isprintable() and ch.strip() else repr(ch)
    return _diag(
        source,
        codes.UNEXPECTED_CHARACTER,
        f"unexpected character `{shown}`",
        source.span(pos, pos + 1),
        "not valid here",
        hints=hints,
    )


def _unexpected_eof(error: UnexpectedInput, source: Source, begin: int) -> Diagnostic:
    open_brackets = scan_brackets(source.text, len(source.text), begin)
    span = source.end_span()
    labels: tuple[Label, ...] = ()
    hints: tuple[str, ...] = ()
    expected = getattr(error, "expected", None) or getattr(error, "accepts", None) or set()
    if open_brackets:
        innermost = open_brackets[-1]
        closer = {"(": ")", "[": "]", "{": "}"}[innermost.char]
        labels = (
            Label(
                span=source.span(innermost.offset, innermost.offset + 1),
                message="opened here and never closed",
            ),
        )
        hints = (f"add the missing `{closer}`",)
        return _diag(
            source,
            codes.UNEXPECTED_EOF,
            f"unexpected end of file: `{closer}` missing",
            span,
            "the file ends here",
            hints=hints,
            labels=labels,
        )
    words = _describe_expected(set(expected))
    message = "unexpected end of file" + (f": expected {words}" if words else "")
    return _diag(source, codes.UNEXPECTED_EOF, message, span, "the file ends here")


def _exact_expected(error: UnexpectedToken) -> set[str]:
    """The terminals acceptable from the real parser stack. Lark's own `expected` is
    the LALR state's lookahead set, which merges unrelated contexts (`]` inside `(`)."""
    interactive = getattr(error, "interactive_parser", None)
    if interactive is not None:
        try:
            return set(interactive.accepts())
        except Exception:  # pragma: no cover - fall back to Lark's approximation
            pass
    return set(error.expected)


def _keyword_aware(token: Token) -> Token:
    """A keyword the root lexer read as a field name, given back its keyword kind."""
    if token.type == "KEYWORD_AS_FIELD":
        return Token(
            str(token).upper(),
            str(token),
            token.start_pos,
            token.line,
            token.column,
            token.end_line,
            token.end_column,
            token.end_pos,
        )
    return token


def _unexpected_token(error: UnexpectedToken, source: Source, begin: int) -> Diagnostic:
    token: Token = _keyword_aware(error.token)
    expected = _exact_expected(error)
    start = token.start_pos or 0
    span = source.span(start, token.end_pos or start + len(token))
    text = str(token)
    found = _describe_found(token)
    previous = _previous_token(error)

    if token.type == "CMP_OP" and text == ">" and source.text[start - 1 : start] == "=":
        return _diag(
            source,
            codes.FAT_ARROW,
            "`=>` is not an edge",
            source.span(start - 1, start + 1),
            "write `->`",
            hints=("edges use `->`",),
        )

    if _begins_line_with_declaration(token, source) and "RBRACE" in expected:
        opened = [b for b in scan_brackets(source.text, start, begin) if b.char == "{"]
        labels: tuple[Label, ...] = ()
        if opened:
            labels = (
                Label(
                    span=source.span(opened[-1].offset, opened[-1].offset + 1),
                    message="this block is not closed",
                ),
            )
        return _diag(
            source,
            codes.UNCLOSED_BLOCK,
            f"expected `}}` before `{text}`",
            span,
            "a new declaration starts here",
            labels=labels,
            hints=("add the missing `}` at the end of the block above",),
        )

    if text in ast.KEYWORDS and _used_as_name(source, token, expected):
        return _keyword_as_name(source, text, span)
    if (
        token.type == "EQUAL"
        and previous is not None
        and str(previous) in ast.KEYWORDS
        and previous.start_pos is not None
    ):
        # `return = W(q)`: the keyword was meant as a node name.
        return _keyword_as_name(
            source,
            str(previous),
            source.span(previous.start_pos, previous.start_pos + len(previous)),
        )

    hints = _hints(token, expected, previous, source)
    context = _context(expected, previous)
    if context == " after an argument":
        words = "`,` or `)`"
    elif context == " after a list item":
        words = "`,` or `]`"
    else:
        words = _describe_expected(expected)
    message = f"expected {words}{context}, found {found}" if words else f"unexpected {found}"
    return _diag(source, codes.UNEXPECTED_TOKEN, message, span, "unexpected here", hints=hints)


def _used_as_name(source: Source, token: Token, expected: set[str]) -> bool:
    """Whether a misplaced keyword reads as a name: one was expected, and what follows
    the keyword is what follows a name (`role model(`, `(max: int`, `a -> when`...)."""
    if "NAME" not in expected and "KEYWORD_AS_FIELD" not in expected:
        return False
    if expected <= {"NAME", "KEYWORD_AS_FIELD"}:
        return True
    rest = source.text[token.end_pos or 0 :].lstrip(" \t")
    return rest.startswith(("=", "(", ":", "->", ",", ")", "{", "[", ".")) and not rest.startswith(
        "=="
    )


def _keyword_as_name(source: Source, word: str, span: Span) -> Diagnostic:
    return _diag(
        source,
        codes.KEYWORD_AS_NAME,
        f"`{word}` is a keyword and cannot be used as a name",
        span,
        "keyword",
        hints=(f"rename it, for example `{word}_`",),
    )


def _previous_token(error: UnexpectedToken) -> Token | None:
    history = getattr(error, "token_history", None)
    if history:
        return history[-1]
    state = getattr(error, "state", None)
    values = getattr(state, "value_stack", None) if state is not None else None
    if values:
        last = values[-1]
        if isinstance(last, Token):
            return last
    return None


def _begins_line_with_declaration(token: Token, source: Source) -> bool:
    return token.column == 1 and token.type in _DECLARATION_START


def _describe_found(token: Token) -> str:
    text = str(token)
    if token.type in ("STRING", "LONG_STRING"):
        return "a string"
    if len(text) > 30:
        text = text[:27] + "..."
    return f"`{text}`"


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_WORDS:
        return _TERMINAL_WORDS[name]
    from .lexer import grammar_parser

    try:
        terminal = grammar_parser().get_terminal(name)
    except KeyError:
        return name.lower()
    pattern = terminal.pattern
    if pattern.type == "str":
        return f"`{pattern.value}`"
    return name.lower()


def _describe_expected(expected: set[str]) -> str:
    expected = set(expected)
    phrases: list[str] = []
    if expected >= _DECLARATION_START:
        phrases.append("a declaration (`role`, `agent`, `type`, `enum`, `model`, `tool`, `import`)")
        expected -= _DECLARATION_START
    if expected >= _ROLE_ITEMS:
        phrases.append("a role item (`model`, `system`, `prompt`, `tools`)")
        expected -= _ROLE_ITEMS
    if expected >= _STATEMENT_START:
        phrases.append("a statement (a node, an edge, `return`, `ensure`)")
        expected -= _STATEMENT_START
    if expected >= _FORMULA_START:
        phrases.append("a formula")
        expected -= _FORMULA_START
        expected -= _EXPRESSION_START
    if expected >= _EXPRESSION_START:
        phrases.append("an expression")
        expected -= _EXPRESSION_START
    primary = sorted(expected - _CONTINUATIONS, key=_order)
    secondary = sorted(expected & _CONTINUATIONS, key=_order)
    if phrases or primary:
        # What came before could be continued too; say only what would end or follow it.
        names = phrases + _unique(_describe_terminal(t) for t in primary)
    else:
        names = _unique(_describe_terminal(t) for t in secondary)
    if not names:
        return ""
    if len(names) > 6:
        names = [*names[:6], "..."]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]


def _unique(items) -> list[str]:
    seen: list[str] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


_PREFERRED_ORDER = ["COMMA", "RPAR", "RSQB", "RBRACE", "COLON", "EQUAL", "ARROW", "NAME"]


def _order(name: str) -> tuple[int, str]:
    return (
        _PREFERRED_ORDER.index(name) if name in _PREFERRED_ORDER else len(_PREFERRED_ORDER),
        name,
    )


def _context(expected: set[str], previous: Token | None) -> str:
    if previous is None:
        return ""
    if {"COMMA", "RPAR"} <= expected and previous.type not in ("LPAR", "COMMA"):
        return " after an argument"
    if {"COMMA", "RSQB"} <= expected and previous.type not in ("LSQB", "COMMA"):
        return " after a list item"
    if previous.type == "ARROW" and "RETURN" in expected:
        return " after `->`"
    return ""


def _hints(
    token: Token, expected: set[str], previous: Token | None, source: Source
) -> tuple[str, ...]:
    text = str(token)
    hints: list[str] = []
    if token.type == "EQUAL" and "COLON" in expected:
        hints.append("named arguments and fields use `:`, as in `draft: writer`")
    if token.type == "COLON" and "EQUAL" in expected:
        hints.append("nodes are declared with `=`, as in `writer = Writer(task)`")
    if "COMMA" in expected and token.type in _EXPRESSION_START | {"NAME"} and previous is not None:
        hints.append(f"add a `,` before `{text}`")
    if token.type == "WHEN" and previous is not None and previous.type == "INT":
        hints.append("write the condition before the bound: `a -> b when guard max 3`")
    if (
        previous is not None
        and previous.type == "NAME"
        and len(previous) > 1
        and (previous[0] == "x" and previous[1:].isdigit())
    ):
        hints.append(f"replication is written with a space: `x {previous[1:]}`")
    if token.type == "LBRACE" and "ARROW" in expected:
        hints.append(
            "a role or agent declares its result type: `role Writer(task: str) -> Answer {`"
        )
    if token.type == "NAME" and text in (
        "if",
        "while",
        "def",
        "fn",
        "func",
        "function",
        "let",
        "var",
        "const",
        "class",
    ):
        hints.append(f"`{text}` is not part of the language; see docs/language.md")
    if token.type in ("AND", "OR", "NOT") and "NAME" in expected:
        hints.append(f"`{text}` is a keyword")
    return tuple(hints)
