"""The editor's fast paths against the general ones: the errors-only graph analyses (which
decide "no cycle" from the strongly connected components) against the full analyses'
errors (a depth-first search for a cycle), the cycle test against that search on random
graphs, and the editor leaving the cyclic collector as it found it."""

from __future__ import annotations

import gc
import random
import sys

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.analyses import _has_cycle, analyse, find_cycle
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.reach import Reachability

from .conftest import EXAMPLES, ROOT


def _generated(nodes: int) -> ast.Module:
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    return rolegraph.parse(large_program(roles=6, nodes=nodes), "generated.agent")


def test_the_cycle_test_agrees_with_a_depth_first_search_on_random_graphs():
    rng = random.Random(15)
    cyclic = 0
    for _ in range(400):
        names = [f"n{i}" for i in range(rng.randint(1, 9))]
        graph = {
            name: {t for t in names if rng.random() < rng.choice([0.05, 0.15, 0.3])}
            for name in names
        }
        expected = find_cycle(graph) is not None
        assert _has_cycle(Reachability(graph)) == expected, graph
        cyclic += expected
    assert 50 < cyclic < 350  # both kinds of graph were met


def _errors(diagnostics: list) -> list[str]:
    return [repr(d) for d in diagnostics if d.is_error]


@pytest.mark.parametrize("source", ["generated", *[p.stem for p in EXAMPLES[:4]]])
def test_errors_only_analyses_report_the_errors_of_the_full_analyses(source: str):
    """On every candidate of every operator (cycles, races and all), the errors-only
    analyses of its IR give the errors of the full analyses, in the same order."""
    if source == "generated":
        module, filename = _generated(30), "generated.agent"
    else:
        path = next(p for p in EXAMPLES if p.stem == source)
        module, filename = rolegraph.parse_file(path), str(path)
    session = CheckSession(filename)
    compared = with_errors = 0
    for edit in [e for operator in OPERATORS for e in operator.sites(module)]:
        try:
            edited = edit.apply(module)
        except (EditError, ValueError):
            continue
        checked = session.check(edited, explore=False)
        for ir in checked.irs.values():
            full = _errors(analyse(ir))
            assert _errors(analyse(ir, errors_only=True)) == full, edit
            compared += 1
            with_errors += bool(full)
    assert compared > (10 if source == "generated" else 2)
    if source == "generated":
        assert with_errors > 0  # (cycles and races were met)


NO_SUCH_AGENT = '{"op": "remove_edge", "agent": "Nope", "key": "a -> b"}'


def test_the_editor_leaves_the_cyclic_collector_as_it_found_it():
    module = _generated(12)
    editor = rolegraph.editor("generated.agent")
    sites = [e for operator in OPERATORS for e in operator.sites(module)]
    accepted = refused = 0
    enabled = gc.isenabled()
    try:
        for collecting in (True, False):
            (gc.enable if collecting else gc.disable)()
            for edit in sites[:: max(1, len(sites) // 40)]:
                try:
                    editor.apply(module, edit)
                    accepted += 1
                except EditError:
                    refused += 1
                assert gc.isenabled() == collecting
            with pytest.raises(EditError):
                editor.apply_script(module, [sites[0], editor.from_json(NO_SUCH_AGENT)])
            assert gc.isenabled() == collecting
    finally:
        (gc.enable if enabled else gc.disable)()
    assert accepted and refused
