"""Tools of MCP servers, called through one client session per server per run.

A run opens a server's session at the first call of one of its tools: a stdio server's
command is started then, a URL is connected to then. Every later call of the run goes
through that session, and the run closes them all when it ends, whichever way it ends
(returned, failed, cancelled): a stdio server's input is closed and its process waited
for, then terminated (the SDK's `stdio_client` does that).

The SDK's transports are anyio context managers that must be left by the task that
entered them, so each session lives in a task of its own (`_Connection.serve`), and
calls from any firing's task go to it. A call waits for its reply, for the session's
task to end (the server crashed, the connection broke), or for the server's `timeout`,
whichever comes first: a server that dies or hangs fails the firing, never the run's
progress. A failed call raises `McpToolError`, which is a failed firing like any other
(an `on error` edge takes it).

The `mcp` SDK is imported only here, and only when a session is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
from contextlib import AsyncExitStack
from typing import Any, TextIO

from rolegraph.compiler.mcp_servers import McpServer

from .errors import RunError

INSTALL_HINT = "MCP tools need the `mcp` extra: pip install 'rolegraph[mcp]'"
# how long closing waits for a session's task to end before cancelling it
CLOSE_TIMEOUT = 10.0
STDERR_TAIL = 800


class McpToolError(RunError):
    """A tool of an MCP server failed: it reported an error, timed out, or its server
    could not be reached or stopped during the call."""


def import_sdk() -> Any:
    """The `mcp` package, or an `McpToolError` that says how to install it."""
    try:
        import mcp
    except ImportError as error:
        raise McpToolError(INSTALL_HINT) from error
    return mcp


class _Connection:
    """One session with one server, owned by its own task."""

    def __init__(self, server: McpServer) -> None:
        self.server = server
        self.session: Any = None
        self.error: BaseException | None = None
        self.ready = asyncio.Event()
        self.stop = asyncio.Event()
        self.stderr: TextIO | None = None
        self.broken = ""  # why the session cannot be used any more
        self.task = asyncio.get_running_loop().create_task(
            self.serve(), name=f"mcp server {server.name}"
        )

    async def serve(self) -> None:
        try:
            async with AsyncExitStack() as stack:
                read, write = await stack.enter_async_context(self._transport())
                from mcp import ClientSession

                session = await stack.enter_async_context(ClientSession(read, write))
                await session.initialize()
                self.session = session
                self.ready.set()
                await self.stop.wait()
        except BaseException as error:  # (a crash, a refused connection, a cancel)
            self.error = error
            if not isinstance(error, Exception):
                raise
        finally:
            self.ready.set()

    def _transport(self) -> Any:
        server = self.server
        import_sdk()
        if server.transport == "stdio":
            from mcp.client.stdio import StdioServerParameters, stdio_client

            # (closed by `close`: it outlives this call, as the process does; appending,
            # so that reading it here never moves where the server writes)
            self.stderr = tempfile.TemporaryFile("a+", encoding="utf-8", errors="replace")  # noqa: SIM115
            parameters = StdioServerParameters(
                command=server.command[0],
                args=list(server.command[1:]),
                env=dict(server.env) if server.env else None,
                cwd=server.cwd or None,
            )
            return _two_streams(stdio_client(parameters, errlog=self.stderr))
        return _two_streams(_http_client(server))

    async def ensure_ready(self) -> Any:
        """The open session; raises `McpToolError` when it cannot be opened in time."""
        if self.broken:
            raise McpToolError(
                f"MCP server `{self.server.name}` stopped earlier in this run: {self.broken}"
            )
        try:
            await asyncio.wait_for(self.ready.wait(), self.server.connect_timeout)
        except TimeoutError:
            self.stop.set()
            self.broken = f"it did not open a session within {self.server.connect_timeout:g} s"
            raise McpToolError(
                f"MCP server `{self.server.name}` ({self.server.describe()}) did not open a "
                f"session within {self.server.connect_timeout:g} s{self.stderr_tail()}"
            ) from None
        if self.broken:
            raise McpToolError(
                f"MCP server `{self.server.name}` stopped earlier in this run: {self.broken}"
            )
        if self.session is None or self.task.done():
            raise McpToolError(
                f"cannot open a session with MCP server `{self.server.name}` "
                f"({self.server.describe()}): {_explain(self.error)}{self.stderr_tail()}"
            )
        return self.session

    async def request(self, what: str, make: Any) -> Any:
        """`await make(session)`, bounded by the server's timeout and by the life of its
        session (a server that exits fails the request at once)."""
        session = await self.ensure_ready()
        call = asyncio.ensure_future(make(session))
        try:
            done, _ = await asyncio.wait(
                {call, self.task}, timeout=self.server.timeout, return_when=asyncio.FIRST_COMPLETED
            )
        except asyncio.CancelledError:
            call.cancel()
            raise
        if call in done:
            try:
                return call.result()
            except Exception as error:
                if _connection_closed(error):
                    self.broken = _explain(error)
                raise McpToolError(
                    f"{what} failed: {_explain(error)}{self.stderr_tail()}"
                ) from error
        call.cancel()
        await asyncio.wait({call})  # (its cancellation done; what it raised stays in it)
        if self.task.done():
            self.broken = _explain(self.error)
            raise McpToolError(
                f"{what} failed: the server stopped during the call "
                f"({_explain(self.error)}){self.stderr_tail()}"
            )
        raise McpToolError(f"{what} timed out after {self.server.timeout:g} s")

    def stderr_tail(self) -> str:
        if self.stderr is None:
            return ""
        try:
            self.stderr.flush()
            self.stderr.seek(0)
            text = self.stderr.read().strip()
        except (OSError, ValueError):
            return ""
        if not text:
            return ""
        tail = text[-STDERR_TAIL:]
        return "\n  the server's standard error ends with:\n    " + tail.replace("\n", "\n    ")

    async def close(self) -> None:
        self.stop.set()
        # a session that never opened has nothing to close in order: stop its start
        # (anyio kills a process whose start is cancelled)
        timeout = CLOSE_TIMEOUT if self.session is not None else 0
        try:
            await asyncio.wait_for(asyncio.shield(self.task), timeout)
        except asyncio.CancelledError:
            self.task.cancel()
            raise
        except BaseException:  # (it did not stop in time; or its error, recorded already)
            if not self.task.done():
                self.task.cancel()
                with contextlib.suppress(BaseException):
                    await self.task
        finally:
            if self.stderr is not None:
                self.stderr.close()


class McpSessions:
    """The MCP sessions of one run: one per server, opened at the first call of one of
    its tools, closed by `aclose` (the run calls it on every way out)."""

    def __init__(self) -> None:
        self._connections: dict[McpServer, _Connection] = {}

    def connection(self, server: McpServer) -> _Connection:
        found = self._connections.get(server)
        if found is None:
            import_sdk()  # (before any task: a missing extra is the call's error)
            found = self._connections[server] = _Connection(server)
        return found

    async def call(
        self, server: McpServer, tool: str, args: dict[str, Any], returns: Any = None
    ) -> Any:
        """Call `tool` of `server` on JSON-ready arguments; its result as a plain value
        (`returns`: the declared result type, which says how to read it)."""
        from .values import plain

        what = f"tool `{tool}` of MCP server `{server.name}`"
        connection = self.connection(server)
        result = await connection.request(
            what, lambda session: session.call_tool(tool, plain(args))
        )
        if result.isError:
            text = _text_of(result.content) or "(no message)"
            raise McpToolError(f"{what} reported an error: {text}")
        return tool_value(result, returns)

    async def list_tools(self, server: McpServer) -> list[Any]:
        """The tools the server lists (every page)."""
        connection = self.connection(server)
        tools: list[Any] = []
        cursor = None
        while True:
            page = await connection.request(
                f"listing the tools of MCP server `{server.name}`",
                lambda session, at=cursor: (
                    session.list_tools(cursor=at) if at else session.list_tools()
                ),
            )
            tools.extend(page.tools)
            cursor = getattr(page, "nextCursor", None)
            if not cursor:
                return tools

    async def aclose(self) -> None:
        """Close every session; a stdio server's process is stopped."""
        connections, self._connections = list(self._connections.values()), {}
        errors = await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)
        for error in errors:
            if isinstance(error, asyncio.CancelledError):
                raise error


def sessions_of(context: Any) -> McpSessions:
    """The MCP sessions of a run's context, made at the first MCP call."""
    if context.mcp is None:
        context.mcp = McpSessions()
    return context.mcp  # type: ignore[no-any-return]


async def close_sessions(context: Any) -> None:
    """Close the MCP sessions a run opened, if it opened any."""
    sessions, context.mcp = context.mcp, None
    if sessions is not None:
        await sessions.aclose()


def tool_value(result: Any, returns: Any = None) -> Any:
    """The value of a tool's result, before coercion to the declared type `returns`.

    Structured content is the value. A result that is not an object comes wrapped as
    `{"result": v}` (FastMCP's way, and `rolegraph mcp serve`'s), and is unwrapped
    unless the declared type is itself an object (a record or a dict). Else the text
    content is the value: the text itself for a declared `str`; else one text that is
    JSON is read as JSON, one that is not is the string, several texts are a list of
    such values."""
    structured = getattr(result, "structuredContent", None)
    if structured is not None:
        wrapped = isinstance(structured, dict) and list(structured) == ["result"]
        if wrapped and not _is_object(returns):
            return structured["result"]
        return structured
    texts = [getattr(c, "text", None) for c in result.content]
    if any(t is None for t in texts):
        kinds = sorted({getattr(c, "type", "?") for c in result.content})
        raise McpToolError(
            f"the tool's result holds {', '.join(kinds)} content: rolegraph tools return "
            "text or structured content"
        )
    if len(texts) == 1 and _is_text(returns):
        return texts[0]  # (a declared `str` takes the text as it is, "42" included)
    values = [_json_or_text(str(t)) for t in texts]
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def _is_object(t: Any) -> bool:
    from rolegraph.compiler.types import DictT, OptionalT, RecordT

    if isinstance(t, OptionalT):
        t = t.inner
    return isinstance(t, RecordT | DictT)


def _is_text(t: Any) -> bool:
    from rolegraph.compiler.types import STR, OptionalT

    return (t.inner if isinstance(t, OptionalT) else t) == STR


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _connection_closed(error: BaseException) -> bool:
    from mcp.types import CONNECTION_CLOSED

    data = getattr(error, "error", None)
    return getattr(data, "code", None) == CONNECTION_CLOSED


def _text_of(content: list[Any]) -> str:
    return "\n".join(str(getattr(c, "text", "")) for c in content).strip()


def _explain(error: BaseException | None) -> str:
    if error is None:
        return "the session ended"
    inner = error
    # (anyio's task groups wrap what failed inside them in exception groups)
    while isinstance(inner, BaseExceptionGroup) and len(inner.exceptions) == 1:
        inner = inner.exceptions[0]
    if isinstance(inner, BaseExceptionGroup):
        return "; ".join(_explain(e) for e in inner.exceptions)
    message = str(inner) or type(inner).__name__
    if isinstance(inner, FileNotFoundError):
        return f"command not found: {inner.filename or message}"
    return (
        message if type(inner).__name__ in ("McpError",) else f"{type(inner).__name__}: {message}"
    )


def _two_streams(transport: Any) -> Any:
    """A transport's context manager, giving (read, write) whatever else it gives."""

    @contextlib.asynccontextmanager
    async def streams() -> Any:
        async with transport as opened:
            yield opened[0], opened[1]

    return streams()


def _http_client(server: McpServer) -> Any:
    from mcp.client import streamable_http

    headers = dict(server.headers) or None
    modern = getattr(streamable_http, "streamable_http_client", None)
    if modern is not None:
        import httpx
        from mcp.shared._httpx_utils import create_mcp_http_client

        client = create_mcp_http_client(
            headers=headers, timeout=httpx.Timeout(server.connect_timeout, read=None)
        )

        @contextlib.asynccontextmanager
        async def connected() -> Any:
            async with client, modern(server.url, http_client=client) as opened:
                yield opened

        return connected()
    return streamable_http.streamablehttp_client(
        server.url, headers=headers, timeout=server.connect_timeout
    )
