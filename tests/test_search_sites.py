"""A search lists an operator's sites on a parent only when it draws that operator
(search/candidates.py `_Sites`); which operators it may draw comes from
`Editor.has_site`, the first site found. Held here to the general path: every site of
every operator listed (`operator.sites`), on the examples and on programs made from
them by seeded random edits, before and after the editor listed them."""

import random

import pytest

import rolegraph
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.search import Evaluator, Example, Objective, SearchStore, contains
from rolegraph.search.candidates import Trail

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.agent"))


def _programs(path, count=6, seed=0):
    """The example and `count` programs made from it by random sites of its operators
    (unchecked: `has_site` must agree with the lists on any program)."""
    module = rolegraph.parse_file(path)
    programs = [module]
    rng = random.Random(f"{seed}:{path.name}")
    current = module
    for _ in range(count * 4):
        if len(programs) > count:
            break
        listed = [s for op in OPERATORS for s in op.sites(current)]
        if not listed:
            break
        try:
            current = rng.choice(listed).apply(current)
        except (EditError, ValueError):
            continue
        programs.append(current)
    return programs


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_has_site_is_whether_the_list_is_empty(path):
    editor = rolegraph.editor()
    for module in _programs(path):
        listed = {op: list(op.sites(module)) for op in OPERATORS}
        found = {op: editor.has_site(module, op) for op in OPERATORS}
        assert found == {op: bool(listed[op]) for op in OPERATORS}
        # and once the editor has listed them (its remembered lists answer)
        editor.sites(module)
        assert {op: editor.has_site(module, op) for op in OPERATORS} == found


def test_some_operator_has_no_site_somewhere():
    """(The test above can fail: an operator without a site on some program.)"""
    empty = [
        op
        for path in EXAMPLES
        for module in _programs(path, count=1)
        for op in OPERATORS
        if not list(op.sites(module))
    ]
    assert empty


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_a_trails_sites_are_the_editors(path):
    """The trail's lazily listed sites and its operators with a site are the full lists'."""
    editor = rolegraph.editor()
    objective = Objective([Example({"task": "t"})], contains)
    trail = Trail(Evaluator(objective, store=SearchStore()), evaluations=1, progress=None)
    for module in _programs(path, count=3):
        sites, choices = trail._sites(editor, module, OPERATORS)
        full = {op: list(op.sites(module)) for op in OPERATORS}
        assert choices == [op for op in OPERATORS if full[op]]
        assert {op: sites[op] for op in OPERATORS} == full
        # an operator's list is made once: a draw's edit keeps its identity
        assert all(sites[op] is sites[op] for op in OPERATORS)
        again, _ = trail._sites(editor, module, OPERATORS)
        assert again is sites
