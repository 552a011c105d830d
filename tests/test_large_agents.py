"""Agents of thousands of nodes check and run; chains of agents stop at a located limit.

Nothing recurses once per node or per firing (the explorer keeps an explicit stack, the
executor is event-driven), and nothing walks the whole graph per step: a chain or a
fan-out of 5,000 nodes checks and runs on the mock, within Python's default stack and
well within a much smaller one.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app
from rolegraph.compiler.depth import MAX_AGENT_NESTING
from rolegraph.compiler.paths import explore_agent
from rolegraph.runtime import run_agent

from .hostile import agent_chain, chain_agent, fan_out_agent

pytestmark = pytest.mark.slow  # agents of 5,000 nodes

runner = CliRunner()
LARGE = {"chain": (chain_agent, "Chain"), "fan-out": (fan_out_agent, "Fan")}


@contextmanager
def _recursion_limit(frames: int):
    before = sys.getrecursionlimit()
    sys.setrecursionlimit(frames)
    try:
        yield
    finally:
        sys.setrecursionlimit(before)


def _cli(*args: str):
    result = runner.invoke(app, list(args))
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("shape", sorted(LARGE))
def test_an_agent_of_5000_nodes_checks_clean(shape, tmp_path):
    build, _ = LARGE[shape]
    path = tmp_path / "large.agent"
    path.write_text(build(5000))
    result = _cli("check", str(path))
    assert result.exit_code == 0, result.output[-2000:]


@pytest.mark.parametrize("shape", sorted(LARGE))
def test_an_agent_of_5000_nodes_runs_on_the_mock(shape, tmp_path):
    build, _ = LARGE[shape]
    path = tmp_path / "large.agent"
    path.write_text(build(5000))
    result = _cli("run", str(path), "--model", "mock", "--no-store", "-q", "-i", '{"task": "t"}')
    assert result.exit_code == 0, result.output[-2000:]
    assert "text" in result.stdout


@pytest.mark.parametrize("shape", sorted(LARGE))
def test_exploring_an_agent_of_5000_nodes_does_not_recurse_per_node(shape):
    build, name = LARGE[shape]
    ir = rolegraph.check_source(build(5000), "large.agent").irs[name]
    with _recursion_limit(200):
        diagnostics, _ = explore_agent(ir)
    assert diagnostics == []


@pytest.mark.parametrize("shape", sorted(LARGE))
def test_running_an_agent_of_5000_nodes_does_not_recurse_per_firing(shape):
    build, name = LARGE[shape]
    ir = rolegraph.check_source(build(5000), "large.agent").irs[name]
    with _recursion_limit(300):
        outcome = asyncio.run(run_agent(ir, {"task": "t"}, model="mock"))
    assert len(outcome.trace.firings) == (5000 if shape == "chain" else 5002)


def test_a_long_chain_loads_and_runs_from_python():
    text = chain_agent(2000)
    assert rolegraph.load_agent("chain.agent", text=text).name == "Chain"
    assert rolegraph.run("chain.agent", {"task": "t"}, model="mock", text=text) is not None


def test_agents_nested_to_the_limit_check_and_run(tmp_path):
    path = tmp_path / "nested.agent"
    path.write_text(agent_chain(MAX_AGENT_NESTING))
    assert _cli("check", str(path)).exit_code == 0
    ran = _cli("run", str(path), "--model", "mock", "--no-store", "-q", "-i", '{"task": "t"}')
    assert ran.exit_code == 0, ran.output[-2000:]


def test_a_chain_of_1000_agents_is_e0409_at_the_call_one_level_too_deep(tmp_path):
    path = tmp_path / "agents.agent"
    path.write_text(agent_chain(1000))
    result = _cli("check", str(path))
    assert result.exit_code == 1
    assert result.output.count("error[E0409]") == 1
    # agent A32 calls A31, which nests 32 levels already: A32's node is the place
    line = next(i for i, text in enumerate(agent_chain(1000).splitlines(), 1) if "A32(" in text)
    assert f"agents.agent:{line + 1}:3" in result.output
