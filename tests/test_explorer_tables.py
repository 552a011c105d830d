"""The explorer's tables derived from the last agent's (compiler/explorer_tables.py) are
the tables built afresh, entry for entry; and the nodes `_Explorer.may_read_otherwise`
lists hold every node whose view (`_Explorer.reads_as`) differs.

The oracles: the tables built over every node (`_built`), and `reads_as` asked of every
node. Along seeded random walks of edits over every example and stdlib file and over the
benchmark's generated agents, and over many edits of one agent one after the other (as
the editor and the bench check them); the walks must derive tables.
"""

from __future__ import annotations

import random
from operator import is_
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import explorer_tables, paths
from rolegraph.compiler.edits import OPERATORS, EditError

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .edit_walks import edit_walk, generated_module
from .test_explorer_resume import _irs


class Derived:
    """Counts the tables derived from the last ones (not built afresh)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        derived = explorer_tables._derived

        def counted(ir, last):
            self.count += 1
            return derived(ir, last)

        monkeypatch.setattr(explorer_tables, "_derived", counted)


def _same_tables(made: explorer_tables.Tables, fresh: explorer_tables.Tables) -> None:
    assert list(made.out) == list(fresh.out)
    for name, edges in fresh.out.items():
        assert len(made.out[name]) == len(edges) and all(map(is_, made.out[name], edges)), name
    assert list(made.dependents.items()) == list(fresh.dependents.items())
    assert list(made.deps_of.items()) == list(fresh.deps_of.items())
    assert made.return_deps == fresh.return_deps
    assert list(made.return_of_dep.items()) == list(fresh.return_of_dep.items())
    assert list(made.delivers.items()) == list(fresh.delivers.items())
    assert made.entries == fresh.entries
    assert made.names == fresh.names and made.position == fresh.position


def check_tables(ir, last: explorer_tables.Tables | None) -> explorer_tables.Tables:
    """`ir`'s tables, made after `last`'s: the ones built afresh; and every node whose
    view differs from `last`'s agent is among the suspects."""
    explorer = paths._Explorer(ir, until_certain=True)
    made = explorer.graph
    names = tuple(ir.nodes)
    _same_tables(made, explorer_tables._built(ir, names, [tuple(r.deps) for r in ir.returns_]))
    if last is not None:
        suspects = explorer.may_read_otherwise(last)
        if suspects is not None:
            for name in last.names:
                if not explorer.reads_as(name, last):
                    assert name in suspects, (ir.name, name)
    return made


def walk(programs, filename: str) -> None:
    last = None
    for program in programs:
        for ir in _irs(program, filename):
            last = check_tables(ir, last)


@pytest.fixture(autouse=True)
def _nothing_made():
    explorer_tables.forget()


@pytest.mark.parametrize("path", EXAMPLES + STDLIB, ids=lambda p: p.name)
def test_random_edits_of_examples_and_stdlib_derive_the_tables_built_afresh(path: Path):
    module = rolegraph.parse(path.read_text(), str(path))
    walk(edit_walk(module, random.Random(len(path.name) + 3), 12), str(path))


@pytest.mark.parametrize(("nodes", "seed"), [(20, 4), (60, 5)])
def test_random_edits_of_generated_agents_derive_the_tables_built_afresh(nodes, seed, monkeypatch):
    derived = Derived(monkeypatch)
    walk(edit_walk(generated_module(5, nodes), random.Random(seed), 20), "edits.agent")
    assert derived.count >= 1, derived.count  # (built afresh when names change)


@pytest.mark.parametrize(("nodes", "seed"), [(20, 7), (60, 8)])
def test_sibling_edits_of_generated_agents_derive_the_tables_built_afresh(nodes, seed, monkeypatch):
    """As the editor and the bench check them: many edits of one agent, one after the
    other."""
    derived = Derived(monkeypatch)
    module = generated_module(5, nodes)
    sites = [e for operator in OPERATORS for e in operator.sites(module)]
    programs = []
    for site in random.Random(seed).sample(sites, 60):
        try:
            programs.append(site.apply(module))
        except (EditError, ValueError):
            continue
    walk(programs, "edits.agent")
    assert derived.count >= 20, derived.count


def _agent(x_reads: str, y_deps: str = "d.text") -> str:
    return PRELUDE + (
        "agent A(task: str) -> Draft {\n  d = Writer(task)\n"
        f"  x = Writer(task{x_reads})\n  y = Writer(task, {y_deps})\n"
        "  return y\n  ensure eventually y\n}\n"
    )


@pytest.mark.parametrize(
    "texts",
    [
        # a node before `d`'s consumer `y` comes to read `d`: `d`'s consumers in order
        (_agent(""), _agent(", d.text")),
        (_agent(", d.text"), _agent("")),
        # `y` reads the same nodes, the other way round: `d`'s and `x`'s views differ
        (_agent("", "d.text + x.text"), _agent("", "x.text + d.text")),
    ],
    ids=["comes to read", "stops reading", "reads the other way round"],
)
def test_a_node_that_reads_otherwise_derives_the_tables_built_afresh(texts):
    last = None
    for text in texts:
        checked = rolegraph.check_source(text, "a.agent")
        assert not checked.errors, checked.errors
        (ir,) = checked.irs.values()
        last = check_tables(ir, last)
