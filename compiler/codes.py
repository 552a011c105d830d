"""The registry of diagnostic codes: a title and a long explanation for each.

Codes are grouped by the phase that reports them: E01xx syntax (the front end),
E02xx names and imports, E03xx types, E04xx graph analyses, E05xx temporal
constraints. Warnings use W and the same numbering. `rolegraph explain CODE`
prints the explanation.
"""

from __future__ import annotations

from typing import NamedTuple


class CodeInfo(NamedTuple):
    title: str
    explanation: str


CODES: dict[str, CodeInfo] = {}


def _code(code: str, title: str, explanation: str) -> str:
    assert code not in CODES, code
    CODES[code] = CodeInfo(title, explanation)
    return code


# --- E01xx: syntax --------------------------------------------------------------------

UNEXPECTED_CHARACTER = _code(
    "E0100",
    "unexpected character",
    """
The lexer met a character that cannot start any token of the language here,
for example `$` or a stray backtick. Remove it, or put it inside a string.
""",
)

UNEXPECTED_TOKEN = _code(
    "E0101",
    "unexpected token",
    """
The parser met a token that cannot come at this point of the program. The
message says what could have come instead. Common causes: a missing comma
between arguments, a missing `)` or `}`, or a statement written outside an
agent body.

    critic = Critic(task draft: writer)     // error: expected `,` or `)`
    critic = Critic(task, draft: writer)    // fixed
""",
)

UNEXPECTED_EOF = _code(
    "E0102",
    "unexpected end of file",
    """
The file ended in the middle of a declaration: usually a block that was opened
with `{` (or a list with `[`, or arguments with `(`) and never closed. The note
points at the opening bracket.
""",
)

UNTERMINATED_STRING = _code(
    "E0103",
    "unterminated string",
    """
A string literal was opened with `"` and the line ended before the closing
quote. Strings in double quotes stay on one line; for a multi-line prompt use a
triple-quoted string:

    prompt \"\"\"
      Task: {{ task }}
    \"\"\"
""",
)

INVALID_ESCAPE = _code(
    "E0104",
    "invalid escape sequence",
    """
Inside strings, a backslash starts an escape: `\\n`, `\\t`, `\\r`, `\\\\`, `\\"`,
`\\0` and `\\u{1F600}` (a code point in hex). Any other character after a
backslash is an error; write `\\\\` for a literal backslash.
""",
)

KEYWORD_AS_NAME = _code(
    "E0105",
    "keyword used as a name",
    """
Keywords (`role`, `agent`, `model`, `max`, `when`, `return`, `next`, ...) are
reserved and cannot name a declaration, a node or a parameter. Record fields
and enum members are the exception: `type Job { type: str, max: int }` is fine.
Rename the thing, for example `model_` or `max_steps`.
""",
)

FAT_ARROW = _code(
    "E0106",
    "`=>` is not an edge",
    """
Edges are written with a thin arrow: `critic -> writer`. `=>` has no meaning in
the language.
""",
)

UNCLOSED_BLOCK = _code(
    "E0107",
    "unclosed block",
    """
A new top-level declaration started while a block was still open: a `}` is
missing. The label shows where the unclosed block began.
""",
)

DUPLICATE_ROLE_ITEM = _code(
    "E0108",
    "duplicate item in a role",
    """
A role has at most one `model`, one `system`, one `prompt` and one `tools`
line. Remove the duplicate, or merge the two texts into one.
""",
)

UNKNOWN_GENERIC = _code(
    "E0109",
    "unknown generic type",
    """
Only two types take type arguments: `list[T]` and `dict[str, T]`. For an
optional value write `T?`.
""",
)

BAD_BOUND = _code(
    "E0110",
    "invalid bound",
    """
Bounds (`max N` on an edge, a map or a tool loop, and `x N` replication) must
be whole numbers of at least 1: a bound of 0 would make the edge or node dead.
""",
)

BAD_ARGUMENT_ORDER = _code(
    "E0111",
    "positional argument after a named one",
    """
In a call, positional arguments come first and named ones after them:

    critic = Critic(task, draft: writer)    // ok
    critic = Critic(draft: writer, task)    // error
""",
)

DUPLICATE_ARGUMENT = _code(
    "E0112",
    "argument given twice",
    """
A call, a port binding or a model parameter block names the same parameter
twice. Keep one.
""",
)

INVALID_CONSTRUCT = _code(
    "E0113",
    "invalid construct",
    """
The text parses, but what it says cannot be represented: an enum with no
members, a positional port binding on an edge (`-> writer(critic.feedback)`
instead of `-> writer(feedback: critic.feedback)`), a float literal too large
for a float, or similar. The message says which.
""",
)
