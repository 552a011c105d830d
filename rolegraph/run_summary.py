"""What `rolegraph run` prints on stderr when a run ends: its totals, and what a reader
should not miss (calls retried, maps cut to their bound). On a terminal (or with
`FORCE_COLOR`), rich's table, in colour; elsewhere (a pipe, a file, a CI log) plain
text, aligned columns of plain characters, which loads no part of rich (`plain_summary`).
Apart from the live view (rolegraph/run_view.py)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from rolegraph.runtime.calls import RETRIED
from rolegraph.runtime.trace import Trace

if TYPE_CHECKING:
    from rich.table import Table

MAP_CUT = "cut to its bound"  # in the note of a map over more items than its bound


def print_summary(trace: Trace) -> None:
    """The run's totals on stderr, then what a reader should not miss: calls retried
    and maps cut to their bound."""
    if not _in_colour():
        sys.stderr.write(plain_summary(trace))
        sys.stderr.flush()
        return
    from rich.console import Console

    # The table's text has no emoji codes (`:name:`: numbers, fixed headers, an agent's
    # name and one colon), so rich's emoji table is not loaded for it; a note's line is
    # printed as before, codes and all.
    console = Console(stderr=True, emoji=False)
    console.print(summary_table(trace))
    for line in notable_notes(trace):
        console.print(f"  {line}", highlight=False, emoji=True)


def _in_colour() -> bool:
    """Whether stderr is a terminal, or colour is asked for (`FORCE_COLOR`, rich's)."""
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty is not None and isatty())
    except ValueError:  # (a closed stream)
        return False


def plain_summary(trace: Trace) -> str:
    """The summary as plain text: the title; the totals' headers and cells in columns
    two spaces apart, each justified right to the wider of the two; then each note
    worth reading, indented by two spaces, as it is (no markup, no emoji codes)."""
    cells = summary_cells(trace)
    widths = [max(len(header), len(cell)) for header, cell in cells.items()]
    lines = [
        f"{trace.agent}: run summary",
        "  ".join(header.rjust(width) for header, width in zip(cells, widths, strict=True)),
        "  ".join(cell.rjust(width) for cell, width in zip(cells.values(), widths, strict=True)),
        *(f"  {line}" for line in notable_notes(trace)),
    ]
    return "".join(f"{line}\n" for line in lines)


def summary_cells(trace: Trace) -> dict[str, str]:
    """The run's totals, header → cell. Calls retried and maps cut to their bound get a
    column when there were any."""
    summary = trace.summary()
    records = trace.all_records()
    wall = (
        max((r.ended for r in records), default=0)
        - min((r.started for r in records if r.started), default=0)
    ) * 1000
    notes = [note for record in records for note in record.notes]
    retried = sum(note.startswith(RETRIED) for note in notes)
    cut = sum(MAP_CUT in note for note in notes)
    return {
        "firings": str(summary["firings"]),
        "calls": str(summary["calls"]),
        "cached": str(summary["cached_calls"]),
        **({"retried": str(retried)} if retried else {}),
        **({"maps cut": str(cut)} if cut else {}),
        "input tokens": f"{summary['input_tokens']:,}",
        "output tokens": f"{summary['output_tokens']:,}",
        "cost": f"${summary['cost']:.4f}",
        "wall time": f"{wall:.0f} ms",
    }


def summary_table(trace: Trace) -> Table:
    """The run's totals as rich's table (on a terminal)."""
    from rich.table import Table

    cells = summary_cells(trace)
    table = Table(title=f"{trace.agent}: run summary", title_justify="left")
    for column in cells:
        table.add_column(column, justify="right")
    table.add_row(*cells.values())
    return table


def notable_notes(trace: Trace) -> list[str]:
    """`node: note` for each map cut to its bound, and for each retried call with the
    failure that made it retry (the note before it)."""
    found = []
    for record in trace.all_records():
        for index, note in enumerate(record.notes):
            if MAP_CUT in note:
                found.append(f"{record.node}: {note}")
            elif note.startswith(RETRIED):
                why = record.notes[index - 1] if index else "a failed attempt"
                found.append(f"{record.node}: {why}; {note}")
    return found
