"""`rolegraph check --connect`: each MCP tool declaration compared with its server.

Only on request: this starts each stdio server a checked program declares (or connects
to its URL), lists its tools, compares every `tool` declaration of that server with the
server's schemas (compiler/mcp_schema.py), and closes the sessions. Without
`--connect`, checking runs no code and starts nothing.
"""

from __future__ import annotations

from typing import Any

from rolegraph.compiler import ast, codes
from rolegraph.compiler.diagnostics import Diagnostic, diagnostic
from rolegraph.compiler.mcp_schema import compare_tool
from rolegraph.compiler.mcp_servers import McpServer, read_server
from rolegraph.compiler.pyimport import folder_of
from rolegraph.compiler.resolve import did_you_mean

from .mcp_tools import McpSessions, McpToolError
from .sync import run_sync


def connected_diagnostics(checked: Any) -> list[Diagnostic]:
    """What connecting to the servers of a checked program (`CheckedModule`) finds."""
    return run_sync(_connect(checked))


async def _connect(checked: Any) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    servers: dict[McpServer, tuple[Any, ast.McpDecl, list[tuple[Any, ast.ToolDecl]]]] = {}
    program = checked.program
    for module in program.modules.values():
        for decl in module.module.decls:
            if not isinstance(decl, ast.ToolDecl) or decl.server is None:
                continue
            symbol = program.lookup(module, decl.server)
            if symbol is None or not isinstance(symbol.decl, ast.McpDecl):
                continue  # (reported by the checker)
            server = read_server(symbol.decl, folder_of(symbol.module.filename))
            if not isinstance(server, McpServer):
                continue
            entry = servers.setdefault(server, (symbol.module, symbol.decl, []))
            entry[2].append((module, decl))
    sessions = McpSessions()
    try:
        for server, (server_module, server_decl, tools) in servers.items():
            try:
                listed = await sessions.list_tools(server)
            except McpToolError as error:
                found.append(
                    diagnostic(
                        codes.MCP_UNREACHABLE,
                        f"cannot list the tools of MCP server `{server.name}`: {error}",
                        file=server_module.filename,
                        span=server_decl.span,
                    )
                )
                continue
            by_name = {tool.name: tool for tool in listed}
            for module, decl in tools:
                found.extend(_compare(checked, module, decl, server, by_name))
    finally:
        await sessions.aclose()
    return found


def _compare(
    checked: Any, module: Any, decl: ast.ToolDecl, server: McpServer, by_name: dict[str, Any]
) -> list[Diagnostic]:
    file = module.filename
    tool = by_name.get(decl.target)
    if tool is None:
        hints = did_you_mean(decl.target, by_name) or (
            f"its tools: {', '.join(f'`{n}`' for n in by_name) or 'none'}",
        )
        return [
            diagnostic(
                codes.MCP_TOOL_MISMATCH,
                f"MCP server `{server.name}` has no tool `{decl.target}`",
                file=file,
                span=decl.span,
                label="declared here",
                hints=hints,
            )
        ]
    symbol = module.names.get(decl.name)
    signature = checked.signatures.get(symbol.qualified) if symbol is not None else None
    if signature is None or signature.params is None:
        return []
    spans = {p.name: p.span for p in decl.params}
    return [
        diagnostic(
            codes.MCP_TOOL_MISMATCH,
            f"tool `{decl.name}` does not match `{decl.target}` of MCP server "
            f"`{server.name}`: {mismatch.message}",
            file=file,
            span=(spans.get(mismatch.param) if mismatch.param else None) or decl.span,
            label="declared here",
            hints=(mismatch.hint,) if mismatch.hint else (),
        )
        for mismatch in compare_tool(
            signature.params,
            signature.returns,
            getattr(tool, "inputSchema", None),
            getattr(tool, "outputSchema", None),
        )
    ]
