"""`.agent` sources that use the test MCP server (tests/mcp_server.py), for the MCP tests."""

from __future__ import annotations

import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rolegraph.compiler.literals import encode

SERVER = Path(__file__).with_name("mcp_server.py")


def stdio_address() -> str:
    """The command that starts the test server with this interpreter (which has `mcp`)."""
    return shlex.join([sys.executable, str(SERVER)])


TOOLS = """
tool add(a: int, b: int) -> int = calc.add
tool describe(word: str, upper: bool = false) -> Description = calc.describe
tool fail(reason: str) -> str = calc.fail
tool sleep(seconds: float) -> str = calc.sleep
tool crash(code: int = 0) -> str = calc.crash
tool shout(name: str) -> str = calc["shout-out"]
tool count() -> int = calc.count
tool pid() -> int = calc.pid
type Description { word: str, length: int, vowels: list[str] }
"""


def source(agents: str, *, address: str | None = None, params: str = "{ timeout: 5 }") -> str:
    """A file declaring the test server as `calc`, its tools, and `agents`."""
    shown = encode(address if address is not None else stdio_address())
    return f"mcp calc = {shown} {params}\n{TOOLS}\n{agents}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def http_server() -> Iterator[str]:
    """The test server on streamable HTTP on loopback; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(SERVER), "http", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the MCP test server did not start on HTTP") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
