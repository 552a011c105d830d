"""`rolegraph mcp serve`: the agents of a file as MCP tools, called by the official SDK's
own client (`mcp.client.stdio`) the way any MCP host would call them."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

import rolegraph
from rolegraph.runtime import run_agent
from rolegraph.runtime.values import plain

from .conftest import ROOT

EXAMPLES = ROOT / "examples"

pytest.importorskip("mcp")

TOOLS_FILE = """model m = "mock"

type Verdict { ok: bool, reason: str }

role Judge(claim: str, strict: bool) -> Verdict {
  model m
  prompt "Is this true? {{ claim }} (strict: {{ strict }})"
}

role Counter(text: str) -> int {
  model m
  prompt "How many words? {{ text }}"
}

tool parse(text: str) -> int = "json:loads"

// Judges a claim, strictly or not.
agent Judged(claim: str, strict: bool = false) -> Verdict {
  j = Judge(claim, strict)
  return j
}

agent Count(text: str, extra: list[str]?) -> int {
  c = Counter(text)
  return c
}

agent Parse(text: str) -> int {
  p = parse(text)
  return p
}
"""


async def session_call(
    path: Path, calls: list[tuple[str, dict[str, Any]]], garbled: list | None = None
) -> tuple[Any, list]:
    """List the tools of `rolegraph mcp serve path --model mock`, then make `calls`;
    what the client could not read as MCP goes to `garbled`."""
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    parameters = StdioServerParameters(
        command=sys.executable,
        args=["-m", "rolegraph.cli", "mcp", "serve", str(path), "--model", "mock"],
    )

    async def on_message(message: Any) -> None:
        if isinstance(message, Exception) and garbled is not None:
            garbled.append(message)

    async with (
        stdio_client(parameters) as (read, write),
        ClientSession(read, write, message_handler=on_message) as session,
    ):
        await session.initialize()
        listed = await session.list_tools()
        results = [await session.call_tool(name, arguments) for name, arguments in calls]
    return listed, results


def serve(
    path: Path, calls: list[tuple[str, dict[str, Any]]], garbled: list | None = None
) -> tuple[Any, list]:
    return asyncio.run(session_call(path, calls, garbled))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    path = tmp_path_factory.mktemp("serve") / "tools.agent"
    path.write_text(TOOLS_FILE)
    calls = [
        ("Judged", {"claim": "water is wet"}),
        ("Judged", {"claim": "water is wet", "strict": True}),
        ("Count", {"text": "one two three", "extra": None}),
        ("Parse", {"text": "not json"}),
        ("Count", {"text": 3, "extra": None}),
        ("Nobody", {}),
    ]
    listed, results = serve(path, calls)
    return path, listed, results


def test_each_agent_is_listed_with_its_parameters_as_input_schema(served):
    _, listed, _ = served
    tools = {tool.name: tool for tool in listed.tools}
    assert sorted(tools) == ["Count", "Judged", "Parse"]
    judged = tools["Judged"]
    assert judged.inputSchema["properties"] == {
        "claim": {"type": "string"},
        "strict": {"type": "boolean", "default": False},
    }
    assert judged.inputSchema["required"] == ["claim"]
    assert judged.description == "Judges a claim, strictly or not."
    assert judged.outputSchema["properties"] == {
        "ok": {"type": "boolean"},
        "reason": {"type": "string"},
    }
    count = tools["Count"]
    assert count.inputSchema["properties"]["extra"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }
    assert count.outputSchema["properties"] == {"result": {"type": "integer"}}


def test_a_call_answers_what_running_the_agent_gives(served):
    path, _, results = served
    for result, (agent, inputs) in zip(
        results[:3],
        [
            ("Judged", {"claim": "water is wet"}),
            ("Judged", {"claim": "water is wet", "strict": True}),
            ("Count", {"text": "one two three", "extra": None}),
        ],
        strict=True,
    ):
        # the oracle: the same agent run in this process on the same deterministic mock
        ir = rolegraph.load_agent(path, agent)
        expected = plain(asyncio.run(run_agent(ir, inputs, model="mock")).result)
        assert not result.isError, result.content
        structured = result.structuredContent
        got = structured if agent == "Judged" else structured["result"]
        assert got == expected
        assert json.loads(result.content[0].text) == expected


def test_a_failing_run_answers_an_error_result_saying_why(served):
    _, _, results = served
    failed = results[3]
    assert failed.isError
    text = failed.content[0].text
    assert "agent Parse failed" in text and "node `p` failed" in text


def test_arguments_that_do_not_fit_the_schema_are_refused(served):
    _, _, results = served
    assert results[4].isError
    assert "3 is not of type 'string'" in results[4].content[0].text


def test_an_unknown_agent_is_an_error_result(served):
    _, _, results = served
    assert results[5].isError
    assert "Nobody" in results[5].content[0].text


def test_an_example_is_served_and_called():
    listed, (result,) = serve(EXAMPLES / "self_refine.agent", [("SelfRefine", {"task": "2+2?"})])
    assert [t.name for t in listed.tools] == ["SelfRefine"]
    ir = rolegraph.load_agent(EXAMPLES / "self_refine.agent", "SelfRefine")
    expected = plain(asyncio.run(run_agent(ir, {"task": "2+2?"}, model="mock")).result)
    assert result.structuredContent == expected


def test_what_a_tool_prints_does_not_break_the_protocol(tmp_path):
    (tmp_path / "noisy.py").write_text(
        "def shout(text: str) -> str:\n"
        "    print('noise on stdout', flush=True)\n"
        "    return text.upper()\n"
    )
    path = tmp_path / "noisy.agent"
    path.write_text(
        'tool shout(text: str) -> str = "noisy:shout"\n'
        "agent Loud(text: str) -> str {\n  s = shout(text)\n  return s\n}\n"
    )
    garbled: list = []
    _, (result,) = serve(path, [("Loud", {"text": "hi"})], garbled)
    assert not result.isError and result.structuredContent == {"result": "HI"}
    assert garbled == []  # (the print went to stderr, not into the protocol)


def test_rolegraph_calls_the_agents_another_rolegraph_serves(served, tmp_path):
    """Both directions at once: a file declares the served agents as MCP tools; `check
    --connect` finds the declarations agree with what `mcp serve` lists, and a run calls
    them across the two processes, getting what running them here gives."""
    import shlex

    from typer.testing import CliRunner

    from rolegraph.cli import app
    from rolegraph.compiler.literals import encode

    path, _, _ = served
    command = shlex.join(
        [sys.executable, "-m", "rolegraph.cli", "mcp", "serve", str(path), "--model", "mock"]
    )
    client = tmp_path / "client.agent"
    client.write_text(
        f"mcp served = {encode(command)} {{ timeout: 60 }}\n"
        "type Verdict { ok: bool, reason: str }\n"
        "tool judged(claim: str, strict: bool = false) -> Verdict = served.Judged\n"
        "tool count(text: str, extra: list[str]?) -> int = served.Count\n"
        "agent Ask(claim: str) -> Verdict {\n  v = judged(claim, strict: true)\n  return v\n}\n"
        "agent HowMany(text: str) -> int {\n  n = count(text, extra: none)\n  return n\n}\n"
    )
    result = CliRunner().invoke(app, ["check", "--connect", "--json", str(client)])
    assert (result.exit_code, json.loads(result.stdout)) == (0, [])
    for agent, served_agent, inputs, served_inputs in [
        ("Ask", "Judged", {"claim": "water is wet"}, {"claim": "water is wet", "strict": True}),
        ("HowMany", "Count", {"text": "a b c"}, {"text": "a b c", "extra": None}),
    ]:
        got = asyncio.run(rolegraph.arun(client, inputs, agent=agent, model="mock")).result
        ir = rolegraph.load_agent(path, served_agent)
        expected = asyncio.run(run_agent(ir, served_inputs, model="mock")).result
        assert plain(got) == plain(expected)
    # a declaration that disagrees with the served agent is found
    client.write_text(
        client.read_text()
        .replace("tool judged(claim: str,", "tool judged(claim: int,")
        .replace("agent Ask(claim: str)", "agent Ask(claim: int)")
    )
    result = CliRunner().invoke(app, ["check", "--connect", "--json", str(client)])
    (found,) = json.loads(result.stdout)
    assert found["code"] == "E0623" and "parameter `claim`" in found["message"]
