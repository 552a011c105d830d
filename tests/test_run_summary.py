"""The summary `rolegraph run` prints when a run ends (rolegraph/run_summary.py). In colour
(a terminal, or `FORCE_COLOR`), held to the way it was printed before: a console with
rich's emoji codes on for the table too. Elsewhere, plain text, read back: the title, the
totals under their headers (each column's right edges aligned), the notes as they are.
Seeded random traces (numbers, an agent's name, notes with emoji codes and markup,
retried calls and maps cut to their bound), at several widths."""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Iterator

from hypothesis import given, seed, settings
from hypothesis import strategies as st
from rich.console import Console

from rolegraph.run_summary import MAP_CUT, notable_notes, print_summary, summary_table
from rolegraph.runtime import FiringRecord, Trace
from rolegraph.runtime.calls import RETRIED


def _printed_before(trace: Trace) -> None:
    """print_summary as it was (rolegraph/run_view.py at 00b1162)."""
    console = Console(stderr=True)
    console.print(summary_table(trace))
    for line in notable_notes(trace):
        console.print(f"  {line}", highlight=False)


@contextlib.contextmanager
def _environment(columns: int, colour: bool) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in ("COLUMNS", "FORCE_COLOR", "NO_COLOR")}
    os.environ["COLUMNS"] = str(columns)
    os.environ.pop("NO_COLOR", None)
    if colour:
        os.environ["FORCE_COLOR"] = "1"
    else:
        os.environ.pop("FORCE_COLOR", None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _stderr_of(print_: object, trace: Trace) -> str:
    with contextlib.redirect_stderr(io.StringIO()) as err:
        print_(trace)  # type: ignore[operator]
    return err.getvalue()


_identifier = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,30}", fullmatch=True)
_note = st.one_of(
    st.text(st.sampled_from("ab :-_smile+1()/.,'\"x"), max_size=30),
    st.sampled_from([":smile:", ":thumbs_up:", "a :warning: b", "x:y:z", "[bold]b[/bold]"]),
    st.builds(lambda model: f"{RETRIED} {model} (attempt 2)", _identifier),
    st.builds(lambda n: f"3 of {n} items: {MAP_CUT}", st.integers(4, 10**6)),
)
_record = st.builds(
    FiringRecord,
    node=_identifier,
    time=st.integers(0, 50),
    key=_identifier,
    status=st.sampled_from(["ok", "failed", "cancelled", "skipped", "discarded"]),
    calls=st.integers(0, 10**7),
    cached_calls=st.integers(0, 10**5),
    input_tokens=st.integers(0, 10**9),
    output_tokens=st.integers(0, 10**9),
    cost=st.floats(0, 10**4, allow_nan=False),
    started=st.floats(0, 10**4, allow_nan=False),
    ended=st.floats(0, 2 * 10**4, allow_nan=False),
    notes=st.lists(_note, max_size=4),
)


@seed(20261206)
@settings(max_examples=120, deadline=None, database=None)
@given(
    agent=_identifier,
    records=st.lists(_record, max_size=6),
    columns=st.sampled_from([30, 60, 80, 132]),
)
def test_the_summary_in_colour_prints_as_it_did(
    agent: str, records: list[FiringRecord], columns: int
) -> None:
    trace = Trace(agent=agent, firings=records)
    with _environment(columns, colour=True):
        assert _stderr_of(print_summary, trace) == _stderr_of(_printed_before, trace)


def _expected_cells(trace: Trace) -> list[tuple[str, str]]:
    """The totals as docs/observability.md names them, from the trace's own summary."""
    summary = trace.summary()
    notes = [note for record in trace.all_records() for note in record.notes]
    retried = sum(note.startswith(RETRIED) for note in notes)
    cut = sum(MAP_CUT in note for note in notes)
    records = trace.all_records()
    started = [r.started for r in records if r.started]
    wall = (max((r.ended for r in records), default=0) - min(started, default=0)) * 1000
    return [
        ("firings", str(summary["firings"])),
        ("calls", str(summary["calls"])),
        ("cached", str(summary["cached_calls"])),
        *([("retried", str(retried))] if retried else []),
        *([("maps cut", str(cut))] if cut else []),
        ("input tokens", f"{summary['input_tokens']:,}"),
        ("output tokens", f"{summary['output_tokens']:,}"),
        ("cost", f"${summary['cost']:.4f}"),
        ("wall time", f"{wall:.0f} ms"),
    ]


def _right_edges(line: str) -> list[int]:
    """Where each item of a line of columns two or more spaces apart ends."""
    return [match.end() for match in re.finditer(r"\S+(?: \S+)*", line)]


@seed(20261207)
@settings(max_examples=150, deadline=None, database=None)
@given(
    agent=_identifier,
    records=st.lists(_record, max_size=6),
    columns=st.sampled_from([30, 80, 132]),
)
def test_the_summary_off_a_terminal_is_plain_text(
    agent: str, records: list[FiringRecord], columns: int
) -> None:
    trace = Trace(agent=agent, firings=records)
    with _environment(columns, colour=False):
        printed = _stderr_of(print_summary, trace)
    title, headers, cells, *notes = printed.splitlines()
    assert printed.endswith("\n")
    assert title == f"{agent}: run summary"
    expected = _expected_cells(trace)
    assert re.split(r" {2,}", headers.strip()) == [header for header, _ in expected]
    assert re.split(r" {2,}", cells.strip()) == [cell for _, cell in expected]
    assert _right_edges(headers) == _right_edges(cells)  # (each column justified right)
    # (each column as wide as the wider of its header and cell: no margin on the left)
    assert not headers.startswith(" ") or not cells.startswith(" ")
    assert notes == [f"  {line}" for line in notable_notes(trace)]  # (markup, codes: as is)
