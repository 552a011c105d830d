"""Offsets and LSP positions, and offsets between two versions of a text.

The compiler counts characters (code points); LSP counts UTF-16 code units unless the
client and the server agree on another encoding. `LineIndex` converts between the two
for one text. `OffsetMap` relates offsets of an earlier text to a later one, so an
analysis of the last text that parsed still answers about what the user sees now.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from lsprotocol import types


@dataclass(frozen=True)
class LineIndex:
    """Line starts of a text, and the unit LSP columns count in ("utf-16", "utf-32",
    "utf-8")."""

    text: str
    encoding: str = "utf-16"
    _starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "_starts", starts)

    def _units(self, chars: str) -> int:
        if self.encoding == "utf-32" or chars.isascii():
            return len(chars)
        if self.encoding == "utf-8":
            return len(chars.encode("utf-8"))
        return len(chars.encode("utf-16-le")) // 2

    def position(self, offset: int) -> types.Position:
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._starts, offset) - 1
        return types.Position(line, self._units(self.text[self._starts[line] : offset]))

    def range(self, start: int, end: int) -> types.Range:
        return types.Range(self.position(start), self.position(max(start, end)))

    def offset(self, position: types.Position) -> int:
        """The offset of an LSP position (clamped into the text and into its line)."""
        if position.line >= len(self._starts):
            return len(self.text)
        start = self._starts[max(0, position.line)]
        end = (
            self._starts[position.line + 1] - 1
            if position.line + 1 < len(self._starts)
            else len(self.text)
        )
        line = self.text[start:end]
        if line.isascii() or self.encoding == "utf-32":
            return start + min(position.character, len(line))
        units = 0
        for index, ch in enumerate(line):
            if units >= position.character:
                return start + index
            units += self._units(ch)
        return end


@dataclass(frozen=True)
class OffsetMap:
    """Offsets of `old` ↔ offsets of `new`, for an edit between them: the text before
    the first difference and after the last one is the same, shifted. A keystroke, a
    paste or a deletion is one such edit; offsets inside the edited region have no
    counterpart (None)."""

    old: str
    new: str
    prefix: int = field(init=False)
    suffix: int = field(init=False)

    def __post_init__(self) -> None:
        limit = min(len(self.old), len(self.new))
        prefix = _common_prefix(self.old, self.new, limit)
        suffix = _common_prefix(self.old[::-1], self.new[::-1], limit - prefix)
        object.__setattr__(self, "prefix", prefix)
        object.__setattr__(self, "suffix", suffix)

    @property
    def identical(self) -> bool:
        return self.old == self.new

    def to_new(self, offset: int) -> int | None:
        if offset <= self.prefix:
            return offset
        if offset >= len(self.old) - self.suffix:
            return offset + len(self.new) - len(self.old)
        return None

    def to_old(self, offset: int) -> int | None:
        if offset <= self.prefix:
            return offset
        if offset >= len(self.new) - self.suffix:
            return offset + len(self.old) - len(self.new)
        return None

    def to_old_nearest(self, offset: int) -> int:
        """`to_old`, or, inside the edited region, where the edit begins."""
        mapped = self.to_old(offset)
        return self.prefix if mapped is None else mapped


def _common_prefix(a: str, b: str, limit: int) -> int:
    """The length of the common prefix of `a` and `b`, at most `limit`: compared in
    blocks first, since texts of thousands of lines differ by an edit of a few chars."""
    length = 0
    step = 4096
    while step:
        while length + step <= limit and a[length : length + step] == b[length : length + step]:
            length += step
        step //= 8
    return length
