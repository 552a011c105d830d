"""`rolegraph mcp serve x.agent`: the agents of a file as the tools of an MCP server.

Each agent is one tool, named like the agent. Its input schema is the JSON schema of
the agent's parameters (compiler/types.py `json_schema`, the one structured output
uses), with their defaults; its output schema is the agent's result type's (a result
that is not a record comes as `{"result": value}`, as the MCP specification has it).
The comments above an agent are its tool's description. A call runs the agent
(`run_agent`) on the model the command's options name, and a run that fails answers
the call with an error result that says why.

The command (rolegraph/cli/mcp.py) serves it on stdin and stdout, with the official
SDK's low-level server; the SDK is imported only when a server is built.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.types import RecordT, json_schema
from rolegraph.runtime.values import plain


def input_schema(ir: Any) -> dict[str, Any]:
    """The JSON schema of an agent's parameters (an object)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, t in ir.param_types.items():
        schema = json_schema(t)
        if name in ir.param_defaults:
            schema["default"] = plain(ir.param_defaults[name])
        else:  # (an optional type without a default is still an input to give: none)
            required.append(name)
        properties[name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def output_schema(ir: Any) -> dict[str, Any]:
    """The JSON schema of an agent's result; an object (a non-record result wrapped)."""
    if _is_record(ir.return_type):
        return json_schema(ir.return_type)
    return {
        "type": "object",
        "properties": {"result": json_schema(ir.return_type)},
        "required": ["result"],
        "x-fastmcp-wrap-result": True,  # (FastMCP's mark: clients may unwrap it)
    }


def structured(ir: Any, value: Any) -> dict[str, Any]:
    """A result as an agent's tool gives it: a record as is, anything else wrapped."""
    value = plain(value)
    return value if _is_record(ir.return_type) else {"result": value}  # type: ignore[no-any-return]


def descriptions(module: ast.Module) -> dict[str, str]:
    """Each agent's tool description: the comments above it, else its signature."""
    found = {}
    for agent in module.agents:
        lines = [c.removeprefix("//").strip() for c in agent.comments]
        text = " ".join(line for line in lines if line)
        if not text:
            params = ", ".join(p.name for p in agent.params)
            text = f"Runs the rolegraph agent {agent.name}({params})."
        found[agent.name] = text
    return found


def _is_record(t: Any) -> bool:
    return isinstance(t, RecordT)


def build_server(
    irs: Mapping[str, Any],
    described: Mapping[str, str],
    *,
    name: str,
    model: str | None = None,
    params: Mapping[str, Any] | None = None,
) -> Any:
    """The MCP server (`mcp.server.lowlevel.Server`) whose tools run `irs`."""
    import mcp.types as types
    from mcp.server.lowlevel import Server

    from rolegraph.runtime import RunError, run_agent

    server: Any = Server(name)
    tools = [
        types.Tool(
            name=agent,
            description=described.get(agent, ""),
            inputSchema=input_schema(ir),
            outputSchema=output_schema(ir),
        )
        for agent, ir in irs.items()
    ]

    @server.list_tools()  # type: ignore[untyped-decorator]
    async def list_tools() -> list[types.Tool]:
        return tools

    @server.call_tool()  # type: ignore[untyped-decorator]
    async def call_tool(tool: str, arguments: dict[str, Any]) -> Any:
        ir = irs.get(tool)
        if ir is None:
            raise ValueError(f"no agent {tool!r}; agents: {', '.join(irs)}")
        try:
            outcome = await run_agent(ir, arguments, model=model, params=dict(params or {}))
        except RunError as error:
            raise ValueError(f"agent {tool} failed: {error}") from None
        value = structured(ir, outcome.result)
        text = json.dumps(plain(outcome.result), ensure_ascii=False)
        return [types.TextContent(type="text", text=text)], value

    return server
