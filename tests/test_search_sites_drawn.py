"""A search's sites, listed as far as drawing needs (search/candidates.py `SitesDrawn`),
are every operator's sites as `operator.sites` lists them, in order, whatever order the
operators are asked in: the operators with a site, and each one's sites, on seeded random
edit walks over the examples and over generated agents (hypothesis)."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.edits import OPERATORS
from rolegraph.search.candidates import SitesDrawn

from .checking import PRELUDE
from .conftest import EXAMPLES
from .test_check_property import well_typed_agents

EDITOR = rolegraph.editor("walk.agent")


def assert_drawn_as_listed(module, rng: random.Random) -> None:
    listed = {operator: list(operator.sites(module)) for operator in OPERATORS}
    drawn = SitesDrawn(module, OPERATORS)
    assert drawn.choices == [operator for operator in OPERATORS if listed[operator]]
    asked = list(OPERATORS)
    rng.shuffle(asked)  # (an operator's sites are listed when it is first drawn)
    for operator in asked:
        assert drawn[operator] == listed[operator], operator.__name__
        assert drawn[operator] == listed[operator]  # (asked again: the same list)


def walk(editor, start, steps: int, rng: random.Random) -> None:
    module = start
    for _ in range(steps):
        assert_drawn_as_listed(module, rng)
        found = editor.sample(module, rng)
        if found is None:
            return
        module = found[1]


def test_the_sites_drawn_are_the_sites_listed_on_walks_over_the_examples():
    rng = random.Random(20261208)
    for path in EXAMPLES:
        walk(rolegraph.editor(str(path)), rolegraph.parse_file(path), 8, rng)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents(), st.integers(0, 2**32))
def test_the_sites_drawn_are_the_sites_listed_on_walks_over_generated_agents(agent, seed):
    walk(EDITOR, rolegraph.parse(PRELUDE + agent), 6, random.Random(seed))
