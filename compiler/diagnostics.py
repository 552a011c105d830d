"""Diagnostics: errors and warnings as data, rendered in one place (rustc-style).

A `Diagnostic` carries a code, a one-line message, the primary span with a label,
secondary labels, and `help:` / `note:` lines. `render` turns it into text with the
source line and a caret; `rolegraph explain CODE` prints the long explanation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .codes import CODES
from .source import Source, Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


class Label(BaseModel):
    """A secondary location shown under the primary one (e.g. "block opened here")."""

    model_config = ConfigDict(frozen=True)

    span: Span
    message: str = ""


class Diagnostic(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str = "<string>"
    span: Span | None = None
    label: str = ""
    labels: tuple[Label, ...] = ()
    hints: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def line(self) -> int:
        return self.span.line if self.span else 0

    @property
    def column(self) -> int:
        return self.span.column if self.span else 0

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def location(self) -> str:
        if self.span is None:
            return self.file
        return f"{self.file}:{self.span.line}:{self.span.column}"

    def __str__(self) -> str:
        return printable(f"{self.location()}: {self.severity.value}[{self.code}]: {self.message}")


def diagnostic(
    code: str,
    message: str,
    *,
    file: str,
    span: Span | None = None,
    label: str = "",
    hints: Iterable[str] = (),
    labels: Iterable[Label] = (),
    notes: Iterable[str] = (),
) -> Diagnostic:
    """A diagnostic whose severity follows its code: `W...` warns, anything else errs."""
    return Diagnostic(
        code=code,
        message=message,
        severity=Severity.WARNING if code.startswith("W") else Severity.ERROR,
        file=file,
        span=span,
        label=label,
        hints=tuple(hints),
        labels=tuple(labels),
        notes=tuple(notes),
    )


class DiagnosticSink:
    """Where a stage puts the diagnostics it finds, in the order found: the one way to
    report (every stage used to wrap `diagnostic(...)` in its own helper).

    The sink knows the file (and, when given, its source, to render carets); a checker
    of several files passes `file=` per report. Severity follows the code (`W...` warns).

    >>> sink = DiagnosticSink("a.agent", source)
    >>> sink.report(codes.UNDEFINED_NAME, "unknown role `Writer`", span, "not a role",
    ...             hints=("did you mean `Write`?",))
    >>> sink.found  # [Diagnostic(...)]
    """

    def __init__(
        self,
        file: str = "<string>",
        source: Source | None = None,
        found: list[Diagnostic] | None = None,
    ) -> None:
        self.file = file
        self.source = source
        #: the diagnostics reported, in order (a list a caller may share with the sink)
        self.found: list[Diagnostic] = [] if found is None else found

    def report(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        label: str = "",
        *,
        hints: Iterable[str] = (),
        labels: Iterable[Label] = (),
        notes: Iterable[str] = (),
        file: str | None = None,
    ) -> Diagnostic:
        """Add a diagnostic (at `span` of this sink's file, or of `file`) and return it."""
        found = diagnostic(
            code,
            message,
            file=self.file if file is None else file,
            span=span,
            label=label,
            hints=hints,
            labels=labels,
            notes=notes,
        )
        self.found.append(found)
        return found

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.found.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.found)

    def render(self, *, color: bool = False) -> str:
        """Every diagnostic as text, with the source line and a caret when the sink has
        the source."""
        return "\n".join(render(d, self.source, color=color) for d in self.found)


class DiagnosticError(Exception):
    """Raised by entry points (`rolegraph.parse`, ...) when input has errors.

    `diagnostics` holds every diagnostic found, not only the first.
    """

    def __init__(self, diagnostics: Iterable[Diagnostic], source: Source | None = None):
        self.diagnostics = tuple(diagnostics)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        if self.source is not None:
            return "\n".join(render(d, self.source) for d in self.diagnostics)
        return "\n".join(str(d) for d in self.diagnostics)


# Characters a terminal acts on instead of showing: C0 controls but tab and newline
# (ESC starts colour, cursor and OSC sequences: a hyperlink, a window title, a clipboard
# write; BEL ends an OSC), DEL and the C1 controls (0x9b is a one-byte CSI), and the
# bidirectional formatting characters that reorder what is shown (Trojan Source,
# CVE-2021-42574). A user's text echoed in a diagnostic shows them as escapes.
_UNSHOWN = frozenset(
    [
        *range(0x00, 0x09),
        *range(0x0B, 0x20),
        *range(0x7F, 0xA0),
        *(0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)),
        *(0x2028, 0x2029),  # (line and paragraph separators: a line shown as two)
    ]
)


# (one class of them: a text is searched in C, not a character at a time in Python)
_UNSHOWN_FOUND = re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(_UNSHOWN)) + "]")


def printable(text: str) -> str:
    """`text` with the characters a terminal would act on written as escapes (`\\x1b`,
    `\\u202e`), as Python's `repr` writes them; tabs and newlines are kept."""
    if _UNSHOWN_FOUND.search(text) is None:
        return text
    return _UNSHOWN_FOUND.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    return repr(found.group())[1:-1]


_STYLE = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[1;33m",
    Severity.NOTE: "\x1b[1;36m",
}
_BLUE = "\x1b[1;34m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def render(diagnostic: Diagnostic, source: Source | None, *, color: bool = False) -> str:
    """Render one diagnostic as rustc does: header, location, source line, caret, help."""

    def paint(text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if color else text

    d = diagnostic
    header = paint(f"{d.severity.value}[{d.code}]", _STYLE[d.severity]) + paint(
        f": {printable(d.message)}", _BOLD
    )
    lines = [header]
    shown = [(d.span, d.label, "^")] if d.span else []
    shown += [(label.span, label.message, "-") for label in d.labels]
    gutter = max((len(str(span.end_line)) for span, _, _ in shown), default=1)
    bar = paint(" " * gutter + " |", _BLUE)
    lines.append(paint(" " * gutter + "--> ", _BLUE) + printable(d.location()))
    if source is not None and shown:
        lines.append(bar)
        for span, text, mark in sorted(shown, key=lambda item: (item[0].line, item[0].column)):
            lines.extend(_snippet(source, span, text, mark, gutter, paint, d.severity))
        lines.append(bar)
    for hint in d.hints:
        lines.append(
            paint(" " * gutter + " = ", _BLUE) + paint("help", _BOLD) + f": {printable(hint)}"
        )
    for note in d.notes:
        lines.append(
            paint(" " * gutter + " = ", _BLUE) + paint("note", _BOLD) + f": {printable(note)}"
        )
    return "\n".join(lines)


def _snippet(source, span, text, mark, gutter, paint, severity) -> list[str]:
    raw = source.line_text(span.line)

    def shown(part: str) -> str:  # as printed: escapes for controls, tabs expanded
        return printable(part).expandtabs(4)

    line_text = shown(raw)
    # Columns count characters of the file; the line is printed with escapes and tabs
    # expanded, so the caret is placed by the printed length of what precedes it.
    start = len(shown(raw[: span.column - 1]))
    if span.end_line == span.line:
        width = max(1, len(shown(raw[: span.end_column - 1])) - start)
    else:
        width = max(1, len(line_text) - start)
    line_text, start, width = _window(line_text, start, width)
    text = printable(text)
    style = _STYLE[severity] if mark == "^" else _BLUE
    number = paint(str(span.line).rjust(gutter) + " |", _BLUE)
    underline = " " * start + paint(mark * width + (f" {text}" if text else ""), style)
    return [f"{number} {line_text}", paint(" " * gutter + " |", _BLUE) + " " + underline]


# The widest source line echoed: past it (a minified or binary line), a window around
# the caret is shown, cut with `…`.
MAX_SHOWN = 160


def _window(line: str, start: int, width: int) -> tuple[str, int, int]:
    """The part of a long printed line around its marked columns [start, start+width)."""
    if len(line) <= MAX_SHOWN:
        return line, start, width
    left = max(0, min(start - MAX_SHOWN // 4, len(line) - MAX_SHOWN))
    right = left + MAX_SHOWN
    shown = ("…" if left else "") + line[left:right] + ("…" if right < len(line) else "")
    start = start - left + (1 if left else 0)
    return shown, start, max(1, min(width, MAX_SHOWN - (start - (1 if left else 0))))


def explain(code: str) -> str | None:
    """The long explanation of a diagnostic code, or None for an unknown code."""
    entry = CODES.get(code.upper())
    if entry is None:
        return None
    return f"{code.upper()}: {entry.title}\n\n{entry.explanation.strip()}\n"
