"""Diagnostics: errors and warnings as data, rendered in one place (rustc-style).

A `Diagnostic` carries a code, a one-line message, the primary span with a label,
secondary labels, and `help:` / `note:` lines. `render` turns it into text with the
source line and a caret; `rolegraph explain CODE` prints the long explanation.
"""

from __future__ import annotations

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
        return f"{self.location()}: {self.severity.value}[{self.code}]: {self.message}"


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
        f": {d.message}", _BOLD
    )
    lines = [header]
    shown = [(d.span, d.label, "^")] if d.span else []
    shown += [(label.span, label.message, "-") for label in d.labels]
    gutter = max((len(str(span.end_line)) for span, _, _ in shown), default=1)
    bar = paint(" " * gutter + " |", _BLUE)
    lines.append(paint(" " * gutter + "--> ", _BLUE) + d.location())
    if source is not None and shown:
        lines.append(bar)
        for span, text, mark in sorted(shown, key=lambda item: (item[0].line, item[0].column)):
            lines.extend(_snippet(source, span, text, mark, gutter, paint, d.severity))
        lines.append(bar)
    for hint in d.hints:
        lines.append(paint(" " * gutter + " = ", _BLUE) + paint("help", _BOLD) + f": {hint}")
    for note in d.notes:
        lines.append(paint(" " * gutter + " = ", _BLUE) + paint("note", _BOLD) + f": {note}")
    return "\n".join(lines)


def _snippet(source, span, text, mark, gutter, paint, severity) -> list[str]:
    line_text = source.line_text(span.line).expandtabs(4)
    raw = source.line_text(span.line)
    # Columns count characters; tabs were expanded above, so re-measure the prefix.
    start = len(raw[: span.column - 1].expandtabs(4))
    if span.end_line == span.line:
        width = max(1, len(raw[: span.end_column - 1].expandtabs(4)) - start)
    else:
        width = max(1, len(line_text) - start)
    style = _STYLE[severity] if mark == "^" else _BLUE
    number = paint(str(span.line).rjust(gutter) + " |", _BLUE)
    underline = " " * start + paint(mark * width + (f" {text}" if text else ""), style)
    return [f"{number} {line_text}", paint(" " * gutter + " |", _BLUE) + " " + underline]


def explain(code: str) -> str | None:
    """The long explanation of a diagnostic code, or None for an unknown code."""
    entry = CODES.get(code.upper())
    if entry is None:
        return None
    return f"{code.upper()}: {entry.title}\n\n{entry.explanation.strip()}\n"
