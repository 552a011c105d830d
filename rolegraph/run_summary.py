"""What `rolegraph run` prints on stderr when a run ends: its totals, and what a reader
should not miss (calls retried, maps cut to their bound). Apart from the live view
(rolegraph/run_view.py): a run that is not drawn live loads rich's table and console,
not its live display."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from rolegraph.runtime.calls import RETRIED
from rolegraph.runtime.trace import Trace

MAP_CUT = "cut to its bound"  # in the note of a map over more items than its bound


def print_summary(trace: Trace) -> None:
    """The run's totals on stderr, then what a reader should not miss: calls retried
    and maps cut to their bound."""
    # The table's text has no emoji codes (`:name:`: numbers, fixed headers, an agent's
    # name and one colon), so rich's emoji table is not loaded for it; a note's line is
    # printed as before, codes and all.
    console = Console(stderr=True, emoji=False)
    console.print(summary_table(trace))
    for line in notable_notes(trace):
        console.print(f"  {line}", highlight=False, emoji=True)


def summary_table(trace: Trace) -> Table:
    """The run's totals. Calls retried and maps cut to their bound get a column when
    there were any."""
    summary = trace.summary()
    records = trace.all_records()
    wall = (
        max((r.ended for r in records), default=0)
        - min((r.started for r in records if r.started), default=0)
    ) * 1000
    notes = [note for record in records for note in record.notes]
    retried = sum(note.startswith(RETRIED) for note in notes)
    cut = sum(MAP_CUT in note for note in notes)
    cells = {
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
