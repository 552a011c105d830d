"""The Starlette application: the API (routes.py), the web app (static/), and the
runner's life: runs left unfinished are resumed at start-up, runs in flight are left to
resume at shutdown.

    app = create_app(Path("examples"), Path(".rolegraph/serve.sqlite"))
    uvicorn.run(app)
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .catalog import Catalog
from .journal import Journal
from .routes import API_ROUTES
from .runner import Runner, RunOptions

STATIC = Path(__file__).parent / "static"


async def _index(request: object) -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(
    target: Path,
    store_path: Path,
    options: RunOptions | None = None,
    root: Path | None = None,
    allowed_hosts: list[str] | None = None,
) -> Starlette:
    """The server of the `.agent` files of `target` (a folder, or one file), its runs
    kept in the SQLite file `store_path`. With `allowed_hosts`, a request naming another
    `Host` is refused (400): a server on loopback is not reached through a DNS name an
    attacker's page rebinds to 127.0.0.1."""
    from rolegraph.runtime import Store

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(store_path)
        journal = Journal(store_path)
        runner = Runner(Catalog(target, root), store, journal, options or RunOptions())
        app.state.runner = runner
        runner.catalog.refresh(now=True)
        runner.resume_unfinished()
        try:
            yield
        finally:
            await runner.stop()
            store.close()
            journal.close()

    routes = [
        Route("/", _index, methods=["GET"]),
        *API_ROUTES,
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = []
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts))
    return Starlette(routes=routes, lifespan=lifespan, middleware=middleware)
