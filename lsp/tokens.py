"""The words, strings and comments of a `.agent` text, found without the parser.

The AST gives spans to statements and expressions, not to every name inside them
(`critic = Critic(task)` is one `NodeDecl`). The index finds the names of a node in the
words its span covers. The scan also works on text that does not parse, which is what
an editor holds most of the time, so completion reads the words before the cursor here.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

Kind = Literal["comment", "string", "name", "number", "arrow", "punct"]

_TOKEN = re.compile(
    r"(?P<comment>//[^\n]*)"
    r'|(?P<string>"""(?:[^"\\]|\\[\s\S]|"(?!""))*(?:"""|\Z)|"(?:[^"\\\n]|\\[^\n])*"?)'
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<arrow>->)"
    r"|(?P<punct>[^\sA-Za-z0-9_])"
)


class Token(NamedTuple):
    kind: Kind
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Tokens:
    """The tokens of a text in order, with lookups by offset."""

    text: str
    items: list[Token] = field(init=False, repr=False)
    _starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        make = Token._make  # (a tuple per token: a file has tens of thousands)
        items = [make((m.lastgroup, m.group(), *m.span())) for m in _TOKEN.finditer(self.text)]
        object.__setattr__(self, "items", items)
        object.__setattr__(self, "_starts", [t.start for t in items])

    def within(self, start: int, end: int) -> list[Token]:
        """The tokens that lie inside [start, end)."""
        first = bisect.bisect_left(self._starts, start)
        last = bisect.bisect_left(self._starts, end)
        return [t for t in self.items[first:last] if t.end <= end]

    def names(self, start: int, end: int) -> list[Token]:
        return [t for t in self.within(start, end) if t.kind == "name"]

    def index_at(self, offset: int) -> int:
        """The index of the token that contains `offset` or ends at it (a cursor just
        after a word is on that word); -1 when none does."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i >= 0 and self.items[i].start <= offset < self.items[i].end:
            return i
        if i >= 0 and self.items[i].end == offset:
            return i
        return -1

    def at(self, offset: int) -> Token | None:
        i = self.index_at(offset)
        return self.items[i] if i >= 0 else None

    def before(self, offset: int, count: int = 16) -> list[Token]:
        """The last `count` tokens that end at or before `offset`, comments left out,
        nearest last."""
        i = bisect.bisect_left(self._starts, offset)
        found: list[Token] = []
        while i > 0 and len(found) < count:
            i -= 1
            token = self.items[i]
            if token.end <= offset and token.kind != "comment":
                found.append(token)
        return found[::-1]


def string_body(token: Token) -> tuple[int, int]:
    """Where the characters between a string token's quotes are (offsets)."""
    quotes = 3 if token.text.startswith('"""') else 1
    closed = len(token.text) >= 2 * quotes and token.text.endswith('"' * quotes)
    return token.start + quotes, token.end - (quotes if closed else 0)
