"""A candidate's source and fingerprint, remembered by the program's identity while it
lives (search/fingerprints.py). The oracle is the printer itself, asked afresh."""

import gc
import random

import rolegraph
from rolegraph.compiler.edits import OPERATORS, Editor
from rolegraph.compiler.printer import fingerprint, to_source
from rolegraph.search import fingerprints
from rolegraph.search.fingerprints import fingerprint_of, source_of

from .test_search import SELF_REFINE


def start():
    return rolegraph.parse(SELF_REFINE.read_text(), str(SELF_REFINE))


def test_a_remembered_fingerprint_is_the_printers_along_a_random_walk_of_edits():
    rng = random.Random(7)
    editor = Editor(lambda module: [])  # (every edit taken: the printer does not care)
    module = start()
    for _ in range(60):
        sites = editor.sites(module, OPERATORS)
        choices = [operator for operator in OPERATORS if sites[operator]]
        edit = rng.choice(sites[rng.choice(choices)])
        try:
            module = edit.apply(module)
        except (rolegraph.compiler.edits.EditError, ValueError):
            continue
        for _ in range(2):  # (asked again: remembered, and still the printer's answer)
            assert fingerprint_of(module) == fingerprint(module)
            assert source_of(module) == to_source(module)


def test_a_new_program_is_printed_anew_never_given_an_older_ones_text():
    module = start()
    first = fingerprint_of(module)
    other = module.with_changes(decls=module.decls[:-1])  # (another program, alive at once)
    assert fingerprint_of(other) == fingerprint(other) != first
    assert fingerprint_of(module) == first


def test_a_program_that_dies_takes_its_entry_with_it():
    module = start()
    fingerprint_of(module)
    key = id(module)
    assert key in fingerprints._PRINTED
    del module
    gc.collect()
    assert key not in fingerprints._PRINTED


def test_a_reused_address_is_checked_against_the_program_itself(monkeypatch):
    """The key is an address: an entry whose program is gone (its callback not yet run)
    must not answer for a new program at that address."""
    module = start()
    smaller = module.with_changes(decls=module.decls[:-1])
    fingerprint_of(smaller)
    entry = fingerprints._PRINTED[id(smaller)]
    # the dead program's entry, planted at the live program's address
    monkeypatch.setitem(fingerprints._PRINTED, id(module), entry)
    assert fingerprint_of(module) == fingerprint(module) != fingerprint(smaller)


def test_a_program_forgotten_while_another_thread_empties_the_table(monkeypatch):
    """A program's entry may go (the table emptied when full, by another thread) between
    the dying program's callback looking it up and removing it: the callback must not
    fail then (as the printer's table of statements, tests/test_printer_memo.py)."""

    class EmptiedAfterLookUp(dict):
        def get(self, key, default=None):
            found = super().get(key, default)
            self.clear()  # (the other thread's `_PRINTED.clear()`, just after the look-up)
            return found

    module = rolegraph.parse_file(SELF_REFINE)
    fingerprints._PRINTED.clear()
    fingerprint_of(module)
    key, (ref, _, _) = next(iter(fingerprints._PRINTED.items()))
    monkeypatch.setattr(fingerprints, "_PRINTED", EmptiedAfterLookUp(fingerprints._PRINTED))
    fingerprints._forget(key, ref)  # (what the weak reference calls when it dies)
    assert not fingerprints._PRINTED
