"""Source text and locations: what a diagnostic points at."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict


class Span(BaseModel):
    """A region of a source file. Lines and columns are 1-based; offsets are 0-based.

    `end_column` is exclusive, so a one-character token at column 5 spans 5..6.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    line: int
    column: int
    end_line: int
    end_column: int
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.line}:{self.column}"


BYTE_ORDER_MARK = "\ufeff"


@dataclass(frozen=True)
class Source:
    """A named text with fast offset → (line, column) lookups.

    A byte order mark at the start (Windows editors write one) is not part of the text:
    it is dropped here, so every Source made of the same file — the parser's, the
    checker's, the renderer's — agrees on offsets, and column 1 is the first character
    a reader sees."""

    name: str
    text: str
    _line_starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.text.startswith(BYTE_ORDER_MARK):
            object.__setattr__(self, "text", self.text[len(BYTE_ORDER_MARK) :])
        starts = [0]
        starts.extend(i + 1 for i, ch in enumerate(self.text) if ch == "\n")
        object.__setattr__(self, "_line_starts", starts)

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def position(self, offset: int) -> tuple[int, int]:
        """The 1-based (line, column) of a 0-based offset (clamped into the text)."""
        offset = max(0, min(offset, len(self.text)))
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        line = max(1, min(line, self.line_count))
        return min(self._line_starts[line - 1] + column - 1, len(self.text))

    def line_text(self, line: int) -> str:
        if not 1 <= line <= self.line_count:
            return ""
        start = self._line_starts[line - 1]
        end = self._line_starts[line] - 1 if line < self.line_count else len(self.text)
        return self.text[start:end].rstrip("\r")

    def span(self, start: int, end: int) -> Span:
        """The span of the offsets [start, end)."""
        end = max(start, end)
        line, column = self.position(start)
        end_line, end_column = self.position(end)
        return Span(
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
            start=max(0, min(start, len(self.text))),
            end=max(0, min(end, len(self.text))),
        )

    def end_span(self) -> Span:
        """A zero-width span at the end of the text (where an EOF error points)."""
        # Point at the last character that is not trailing whitespace, just after it.
        stripped = len(self.text.rstrip())
        return self.span(stripped, stripped)
