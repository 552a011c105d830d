"""A program without its `test` blocks, made once while the program lives
(search/program.py `without_tests`). The oracle is the same program made afresh: the
declarations but the tests, in order, as data (trivia and spans too)."""

import gc
import random
import weakref

import rolegraph
from rolegraph.compiler import ast
from rolegraph.search import program
from rolegraph.search.program import without_tests

from .edit_walks import edit_walk
from .test_search import SELF_REFINE


def start():
    return rolegraph.parse(SELF_REFINE.read_text(), str(SELF_REFINE))


def afresh(module):
    decls = tuple(d for d in module.decls if not isinstance(d, ast.TestDecl))
    return decls, module.end_comments, module.filename, module.span


def as_made(bare):
    return bare.decls, bare.end_comments, bare.filename, bare.span


def test_a_program_without_its_tests_is_made_afresh_along_a_random_walk_of_edits():
    first = start()
    assert first.tests
    for module in edit_walk(first, random.Random(11), 60):
        bare = without_tests(module)
        assert all(a is b for a, b in zip(as_made(bare)[0], afresh(module)[0], strict=True))
        assert as_made(bare)[1:] == afresh(module)[1:]
        assert not bare.tests
        assert without_tests(module) is bare  # (asked again: the same program)
        assert without_tests(bare) is bare


def test_a_program_with_no_tests_is_itself():
    module = without_tests(start())
    assert without_tests(module) is module


def test_a_program_that_dies_takes_its_entry_with_it():
    module = start()
    without_tests(module)
    key = id(module)
    assert key in program._BARE
    del module
    gc.collect()
    assert key not in program._BARE


def test_the_program_without_tests_does_not_keep_its_module_alive():
    """Its entry is kept for the module (compiler/identity.py: it goes before the
    module's address can be reused), and holds nothing that holds the module."""
    module = start()
    bare = without_tests(module)
    watched = weakref.ref(module)
    del module
    gc.collect()
    assert watched() is None
    assert not bare.tests
