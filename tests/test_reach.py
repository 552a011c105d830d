"""Reachability by topological rank (compiler/reach.py), against networkx's descendants
and strongly connected components on random graphs: two implementations that share no
code."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rolegraph.compiler.reach import Reachability, ancestor_masks, topological_ranks

graphs = st.integers(1, 25).flatmap(
    lambda n: st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n).map(
        lambda edges: _successors(n, edges)
    )
)


def _successors(n: int, edges: list[tuple[int, int]]) -> dict[str, set[str]]:
    successors: dict[str, set[str]] = {f"n{i}": set() for i in range(n)}
    for a, b in edges:
        successors[f"n{a}"].add(f"n{b}")
    return successors


def _networkx(successors: dict[str, set[str]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(successors)
    graph.add_edges_from((a, b) for a, targets in successors.items() for b in targets)
    return graph


@settings(max_examples=200, deadline=None)
@given(graphs)
def test_ranks_order_the_strongly_connected_components_topologically(successors):
    rank = topological_ranks(successors)
    component = {
        node: index
        for index, nodes in enumerate(nx.strongly_connected_components(_networkx(successors)))
        for node in nodes
    }
    for source, targets in successors.items():
        for target in targets:
            assert rank[source] <= rank[target]
    for a in successors:
        for b in successors:
            assert (rank[a] == rank[b]) == (component[a] == component[b])


@settings(max_examples=200, deadline=None)
@given(graphs, st.data())
def test_reaches_agrees_with_descendants(successors, data):
    graph = _networkx(successors)
    reach = Reachability(successors)
    if data.draw(st.booleans()):  # answered from a backward pass instead of a search
        reach.ancestors(data.draw(st.sampled_from(sorted(successors))))
    for a in successors:
        descendants = nx.descendants(graph, a) | {a}
        for b in successors:
            assert reach.reaches(a, b) == (b in descendants), (a, b)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(graphs, st.data())
def test_ancestor_masks_agree_with_networkx_and_any_reaches(successors, data):
    """The explorer's bitsets (which frontier can still lead to a loop edge's source)
    answer as networkx's ancestors do, and as `Reachability.any_reaches`."""
    graph = _networkx(successors)
    nodes = sorted(successors)
    targets = data.draw(st.lists(st.sampled_from(nodes), max_size=5))
    bit, masks = ancestor_masks(successors, targets)
    assert sorted(masks) == sorted(set(targets))
    assert len(set(bit.values())) == len(nodes)
    reach = Reachability(successors)
    for target in targets:
        leads = nx.ancestors(graph, target) | {target}
        assert masks[target] == sum(bit[n] for n in leads)
        sources = data.draw(st.lists(st.sampled_from(nodes), max_size=4))
        mask = 0
        for node in sources:
            mask |= bit[node]
        assert bool(mask & masks[target]) == reach.any_reaches(sources, target)
        assert bool(mask & masks[target]) == any(n in leads for n in sources)


@pytest.mark.slow
def test_ranks_of_a_chain_of_100000_nodes_need_no_recursion():
    successors = {f"n{i}": {f"n{i + 1}"} for i in range(100_000)}
    successors["n100000"] = set()
    rank = topological_ranks(successors)
    assert rank["n0"] < rank["n50000"] < rank["n100000"]
    assert not Reachability(successors).reaches("n99999", "n3")
