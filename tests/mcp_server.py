"""An MCP server for the tests, on the official SDK's FastMCP: `python tests/mcp_server.py`
serves on stdio; `python tests/mcp_server.py http PORT` serves streamable HTTP on loopback.

Its tools: one that works (`add`), one with a record result (`describe`), one that
raises (`fail`), one that sleeps past any short timeout (`sleep`), one that kills its
own process mid-call (`crash`), one whose name is no identifier (`shout-out`), one
that counts its calls in this process (`count`: one session per run, so a run sees
1, 2, 3...), and one that gives its process id (`pid`).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from mcp.server.fastmcp import FastMCP
from pydantic import BaseModel

server = FastMCP("rolegraph-test")
_calls = 0


class Description(BaseModel):
    word: str
    length: int
    vowels: list[str]


@server.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool()
def describe(word: str, upper: bool = False) -> Description:
    """Describe a word."""
    shown = word.upper() if upper else word
    return Description(word=shown, length=len(word), vowels=[c for c in word if c in "aeiou"])


@server.tool()
def fail(reason: str) -> str:
    """Always raises."""
    raise ValueError(f"failing on purpose: {reason}")


@server.tool()
async def sleep(seconds: float) -> str:
    """Sleeps, then answers (other calls go on meanwhile)."""
    await asyncio.sleep(seconds)
    return "awake"


@server.tool()
def crash(code: int = 0) -> str:
    """Kills its own process, answering nothing."""
    print(f"crashing on purpose ({code})", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
    return "unreachable"


@server.tool(name="shout-out")
def shout_out(name: str) -> str:
    """A tool whose name is no identifier."""
    return f"{name.upper()}!"


@server.tool()
def pid() -> int:
    """This server's process id."""
    return os.getpid()


@server.tool()
def count() -> int:
    """How many times this process was called (this call included)."""
    global _calls
    _calls += 1
    return _calls


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "http":
        server.settings.host = "127.0.0.1"
        server.settings.port = int(sys.argv[2])
        server.settings.log_level = "WARNING"
        server.run(transport="streamable-http")
    else:
        server.run()
