"""Structure found without the parser, for error recovery and better messages.

`scan_brackets` walks the text once, skipping strings and comments, and reports the
brackets still open at a position. `declaration_starts` finds where the parser can
resume after a syntax error: the lines that start, in column 1 and outside any string,
with a top-level declaration. Both are linear in the text they read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_DECLARATION_START = re.compile(
    r"(?:import|from|type|enum|role|agent)(?![A-Za-z0-9_])"
    r"|model[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*="
    r"|tool[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\("
    r"|human[ \t]+[A-Za-z_][A-Za-z0-9_]*[ \t]*\("
)
_PAIRS = {")": "(", "]": "[", "}": "{"}


@dataclass(frozen=True)
class OpenBracket:
    char: str
    offset: int


def _code_positions(text: str, end: int, begin: int = 0):
    """Yield (offset, char) for characters outside strings and comments, from `begin`
    (where no string or comment is open) up to `end`."""
    i = begin
    n = min(end, len(text))
    while i < n:
        ch = text[i]
        if ch == "/" and text.startswith("//", i):
            newline = text.find("\n", i)
            i = len(text) if newline == -1 else newline
            continue
        if ch == '"':
            if text.startswith('"""', i):
                close = text.find('"""', i + 3)
                while close != -1 and _escaped(text, close):
                    close = text.find('"""', close + 1)
                i = len(text) if close == -1 else close + 3
            else:
                j = i + 1
                while j < len(text) and text[j] not in '"\n':
                    j += 2 if text[j] == "\\" else 1
                i = j + 1
            continue
        yield i, ch
        i += 1


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and text[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def scan_brackets(text: str, end: int, begin: int = 0) -> list[OpenBracket]:
    """The brackets opened from `begin` and still open at offset `end`, outermost first."""
    stack: list[OpenBracket] = []
    for offset, ch in _code_positions(text, end, begin):
        if ch in "([{":
            stack.append(OpenBracket(ch, offset))
        elif ch in ")]}" and stack and stack[-1].char == _PAIRS[ch]:
            stack.pop()
    return stack


def declaration_starts(text: str) -> list[int]:
    """Offsets of lines that begin (column 1, outside strings) a top-level declaration."""
    candidates = [m.start() for m in re.finditer(r"^(?=[a-z])", text, re.MULTILINE)]
    candidates = [c for c in candidates if _DECLARATION_START.match(text, c)]
    if not candidates:
        return []
    code = {offset for offset, _ in _code_positions(text, len(text))}
    return [c for c in candidates if c in code]
