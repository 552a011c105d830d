"""The language server's view of text: positions in UTF-16, offsets between two
versions of a text, the words of prompt templates."""

from __future__ import annotations

import pytest

pytest.importorskip("lsprotocol", reason="the language server needs the `lsp` extra")

from lsprotocol import types

from rolegraph.lsp.positions import LineIndex, OffsetMap
from rolegraph.lsp.prompts import template_chains


def test_a_character_outside_the_basic_plane_counts_two_utf16_units():
    lines = LineIndex('a = "😀"\nb', "utf-16")
    assert lines.position(6) == types.Position(0, 7)
    assert lines.offset(types.Position(0, 7)) == 6


def test_utf32_positions_count_characters():
    lines = LineIndex('a = "😀"\nb', "utf-32")
    assert lines.position(6) == types.Position(0, 6)


def test_offsets_before_and_after_an_edit_map_between_the_texts():
    edit = OffsetMap("writer = Writer(task)", "writer = Writer(task, x)")
    assert edit.to_new(3) == 3
    assert edit.to_new(21) == 24
    assert edit.to_old(24) == 21


def test_an_offset_inside_the_edit_has_no_counterpart():
    edit = OffsetMap("abc def", "abc XYZ def")
    assert edit.to_old(5) is None
    assert edit.to_old_nearest(5) == 4


def _words(template: str) -> list[list[str]]:
    text = f'prompt "{template}"'
    return [[w.text for w in chain] for chain in template_chains(text, 8, len(text) - 1)]


def test_a_template_reads_the_variables_of_its_blocks():
    assert _words("Task: {{ task }} {% if draft %}{{ draft.text }}{% endif %}") == [
        ["task"],
        ["draft"],
        ["draft", "text"],
    ]


def test_loop_variables_filters_and_tests_are_not_variables():
    words = _words("{% for d in drafts %}{{ d.text | upper }}{% endfor %}{{ x is defined }}")
    assert words == [["drafts"], ["x"]]


def test_template_words_know_their_offsets_in_the_file():
    text = 'prompt "Hi {{ name }}"'
    (chain,) = template_chains(text, 8, len(text) - 1)
    assert text[chain[0].start : chain[0].end] == "name"
