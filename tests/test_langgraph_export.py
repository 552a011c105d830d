"""The LangGraph export: the exported StateGraph gives the same result as rolegraph on
mock, for every example, every standard pattern and random agents. (Skipped where the
optional `langgraph` extra is not installed.)"""

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings

import rolegraph
from rolegraph.stdlib import module_names, module_path

from .checking import PRELUDE
from .conftest import EXAMPLES
from .test_check_property import well_typed_agents

pytest.importorskip("langgraph")

from rolegraph.runtime.langgraph_export import run_langgraph, to_langgraph

PATTERNS = [
    (name, decl.name)
    for name in module_names()
    for decl in rolegraph.parse_file(module_path(name)).agents
]


def same_result(ir, inputs, path=None, text=None):
    # (human steps, through `interrupt()`: answered as the mock would, on both sides)
    expected = asyncio.run(
        rolegraph.arun(path, inputs, agent=ir.name, model="mock", text=text, answers="mock")
    )
    graph = to_langgraph(ir, model="mock")
    assert type(graph).__name__ == "CompiledStateGraph"
    got = asyncio.run(run_langgraph(graph, inputs, answers="mock"))
    assert got == expected.result


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_exported_to_langgraph_gives_the_same_result(path):
    ir = rolegraph.load_agent(path)
    same_result(ir, {name: "What is 17 * 23?" for name in ir.param_types}, path)


@pytest.mark.parametrize(("module", "agent"), PATTERNS, ids=[f"{m}.{a}" for m, a in PATTERNS])
def test_a_standard_pattern_exported_to_langgraph_gives_the_same_result(module, agent):
    ir = rolegraph.load_agent(module_path(module), agent)
    same_result(ir, {name: "What is 17 * 23?" for name in ir.param_types}, module_path(module))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents())
def test_random_agents_exported_to_langgraph_give_the_same_result(agent):
    text = PRELUDE + agent
    ir = rolegraph.load_agent("random.agent", text=text)
    same_result(ir, {"task": "t"}, "random.agent", text)
