"""Identity tables (compiler/identity.py): an entry goes when an object its key names is
freed, and not before; and the compiler's tables, whose entries now go with the edited
programs that made them, still give what a check from nothing gives.

The oracles: for the table itself, which objects are alive (weak references of the
test's own); for the compiler, the full checker with every table emptied, over seeded
random edit walks (tests/edit_walks.py) where the candidates are let go one after the
other, so that their identities are reused by the next ones (counted: the walk must
reuse some). And the editor leaves the cyclic collector as it found it."""

from __future__ import annotations

import gc
import random
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

import rolegraph
from rolegraph.compiler import analyses, ast, check, identity, lower, ltl
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.edits.editor import Editor
from rolegraph.compiler.identity import IdentityTable
from rolegraph.compiler.incremental import CheckSession
from rolegraph.grammar import parse_module

from .edit_walks import edit_walk, generated_module
from .test_lower_memo import _irs as _analysis_irs


class Thing:
    """An object to key entries by (weakly referable, tracked by the collector)."""

    def __init__(self) -> None:
        self.other: object = None


def test_an_entry_lives_while_its_objects_live_and_goes_with_the_first_freed():
    table: IdentityTable[tuple[int, int], str] = IdentityTable()
    a, b = Thing(), Thing()
    assert table.keep((id(a), id(b)), "made", a, b) == "made"
    assert table.keep((id(a), 0), "alone", a, None) == "alone"  # (None is never freed)
    gc.collect()
    assert table == {(id(a), id(b)): "made", (id(a), 0): "alone"}
    del b
    assert table == {(id(a), 0): "alone"}
    del a
    assert table == {}


def test_entries_of_objects_freed_by_the_collector_go():
    table: IdentityTable[int, str] = IdentityTable()
    looped = Thing()
    looped.other = looped  # (freed only by the cyclic collector)
    table.keep(id(looped), "looped", looped)
    alive = weakref.ref(looped)
    del looped
    gc.collect()
    assert alive() is None
    assert table == {}


def _kept_for(thing: object) -> int:
    """How many entries the watch of `thing` lists (gone or not: let go in bulk)."""
    return len(identity._WATCHES[id(thing)].entries) // 2  # (flat: table, key, …)


def test_one_object_keys_entries_of_several_tables():
    first: IdentityTable[int, int] = IdentityTable()
    second: IdentityTable[tuple[int, str], int] = IdentityTable()
    thing = Thing()
    first.keep(id(thing), 1, thing)
    second.keep((id(thing), "x"), 2, thing)
    assert _kept_for(thing) == 2
    del thing
    assert first == {} and second == {}


def test_an_object_that_stays_lets_go_of_entries_gone_with_others():
    table: IdentityTable[tuple[int, int], int] = IdentityTable()  # (keys: all distinct)
    stays = Thing()
    for index in range(10_000):
        passing = Thing()
        table.keep((id(stays), index), index, stays, passing)
    del passing
    assert len(table) == 0  # (each went with its passing object)
    assert _kept_for(stays) <= 16


def test_an_entry_kept_again_for_an_object_that_stays_is_listed_once_it_is_let_go():
    table: IdentityTable[int, int] = IdentityTable(cap=1)  # (each keep empties it first)
    stays = Thing()
    for index in range(10_000):
        table.keep(id(stays), index, stays)
    assert table == {id(stays): 9_999}
    assert _kept_for(stays) <= 16
    del stays
    assert table == {}


def test_a_full_table_is_emptied_and_its_entries_are_kept_again():
    table: IdentityTable[int, int] = IdentityTable(cap=4)
    things = [Thing() for _ in range(10)]
    for index, thing in enumerate(things):
        table.keep(id(thing), index, thing)
    assert table == {id(things[8]): 8, id(things[9]): 9}
    table.keep(id(things[0]), 0, things[0])
    del things[0]
    assert 0 not in table.values()


def test_a_table_let_go_leaves_its_objects_watched_harmlessly():
    table: IdentityTable[int, int] = IdentityTable()
    thing, number = Thing(), table.index
    table.keep(id(thing), 1, thing)
    del table
    assert number not in identity._TABLES
    assert IdentityTable().index != number  # (numbers are never reused)
    del thing  # (its watch names a table gone: nothing to drop)


def test_formulas_translated_by_identity_equal_their_translation_when_identities_are_reused():
    """`ltl._translated` (by the formula's identity) against `ltl.translate`, over formulas
    each let go before the next is made (most land where one before was)."""
    rng = random.Random(11)
    seen: set[int] = set()
    reused = 0
    for _ in range(500):
        node = f"n{rng.randrange(1000)}"
        formula = ast.LtlUnary(
            op=rng.choice(["eventually", "always"]), operand=ast.LtlFired(node=node)
        )
        reused += id(formula) in seen
        seen.add(id(formula))
        assert ltl._translated(formula) == ltl.translate(formula)
        del formula
    assert reused > 0


COMPILER_TABLES = (
    (lower, ("_EDGES", "_ANALYSIS", "_NODES", "_ARG_HEADS", "_DATA_EDGES", "_HEADS")),
    (analyses, ("_EDGE_READS", "_EDGE_READ_CALLS", "_READS", "_LATEST")),
    (check, ("_NODE_SHAPES",)),
)


@contextmanager
def _nothing_remembered() -> Iterator[None]:
    """Every identity table empty (and the last IRs forgotten) inside; put back after."""
    saved = [
        (module, name, getattr(module, name)) for module, names in COMPILER_TABLES for name in names
    ]
    lowered = dict(lower._LOWERED)
    for module, name, _ in saved:
        setattr(module, name, IdentityTable())
    lower._LOWERED.clear()
    try:
        yield
    finally:
        for module, name, table in saved:
            setattr(module, name, table)
        lower._LOWERED.clear()
        lower._LOWERED.update(lowered)


def _parse(source: str, name: str) -> tuple[ast.Module | None, list]:
    result = parse_module(source, name)
    return result.module, result.diagnostics


def _statement_ids(module: ast.Module) -> set[int]:
    return {id(s) for decl in module.decls for s in getattr(decl, "body", ())} | set(
        map(id, module.decls)
    )


@pytest.mark.parametrize(("nodes", "seed"), [(12, 5), (40, 6)])
def test_checks_with_identities_reused_equal_checks_from_nothing(nodes: int, seed: int):
    """Along a seeded walk, each step's candidates are checked with the tables warm
    (an editor's verdict, and the analyses' IRs of one session), then let go: the next
    ones are made in their memory. Each verdict and IR equals the one made with every
    table empty."""
    filename = "edits.agent"
    editor = rolegraph.editor(filename)
    session = CheckSession(filename)
    rng = random.Random(seed)
    earlier: set[int] = set()  # the identities of earlier candidates' own statements
    reused = compared = 0
    for program in edit_walk(generated_module(4, nodes), random.Random(seed), 5):
        parent = _statement_ids(program)
        sites = [edit for operator in OPERATORS for edit in operator.sites(program)]
        for edit in rng.sample(sites, min(20, len(sites))):
            try:
                edited = edit.apply(program)
            except (EditError, ValueError):
                continue
            own = _statement_ids(edited) - parent
            reused += bool(own & earlier)  # (an earlier one's, freed: its identity again)
            earlier |= own
            accepted = editor.accepts(program, edit)
            warm = _analysis_irs(session, edited)
            with _nothing_remembered():
                cold = check_module(edited, filename, _parse, "", errors_only=True)
                assert accepted == (not cold.errors), edit
                assert warm == _analysis_irs(CheckSession(filename), edited), edit
            del edited, cold
            compared += 1
    assert compared > 40
    assert reused > 0


@pytest.mark.parametrize("enabled", [True, False])
def test_the_editor_leaves_the_collector_as_it_found_it(enabled: bool):
    module = generated_module(3, 8)
    editor = rolegraph.editor("edits.agent")
    sites = [edit for operator in OPERATORS for edit in operator.sites(module)]
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        for edit in sites[:40]:
            editor.accepts(module, edit)  # (valid ones and refused ones: InvalidEdit raised)
            assert gc.isenabled() is enabled
        with pytest.raises(ZeroDivisionError):
            failing = Editor(lambda _: [1 // 0])
            failing.apply(module, sites[0])
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
