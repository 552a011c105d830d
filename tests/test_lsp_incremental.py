"""The language server's incremental parse gives the tree the whole-text parse gives."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from rolegraph.grammar import parse_module
from rolegraph.lsp.incremental import IncrementalParser

from .conftest import EXAMPLES, ROOT, STDLIB

sys.path.insert(0, str(ROOT / "bench"))
from generate import large_program


def _same_tree(text: str, parser: IncrementalParser) -> bool:
    ours = parser.parse(text).module
    theirs = parse_module(text, parser.filename).module
    assert ours is not None and theirs is not None
    spans = [(type(n).__name__, n.span) for n in ours.walk() if n is not ours]
    whole = [(type(n).__name__, n.span) for n in theirs.walk() if n is not theirs]
    return ours == theirs and spans == whole


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_an_edit_in_one_declaration_parses_to_the_whole_text_tree(path: Path):
    text = path.read_text(encoding="utf-8")
    parser = IncrementalParser(str(path))
    parser.parse(text)
    # a line more in the first bracket: that declaration changes, the rest moves
    at = re.search(r"^(?:role|tool|agent|type|enum) [^\n({]*[({]", text, re.MULTILINE).end()  # type: ignore[union-attr]
    edited = text[:at] + "\n" + text[at:]
    assert _same_tree(edited, parser)
    assert parser.reparsed == 1


def test_declarations_after_an_edit_move_with_it_and_are_not_parsed_again():
    text = large_program(40, 40)
    parser = IncrementalParser("generated.agent")
    parser.parse(text)
    at = text.index("Task: {{ task }}")
    edited = text[:at] + "The " + text[at:]
    assert _same_tree(edited, parser)
    assert parser.reparsed == 1


def test_a_new_line_in_the_agent_moves_only_what_follows_it():
    text = large_program(20, 60)
    parser = IncrementalParser("generated.agent")
    parser.parse(text)
    at = text.index("  n30 =")
    assert _same_tree(text[:at] + "\n\n" + text[at:], parser)


def test_a_syntax_error_gives_the_diagnostics_of_the_whole_text_parse():
    text = (ROOT / "examples" / "self_refine.agent").read_text(encoding="utf-8")
    parser = IncrementalParser("x.agent")
    parser.parse(text)
    broken = text.replace("critic -> writer", "critic => writer")
    ours = parser.parse(broken)
    assert ours.module is None
    assert ours.diagnostics == parse_module(broken, "x.agent").diagnostics


def test_code_before_the_first_declaration_is_parsed_whole():
    parser = IncrementalParser("x.agent")
    result = parser.parse("oops\ntype A { x: str }\n")
    assert result.module is None and parser.reparsed == -1
