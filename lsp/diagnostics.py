"""The compiler's diagnostics, and the temporal verdicts, as LSP diagnostics.

Each diagnostic keeps its code, its span and its severity; its `help:` and `note:`
lines (the did-you-mean hints, a counterexample run) follow the message, as
`rolegraph check` prints them. Secondary labels become related information. A
constraint the checker proves is reported too, as a hint on the constraint, since a
proof is as much a result of the check as a counterexample.
"""

from __future__ import annotations

from collections.abc import Callable

from lsprotocol import types

from rolegraph.compiler.diagnostics import Diagnostic, Severity

from .analysis import Analysis
from .positions import LineIndex

SOURCE = "rolegraph"
PROVEN = "proven"  # the code of a proof (not a compiler code: nothing is wrong)

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.NOTE: types.DiagnosticSeverity.Information,
}


def message_of(d: Diagnostic) -> str:
    lines = [d.message + (f" ({d.label})" if d.label else "")]
    lines += [f"help: {hint}" for hint in d.hints]
    lines += [f"note: {note}" for note in d.notes]
    return "\n".join(lines)


def to_lsp(
    d: Diagnostic, lines: LineIndex, location: Callable[[str, int, int], types.Location | None]
) -> types.Diagnostic:
    """`location(file, start, end)` makes the related information's locations."""
    span = d.span
    related = []
    for label in d.labels:
        where = location(d.file, label.span.start, label.span.end)
        if where is not None:
            related.append(types.DiagnosticRelatedInformation(where, label.message or "here"))
    return types.Diagnostic(
        range=lines.range(span.start, span.end)
        if span
        else types.Range(types.Position(0, 0), types.Position(0, 0)),
        message=message_of(d),
        severity=_SEVERITY[d.severity],
        code=d.code,
        source=SOURCE,
        related_information=related or None,
    )


def by_file(
    analysis: Analysis, encoding: str, location: Callable[[str, int, int], types.Location | None]
) -> dict[str, list[types.Diagnostic]]:
    """Every diagnostic of an analysis, by the file it is in (imported files included),
    and a hint on each constraint the checker proved."""
    found: dict[str, list[types.Diagnostic]] = {analysis.filename: []}
    indexes: dict[str, LineIndex] = {analysis.filename: analysis.lines(encoding)}
    for d in analysis.diagnostics:
        if d.file not in indexes:
            indexes[d.file] = LineIndex(analysis.source_of(d.file), encoding)
        found.setdefault(d.file, []).append(to_lsp(d, indexes[d.file], location))
    lines = indexes[analysis.filename]
    for site, verdict in analysis.verdicts():
        if verdict.status == "proven":
            found[analysis.filename].append(
                types.Diagnostic(
                    range=lines.range(site.start, site.end),
                    message=f"`{verdict.mode} {verdict.text}` proven on every run "
                    f"({verdict.states} states explored)",
                    severity=types.DiagnosticSeverity.Hint,
                    code=PROVEN,
                    source=SOURCE,
                )
            )
    return found
