"""The printer remembers the lines of declarations it printed (compiler/printer.py): a
program edited from another prints exactly as a printer that remembers nothing prints
it, and a declaration no longer used is forgotten."""

from __future__ import annotations

import gc
import random

import rolegraph
from rolegraph.compiler import printer

from .conftest import EXAMPLES


def _fresh(module) -> str:
    printer._PRINTED.clear()
    return rolegraph.to_source(module)


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
    rolegraph.to_source(module)
    assert printer._PRINTED
    del module
    gc.collect()
    assert not printer._PRINTED
