"""MCP server declarations read statically: `mcp calc = "python3 calc.py" { timeout: 5 }`.

`read_server` turns a declaration into an `McpServer` — the command or URL and the
parameters the runtime needs — or into the problems that stop it, each with the span
to point at. Nothing here starts a process or opens a connection: checking a file
runs no code. The runtime (runtime/mcp_tools.py) connects to what `McpServer` says.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from . import ast
from .source import Span

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})
DEFAULT_TIMEOUT = 30.0
DEFAULT_CONNECT_TIMEOUT = 30.0

#: name -> (what it must be, which transport it belongs to, or None for both)
PARAMETERS: dict[str, tuple[str, Literal["stdio", "http"] | None]] = {
    "timeout": ("a number of seconds above 0", None),
    "connect_timeout": ("a number of seconds above 0", None),
    "env": ('a record of strings, like {KEY: "value"}', "stdio"),
    "cwd": ("a string: a folder, from the .agent file's", "stdio"),
    "headers": ('a record of strings, like {Authorization: "Bearer ..."}', "http"),
}


class McpServer(BaseModel):
    """Where an MCP server is and how to talk to it: what a run (or `check --connect`)
    needs to open one session with it."""

    model_config = ConfigDict(frozen=True)

    name: str
    transport: Literal["stdio", "http"]
    command: tuple[str, ...] = ()  # stdio: the program and its arguments
    url: str = ""  # http: the streamable-HTTP endpoint
    env: tuple[tuple[str, str], ...] = ()
    cwd: str = ""  # absolute; "" for the working directory
    headers: tuple[tuple[str, str], ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT

    def describe(self) -> str:
        """The address as the user wrote it, for messages."""
        return shlex.join(self.command) if self.transport == "stdio" else self.url


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    span: Span | None
    hint: str = ""


def read_server(decl: ast.McpDecl, folder: str) -> McpServer | list[Problem]:
    """The server a declaration names, or why it names none. `folder` is the absolute
    folder of the declaring `.agent` file ("" for a source with no file): a stdio server
    starts there, and a relative `cwd` is taken from there."""
    problems: list[Problem] = []
    address = decl.address.strip()
    fields: dict[str, Any] = {"name": decl.name}
    scheme = address.partition("://")[0].lower() if "://" in address else ""
    if scheme:
        transport: Literal["stdio", "http"] = "http"
        try:
            parts = urlsplit(address)
            host = parts.hostname
            _ = parts.port  # (a port past 65535 is no port)
        except ValueError:  # (`http://[::1`: a bracket left open)
            host = None
        if scheme not in ("http", "https") or not host:
            problems.append(
                Problem(
                    "E0620",
                    f"`{decl.name}`: {address!r} is not an http:// or https:// URL with a host",
                    decl.span,
                    "a streamable-HTTP server is reached at a URL like "
                    '"http://127.0.0.1:8000/mcp"; a stdio server is a command',
                )
            )
        fields["url"] = address
    else:
        transport = "stdio"
        try:
            words = shlex.split(address)
        except ValueError as error:  # (an unclosed quote)
            words = []
            problems.append(
                Problem("E0620", f"`{decl.name}`: cannot split the command: {error}", decl.span)
            )
        else:
            if "\0" in address:
                problems.append(
                    Problem(
                        "E0620", f"`{decl.name}`: a command cannot hold a NUL character", decl.span
                    )
                )
            elif not words:
                problems.append(
                    Problem(
                        "E0620",
                        f"`{decl.name}` names no command",
                        decl.span,
                        'write the command that starts the server, like "python3 server.py", '
                        'or its URL, like "http://127.0.0.1:8000/mcp"',
                    )
                )
        fields["command"] = tuple(words)
        fields["cwd"] = folder
    fields["transport"] = transport
    for param in decl.params:
        problem = _read_parameter(param, transport, folder, fields)
        if problem is not None:
            problems.append(problem)
    return problems if problems else McpServer(**fields)


def server_warnings(decl: ast.McpDecl) -> list[Problem]:
    """What a usable declaration may still be wrong about: a URL that sends calls and
    headers unencrypted off this machine (W0620)."""
    address = decl.address.strip()
    if not address.lower().startswith("http://"):
        return []
    try:
        host = urlsplit(address).hostname
    except ValueError:
        return []  # (read_server reports it)
    if host is None or host in LOOPBACK:
        return []
    return [
        Problem(
            "W0620",
            f"`{decl.name}` is reached over plain HTTP: its calls and headers cross the "
            "network unencrypted",
            decl.span,
            f"use {'https' + address[4:]!r}",
        )
    ]


def _read_parameter(
    param: ast.ModelParam, transport: str, folder: str, fields: dict[str, Any]
) -> Problem | None:
    known = PARAMETERS.get(param.name)
    if known is None:
        from .resolve import did_you_mean

        hint = " ".join(did_you_mean(param.name, PARAMETERS)) or (
            f"the parameters are {', '.join(PARAMETERS)}"
        )
        return Problem("E0621", f"unknown MCP server parameter `{param.name}`", param.span, hint)
    expected, belongs = known
    if belongs is not None and belongs != transport:
        what = "a command (stdio)" if belongs == "stdio" else "a URL (streamable HTTP)"
        return Problem("E0621", f"`{param.name}` is a parameter of {what} server", param.span, "")
    value = ast.constant_value(param.value)
    wrong = Problem("E0621", f"`{param.name}` must be {expected}", param.value.span)
    if param.name in ("timeout", "connect_timeout"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            return wrong
        fields[param.name] = float(value)
    elif param.name in ("env", "headers"):
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            return wrong
        fields[param.name] = tuple(sorted(value.items()))
    else:  # cwd
        if not isinstance(value, str) or not value.strip():
            return wrong
        fields["cwd"] = str(Path(folder or ".", value)) if folder else value
    return None
