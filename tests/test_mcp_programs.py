"""MCP tools wherever an agent runs: `test` blocks, and the Python module `rolegraph
compile` writes (the same run as the `.agent` file's)."""

from __future__ import annotations

import asyncio
import importlib.util
import sys

import pytest
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app

from .conftest import ROOT
from .mcp_agents import source

pytest.importorskip("mcp")

NOTES = ROOT / "examples" / "mcp" / "notes.agent"

SUM = """agent Sum(a: int, b: int) -> int {
  s = add(a, b)
  return s
}
"""


def test_a_test_block_runs_its_agent_against_the_server(tmp_path):
    path = tmp_path / "sum.agent"
    path.write_text(
        source(
            SUM
            + "\ntest adds {\n  run Sum(2, 3)\n  expect result == 5\n}\n"
            + "\ntest wrong {\n  run Sum(2, 3)\n  expect result == 6\n}\n"
        )
    )
    result = CliRunner().invoke(app, ["test", str(path)])
    assert "::adds PASSED" in result.output
    assert "::wrong FAILED" in result.output and "(result is 5)" in result.output
    assert result.exit_code == 1


def load(code: str, tmp_path, name: str):
    path = tmp_path / f"{name}.py"
    path.write_text(code)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_the_compiled_example_runs_as_the_agent_file_does(tmp_path, monkeypatch):
    code = rolegraph.compile_python(NOTES)
    assert 'notes = rg.mcp("notes", "python3 notes_server.py", {"timeout": 10})' in code
    assert '@rg.tool("word-count", server=notes)' in code
    # (the generated module declares the server with the same command, started in the
    # folder of the file that declares it: here, the generated module's own program)
    monkeypatch.chdir(NOTES.parent)
    generated = load(code, tmp_path, "notes_compiled")
    inputs = {"topic": "deltas"}
    expected = asyncio.run(rolegraph.arun(NOTES, inputs, model="mock"))
    got = asyncio.run(generated.PROGRAM.run("Research", inputs, model="mock"))
    assert got.result == expected.result
    assert got.trace.shape() == expected.trace.shape()
    assert got.trace.firings[0].output == expected.trace.firings[0].output
