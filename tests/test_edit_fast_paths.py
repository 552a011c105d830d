"""The editor's fast paths against the general ones: the errors-only graph analyses (which
decide "no cycle" from the strongly connected components) against the full analyses'
errors (a depth-first search for a cycle), the cycle test against that search on random
graphs, the editor leaving the cyclic collector as it found it, and plain edges read
without the parser against the parser's trees."""

from __future__ import annotations

import gc
import random
import sys

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.analyses import _has_cycle, analyse, find_cycle
from rolegraph.compiler.edits import OPERATORS, EditError
from rolegraph.compiler.edits.base import parse_statement, parsed_statement, simple_edge
from rolegraph.compiler.edits.edges import AddEdge
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


def _parsed_edge(text: str) -> ast.Node | None:
    try:
        return parsed_statement(text, "the edge")
    except EditError:
        return None


def _same_with_spans(fast: ast.Node, parsed: ast.Node | None) -> bool:
    """Equal trees, trivia included (equality leaves spans out; diagnostics read them)."""
    return parsed is not None and fast.model_dump() == parsed.model_dump()


def test_every_drawn_edge_is_read_without_the_parser_into_the_parsers_tree():
    modules = [_generated(20), _generated(40)]
    modules += [rolegraph.parse(p.read_text(), p.name) for p in EXAMPLES]
    texts = {
        edit.edge for module in modules if module is not None for edit in AddEdge.sites(module)
    }
    assert len(texts) > 100
    for text in sorted(texts):
        fast = simple_edge(text)
        assert fast is not None, text
        assert _same_with_spans(fast, _parsed_edge(text)), text
        assert parse_statement(text, "the edge") is parse_statement(text, "the edge")


def test_a_plain_edge_is_read_as_the_parser_reads_it_on_seeded_random_texts():
    """Random texts near the plain edge's shape (keywords and temporal letters as names,
    bounds 0 and with leading zeros, extra spaces, ports, other guards, trailing text):
    whatever the fast path reads, the parser reads alike, spans included."""
    rng = random.Random(15)

    def pick(usual: list[str], odd: list[str]) -> str:
        return rng.choice(odd if rng.random() < 0.08 else usual)

    def name() -> str:
        return pick(["a", "b", "n_1", "_x", "ok", "Ab9"], ["X", "G", "max", "not", "when", "in"])

    def sp() -> str:
        return pick([" "], ["  ", "", "\t"])

    read = refused_by_parser = 0
    for _ in range(3000):
        text = name() + sp() + pick(["->"], ["=>", "-", "→"]) + sp() + name()
        text += pick([""], ["(x: a.b)", "()"])
        if rng.random() < 0.6:
            guard = pick(["not" + sp(), ""], ["not", "!", "-"])
            text += sp() + pick(["when"], ["else", "whenever"]) + sp() + guard
            text += name() + pick(["."], [" .", "", ".a."]) + name()
        if rng.random() < 0.9:
            bound = pick(["1", "2", "10", "123456789"], ["0", "007", "1234567890", "k"])
            text += sp() + pick(["max"], ["maximum", "max:"]) + sp() + bound
        text += pick([""], [" ", " # c", ";", "\n"])
        fast = simple_edge(text)
        if fast is None:
            continue
        read += 1
        parsed = _parsed_edge(text)
        refused_by_parser += parsed is None
        assert _same_with_spans(fast, parsed), text
    assert read > 500 and refused_by_parser == 0
