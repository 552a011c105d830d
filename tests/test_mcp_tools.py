"""Tools of an MCP server at run time, against a real server: the SDK's FastMCP server in
tests/mcp_server.py, started by each run on stdio (and once on streamable HTTP).

A round trip: call, structured results, an error, a timeout, a crash — each a failed
firing that `on error` routes, never a hang — with one session per server per run,
and the server's process stopped when the run ends, however it ends."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

import rolegraph
from rolegraph.runtime import FiringFailed, MockModel, RunError, run_agent

from .mcp_agents import http_server, source

pytest.importorskip("mcp")


def ir_of(agents: str, agent: str, **options: str):
    return rolegraph.load_agent("mcp.agent", agent, text=source(agents, **options))


def run(ir, inputs=None, model=None):
    return asyncio.run(run_agent(ir, inputs or {}, model=model or MockModel()))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # (a zombie is gone for every purpose; its parent, this process, reaps it later)
    status = f"/proc/{pid}/status"
    if os.path.exists(status):
        with open(status) as f:
            return "zombie" not in f.read()
    return True


def wait_gone(pid: int, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_tool_node_calls_the_server_and_coerces_its_result():
    ir = ir_of("agent Sum(a: int, b: int) -> int {\n  s = add(a, b)\n  return s\n}\n", "Sum")
    assert run(ir, {"a": 2, "b": 40}).result == 42


def test_a_record_result_arrives_as_the_declared_record():
    agents = "agent D(w: str) -> Description {\n  d = describe(w, upper: true)\n  return d\n}\n"
    outcome = run(ir_of(agents, "D"), {"w": "banana"})
    assert outcome.result == {
        "word": "BANANA",
        "length": 6,
        "vowels": ["a", "a", "a"],
    }


def test_a_result_that_does_not_fit_the_declared_type_fails_the_firing():
    agents = (
        "tool words(word: str) -> list[int] = calc.describe\n"
        "agent W(w: str) -> list[int] {\n  d = words(w)\n  return d\n}\n"
    )
    with pytest.raises(FiringFailed) as error:
        run(ir_of(agents, "W"), {"w": "banana"})
    assert "node `d` failed" in str(error.value)


def test_a_tool_named_like_no_identifier_is_called_by_its_name():
    agents = "agent S(w: str) -> str {\n  s = shout(w)\n  return s\n}\n"
    assert run(ir_of(agents, "S"), {"w": "hey"}).result == "HEY!"


def test_a_tool_error_is_a_failed_firing_that_on_error_routes():
    agents = (
        "agent F(w: str) -> str {\n  f = fail(w)\n"
        '  f -> return("routed: " + f.error) on error\n  return f\n}\n'
    )
    result = run(ir_of(agents, "F"), {"w": "no"}).result
    assert result.startswith("routed: ")
    assert "failing on purpose: no" in result


def test_a_tool_error_without_on_error_fails_the_run_naming_the_tool():
    agents = "agent F(w: str) -> str {\n  f = fail(w)\n  return f\n}\n"
    with pytest.raises(FiringFailed) as error:
        run(ir_of(agents, "F"), {"w": "no"})
    assert "tool `fail` of MCP server `calc` reported an error" in str(error.value)


def test_a_call_past_the_timeout_fails_the_firing_at_the_timeout():
    agents = (
        "agent T(w: str) -> str {\n  s = sleep(30.0)\n"
        '  s -> return("routed: " + s.error) on error\n  return s\n}\n'
    )
    result = run(ir_of(agents, "T", params="{ timeout: 1 }"), {"w": ""}).result
    # (not "awake": the call was given up after 1 s of the 30 it would take)
    assert result.startswith("routed: ") and "timed out after 1 s" in result


def test_a_server_that_dies_mid_call_fails_the_firing_and_later_calls_fail_fast():
    agents = (
        "agent C(w: str) -> str {\n  c = crash()\n"
        "  after = shout(c.error)\n"
        "  c -> after(name: c.error) on error\n"
        '  after -> return("second: " + after.error) on error\n'
        "  return after\n}\n"
    )
    result = run(ir_of(agents, "C", params="{ timeout: 600 }"), {"w": ""}).result
    # neither call waited for the timeout: the first failed as the connection closed,
    # the second at once, knowing the server had stopped
    assert result.startswith("second: ")
    assert "stopped earlier in this run" in result


def test_the_crash_is_reported_with_what_the_server_wrote_on_stderr():
    agents = "agent C(w: str) -> str {\n  c = crash(7)\n  return c\n}\n"
    with pytest.raises(FiringFailed) as error:
        run(ir_of(agents, "C"), {"w": ""})
    message = str(error.value)
    assert "tool `crash` of MCP server `calc` failed" in message
    assert "crashing on purpose (7)" in message


def test_one_session_per_server_per_run():
    agents = "agent N(w: str) -> list[int] {\n  a = count()\n  b = count()\n  return [a, b]\n}\n"
    ir = ir_of(agents, "N")
    first = run(ir, {"w": ""}).result
    second = run(ir, {"w": ""}).result
    # both calls of a run go to one process (it counted 1 and 2); the next run starts
    # its own (it counts from 1 again)
    assert sorted(first) == [1, 2]
    assert sorted(second) == [1, 2]


def test_the_server_process_is_stopped_when_the_run_returns():
    ir = ir_of("agent P(w: str) -> int {\n  p = pid()\n  return p\n}\n", "P")
    pid = run(ir, {"w": ""}).result
    assert pid != os.getpid()
    assert wait_gone(pid), f"the server {pid} outlived its run"


def test_the_server_process_is_stopped_when_the_run_fails():
    agents = "agent P(w: str) -> str {\n  p = pid()\n  f = fail(w)\n  p -> f\n  return f\n}\n"
    ir = ir_of(agents, "P")
    records = []
    with pytest.raises(RunError):
        asyncio.run(run_agent(ir, {"w": "x"}, model=MockModel(), on_record=records.append))
    pids = [r.output for r in records if r.node == "p" and r.status == "ok"]
    assert pids and wait_gone(pids[0])


def test_the_server_process_is_stopped_when_the_run_is_cancelled():
    agents = "agent P(w: str) -> str {\n  p = pid()\n  s = sleep(60.0)\n  return s\n}\n"
    ir = ir_of(agents, "P", params="{ timeout: 120 }")
    records = []

    async def cancel_while_sleeping() -> None:
        task = asyncio.ensure_future(
            run_agent(ir, {"w": ""}, model=MockModel(), on_record=records.append)
        )
        while not any(r.node == "p" and r.status == "ok" for r in records):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)  # (the sleep call is in flight)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_while_sleeping())
    pid = next(r.output for r in records if r.node == "p")
    assert wait_gone(pid), f"the server {pid} outlived its cancelled run"


def test_a_command_that_does_not_exist_fails_the_firing_with_its_name():
    agents = (
        "agent S(a: int) -> int {\n  s = add(a, a)\n  s -> return(0 - 1) on error\n  return s\n}\n"
    )
    ir = ir_of(agents, "S", address="no-such-mcp-command-xyz --flag")
    records = []
    asyncio.run(run_agent(ir, {"a": 1}, model=MockModel(), on_record=records.append))
    (failed,) = [r for r in records if r.status == "failed"]
    assert "no-such-mcp-command-xyz" in failed.error


def test_a_role_calls_an_mcp_tool_in_its_tool_loop():
    agents = (
        'model m = "mock"\n'
        'role Adder(q: str) -> int {\n  model m\n  prompt "{{ q }}"\n  tools [add]\n}\n'
        "agent R(q: str) -> int {\n  r = Adder(q)\n  return r\n}\n"
    )
    script = {
        "Adder": [
            {"tool": "add", "arguments": {"a": 20, "b": 22}},
            {"tool": "fail", "arguments": {"reason": "seen"}},
            7,
        ]
    }
    agents = agents.replace("tools [add]", "tools [add, fail]")
    records = []
    outcome = asyncio.run(
        run_agent(
            ir_of(agents, "R"), {"q": "?"}, model=MockModel(script=script), on_record=records.append
        )
    )
    assert outcome.result == 7
    (record,) = [r for r in records if r.node == "r"]
    first, second = record.tool_calls
    assert first["result"] == 42
    # a failing tool's error goes back to the model, as a Python tool's does
    assert "failing on purpose: seen" in second["result"]["error"]


def test_streamable_http_round_trip():
    with http_server() as url:
        agents = (
            "agent H(a: int, b: int) -> int {\n  s = add(a, b)\n  t = add(s, s)\n  return t\n}\n"
        )
        ir = ir_of(agents, "H", address=url)
        assert run(ir, {"a": 1, "b": 2}).result == 6
        agents = (
            "agent F(w: str) -> str {\n  f = fail(w)\n"
            '  f -> return("routed: " + f.error) on error\n  return f\n}\n'
        )
        assert "failing on purpose" in run(ir_of(agents, "F", address=url), {"w": "x"}).result


def test_an_unreachable_url_fails_the_firing():
    from .mcp_agents import free_port

    url = f"http://127.0.0.1:{free_port()}/mcp"
    agents = "agent S(a: int) -> int {\n  s = add(a, a)\n  s -> return(0) on error\n  return s\n}\n"
    ir = ir_of(agents, "S", address=url, params="{ connect_timeout: 5 }")
    records = []
    asyncio.run(run_agent(ir, {"a": 1}, model=MockModel(), on_record=records.append))
    (failed,) = [r for r in records if r.status == "failed"]
    assert f"cannot open a session with MCP server `calc` ({url})" in failed.error
    assert "ConnectError" in failed.error


def test_running_an_agent_without_mcp_tools_never_imports_the_sdk():
    code = (
        "import sys, asyncio, rolegraph\n"
        "ir = rolegraph.load_agent('examples/self_refine.agent')\n"
        "from rolegraph.runtime import run_agent\n"
        "asyncio.run(run_agent(ir, {'task': 't'}, model='mock'))\n"
        "text = open('tests/mcp_server.py').read()\n"
        "checked = rolegraph.check_source("
        "'mcp calc = \"python3 s.py\"\\ntool add(a: int) -> int = calc.add\\n')\n"
        "assert not checked.errors, checked.errors\n"
        "assert 'mcp' not in sys.modules, 'the mcp SDK was imported'\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_a_server_that_never_answers_fails_within_its_connect_timeout(tmp_path):
    import shlex

    pid_file = tmp_path / "pid"
    silent = shlex.join(
        [
            sys.executable,
            "-c",
            f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
            "time.sleep(120)",
        ]
    )
    agents = (
        "agent S(a: int) -> int {\n  s = add(a, a)\n  t = add(a, 1)\n"
        "  s -> return(0) on error\n  t -> return(1) on error\n  return t\n}\n"
    )
    ir = ir_of(agents, "S", address=silent, params="{ connect_timeout: 1 }")
    records = []
    asyncio.run(run_agent(ir, {"a": 1}, model=MockModel(), on_record=records.append))
    errors = [r.error for r in records if r.status == "failed"]
    # (the two calls wait for the same session: the first gives up at the connect
    # timeout, and the second with it, or at once after it)
    assert errors and "did not open a session within 1 s" in errors[0]
    assert wait_gone(int(pid_file.read_text())), "the silent server outlived its run"


def test_listing_the_tools_of_the_server():
    from rolegraph.compiler.mcp_servers import McpServer
    from rolegraph.runtime.mcp_tools import McpSessions

    from .mcp_agents import SERVER

    server = McpServer(name="calc", transport="stdio", command=(sys.executable, str(SERVER)))

    async def listed() -> list:
        sessions = McpSessions()
        try:
            return await sessions.list_tools(server)
        finally:
            await sessions.aclose()

    tools = {tool.name: tool for tool in asyncio.run(listed())}
    assert sorted(tools) == sorted(
        ["add", "describe", "fail", "sleep", "crash", "shout-out", "count", "pid"]
    )
    assert tools["add"].inputSchema["required"] == ["a", "b"]
    assert tools["add"].description == "Add two integers."


def test_a_wrapped_result_is_unwrapped_unless_an_object_is_declared():
    from mcp.types import CallToolResult, TextContent

    from rolegraph.compiler.types import INT, DictT, OptionalT, RecordT
    from rolegraph.runtime.mcp_tools import tool_value

    result = CallToolResult(
        content=[TextContent(type="text", text='{"result": 5}')], structuredContent={"result": 5}
    )
    boxed = RecordT("Boxed", {"result": INT})
    assert tool_value(result, INT) == 5
    assert tool_value(result, boxed) == {"result": 5}
    assert tool_value(result, OptionalT(boxed)) == {"result": 5}
    assert tool_value(result, DictT(INT)) == {"result": 5}


def test_text_content_is_read_as_json_where_it_is_json():
    from mcp.types import CallToolResult, TextContent

    from rolegraph.runtime.mcp_tools import tool_value

    def texts(*values: str) -> CallToolResult:
        return CallToolResult(content=[TextContent(type="text", text=v) for v in values])

    assert tool_value(texts("[1, 2]")) == [1, 2]
    assert tool_value(texts("plain words")) == "plain words"
    assert tool_value(texts("1", "two")) == [1, "two"]
    assert tool_value(texts()) is None
    from rolegraph.compiler.types import STR

    assert tool_value(texts("42"), STR) == "42"  # (a declared `str` reads no JSON)
