"""Recovery from syntax errors costs time linear in the size of the file.

After an error the parser resumes at the next top-level declaration. Each resumption
reads the text from there on only: nothing before it is copied, scanned or lexed again,
so a file of 20,000 errors takes about as long as parsing it once (it took minutes when
each resumption re-read the whole file; bench/RESULTS.md has the figures).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from rolegraph.grammar import parse_module
from rolegraph.grammar import parser as front_end

BROKEN_AGENT = "agent A(q: str) -> str {\n  a = W(q,,)\n}\n"


@pytest.mark.slow
def test_twenty_thousand_errors_are_all_reported_within_a_generous_bound():
    # 100 KB of `role` lines: an error every five characters (minutes before the fix)
    code = (
        "from rolegraph.grammar import parse_module\n"
        "print(len(parse_module('role\\n' * 20_000).diagnostics))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "20000", done.stderr[-2000:]


def test_declaration_starts_are_found_once_per_file(monkeypatch):
    calls = []
    original = front_end.declaration_starts
    monkeypatch.setattr(
        front_end, "declaration_starts", lambda text: calls.append(1) or original(text)
    )
    assert len(parse_module(BROKEN_AGENT * 50).diagnostics) == 50
    assert len(calls) == 1


def test_each_resumption_reads_the_original_text_from_further_on(monkeypatch):
    starts = []
    original = front_end._parse_from

    def spy(parser, source, start):
        assert source.text is text  # the text is never copied or masked
        starts.append(start)
        return original(parser, source, start)

    monkeypatch.setattr(front_end, "_parse_from", spy)
    text = BROKEN_AGENT * 20
    parse_module(text)
    assert starts == sorted(set(starts)) and len(starts) == 20
    assert starts == [index * len(BROKEN_AGENT) for index in range(20)]


def test_an_unclosed_block_after_a_recovery_is_pointed_at():
    source = BROKEN_AGENT + 'role W() -> str {\n  prompt "a"\n\nrole V() -> str {}\n'
    diagnostics = parse_module(source, "x.agent").diagnostics
    assert [d.code for d in diagnostics] == ["E0101", "E0107"]
    (label,) = diagnostics[1].labels
    assert (label.span.line, label.span.column) == (4, 17)


def test_positions_after_a_recovery_are_those_of_the_whole_file():
    alone = parse_module("type T { a: str b }\n").diagnostics[0]
    last = parse_module(BROKEN_AGENT * 3 + "type T { a: str b }\n").diagnostics[-1]
    assert (last.line, last.column, last.span.start) == (10, alone.column, 3 * 40 + 18)
