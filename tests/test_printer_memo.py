"""The printer remembers the lines of declarations it printed, and of the statements in
them (compiler/printer.py): a program edited from another prints exactly as a printer
that remembers nothing prints it, with or without comments, a statement at another
depth is indented anew, and a declaration no longer used is forgotten."""

from __future__ import annotations

import gc
import random

import rolegraph
from rolegraph.compiler import literals as lit
from rolegraph.compiler import printer

from .conftest import EXAMPLES
from .edit_walks import edit_walk


def _fresh(module, trivia: bool = False) -> str:
    printer._PRINTED.clear()
    printer._PIECES.clear()
    printer._BLOCKS.clear()
    printer._INLINE.clear()
    return rolegraph.to_source(module, trivia=trivia)


def test_edited_programs_print_as_without_memory():
    rng = random.Random(15)
    for path in EXAMPLES[:6]:
        editor = rolegraph.editor(str(path))
        module = rolegraph.parse_file(path)
        for _ in range(12):
            remembered = rolegraph.to_source(module)  # (its declarations now remembered)
            assert remembered == _fresh(module)
            found = editor.sample(module, rng)
            if found is None:
                break
            edited = found[1]
            assert rolegraph.to_source(edited) == _fresh(edited)
            module = edited


def test_a_declaration_no_longer_used_is_forgotten():
    module = rolegraph.parse_file(EXAMPLES[0])
    printer._PRINTED.clear()
    printer._PIECES.clear()
    rolegraph.to_source(module)
    assert printer._PRINTED and printer._PIECES
    del module
    gc.collect()
    assert not printer._PRINTED and not printer._PIECES


def _edited(path, rng, count):
    """`count` programs made from the example by seeded random sites (`edit_walk`)."""
    return edit_walk(rolegraph.parse_file(path), rng, count)


def test_random_edits_print_as_without_memory_with_and_without_comments():
    rng = random.Random(7)
    for path in EXAMPLES:
        for module in _edited(path, rng, 8):
            plain = rolegraph.to_source(module)
            with_trivia = rolegraph.to_source(module, trivia=True)
            assert plain == _fresh(module)
            assert with_trivia == _fresh(module, trivia=True)
            # and in the other order: printed with comments, then without
            rolegraph.to_source(module, trivia=True)
            assert rolegraph.to_source(module) == plain


def test_a_statement_printed_at_another_depth_is_indented_anew():
    module = rolegraph.parse_file(EXAMPLES[0])
    agent = module.agents[0]
    for statement in agent.body:
        at = {depth: printer.Printer().statement(statement, depth) for depth in (1, 0, 2, 1)}
        for depth, lines in at.items():
            printer._PIECES.clear()
            assert lines == printer.Printer().statement(statement, depth)


def test_a_text_block_printed_at_another_depth_is_indented_anew():
    """The triple-quoted literals remembered by text and depth: each depth its own."""
    texts = ["Answer {{ q }}\nBriefly.", '  indented\n\n"""quoted"""\n', "a\\b\n\tc"]
    for text in texts:
        for depth in (1, 0, 2, 1, 0):
            expected = lit.encode_block(text, printer.INDENT * (depth + 1), printer.INDENT * depth)
            assert printer.Printer()._text(text, depth) == expected


def test_annotations_in_a_run_of_fields_are_aligned_each_time():
    """Alignment is decided by the block (the run of fields), not by a field alone: a
    field printed before is aligned again with its neighbours."""
    source = 'type Verdict {\n  ok: bool  @desc("a")\n  reason_given: str  @desc("b")\n}\n'
    module = rolegraph.parse(source)
    for _ in range(2):  # (the second time, the fields' pieces are remembered)
        lines = rolegraph.to_source(module).splitlines()
        assert lines[1] == '  ok: bool           @desc("a")'
        assert lines[2] == '  reason_given: str  @desc("b")'


def test_a_statement_forgotten_while_another_thread_empties_the_table(monkeypatch):
    """The LSP prints from two threads (the event loop and the check worker): a
    statement's entry may go (the table emptied when full) between the dying statement's
    callback looking it up and removing it; the callback must not fail then."""

    class EmptiedAfterLookUp(dict):
        def get(self, key, default=None):
            found = super().get(key, default)
            self.clear()  # (the other thread's `_PIECES.clear()`, just after the look-up)
            return found

    module = rolegraph.parse_file(EXAMPLES[0])
    printer._PIECES.clear()
    rolegraph.to_source(module)
    key, (ref, _, _) = next(iter(printer._PIECES.items()))
    monkeypatch.setattr(printer, "_PIECES", EmptiedAfterLookUp(printer._PIECES))
    printer._forget_piece(key, ref)  # (what the weak reference calls when it dies)
    assert not printer._PIECES


def test_the_text_blocks_kept_hold_at_most_their_count_of_small_texts():
    """A long-lived process (the LSP's hovers and formatting, as a prompt is typed)
    prints a new text at each change: the literals kept are bounded in characters, not
    only in number, so large prompts are printed afresh, not kept; each prints as
    `encode_block` makes it."""
    printer._BLOCKS.clear()
    for index in range(printer._BLOCKS_MAX - 1):  # (the table not yet emptied when full)
        text = f"line {index}\n" + "x" * (printer._BLOCK_TEXT_MAX * (1 + index % 3))
        depth = index % 2
        expected = lit.encode_block(text, "  " * (depth + 1), "  " * depth)
        assert printer._text_block(text, depth) == expected
        assert printer._text_block(text, depth) == expected  # (and asked again)
    kept = sum(len(text) + len(literal) for (text, _), literal in printer._BLOCKS.items())
    assert kept <= printer._BLOCKS_MAX * 3 * printer._BLOCK_TEXT_MAX
    small = "a\nb"
    printer._text_block(small, 2)
    assert (small, 2) in printer._BLOCKS  # (a small text is still remembered)
