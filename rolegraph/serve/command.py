"""What `rolegraph serve` and `rolegraph ui` do once their options are read
(rolegraph/cli/serve.py): bind the address, say where the server is, open the page if
asked, and serve until stopped (Ctrl-C: the runs in flight stay unfinished, and resume at
the next start)."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from .runner import RunOptions


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port); port 0 takes a free one. OSError when taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(
    target: Path,
    sock: socket.socket,
    store: Path,
    options: RunOptions,
    *,
    root: Path | None = None,
    page: str = "",
    open_page: bool = False,
    log: bool = False,
) -> None:
    import uvicorn

    from .app import create_app

    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/{page}"
    loopback = ("127.0.0.1", "localhost", "::1", "[::1]")
    app = create_app(target, store, options, root, list(loopback) if host in loopback else None)
    config = uvicorn.Config(
        app, log_level="info" if log else "warning", access_log=log, timeout_graceful_shutdown=3
    )
    server = uvicorn.Server(config)
    model = options.model or "each role's declared model"
    print(f"rolegraph serve: {target} on {url} (model: {model}; store: {store})", file=sys.stderr)
    if open_page:
        threading.Timer(0.5, webbrowser.open, (url,)).start()
    asyncio.run(server.serve(sockets=[sock]))
