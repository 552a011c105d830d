"""`rolegraph mcp serve`: the agents of a file as the tools of an MCP server, on stdin
and stdout (the server itself, its tools and their schemas, is rolegraph/mcp_serve.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .exits import usage_error
from .files import checked_or_exit
from .options import check_model_option, provider_params, warm_up_litellm
from .params import ApiBaseOption, ConcurrencyOption, ParamOption, RootOption, TimeoutOption

commands = typer.Typer(help="MCP: serve the agents of a file as the tools of an MCP server.")


@commands.command(name="serve")
def mcp_serve(
    file: Annotated[Path, typer.Argument(help="The .agent file whose agents to serve.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Use this model for every role (mock).")
    ] = None,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """Serve each agent of a file as an MCP tool, on stdin and stdout (docs/mcp.md)."""
    check_model_option(model)
    params = provider_params(api_base, param, timeout, concurrency)
    try:
        import mcp  # noqa: F401 - the extra is there
    except ImportError as error:
        raise usage_error(
            f"`rolegraph mcp serve` needs the mcp SDK ({error}): pip install 'rolegraph[mcp]'"
        ) from None
    checked = checked_or_exit(file, root)
    if not checked.irs:
        raise usage_error(f"{file} declares no agent")
    import asyncio

    from rolegraph.mcp_serve import build_server, descriptions

    warm_up_litellm(model, checked)
    server = build_server(
        checked.irs,
        descriptions(checked.program.main.module),
        name=f"rolegraph {file.name}",
        model=model,
        params=params,
    )
    asyncio.run(serve_stdio(server))


async def serve_stdio(server: Any) -> None:
    """Serve on stdin and stdout until the client closes them. Stdout is the protocol's:
    while serving, what anything else prints (a provider library's notice, a tool's
    `print`) goes to stderr instead."""
    import contextlib
    import sys

    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):  # (it holds stdout's own buffer)
        with contextlib.redirect_stdout(sys.stderr):
            await server.run(read, write, server.create_initialization_options())
