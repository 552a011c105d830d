"""The servers: `serve` (a folder's agents over HTTP, with a web app), `ui` (the web app
on one file) and `lsp` (the language server, for editors)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .exits import usage_error
from .files import checked_or_exit, open_store
from .options import check_model_option, provider_params
from .params import ApiBaseOption, ConcurrencyOption, ParamOption, RootOption, TimeoutOption

commands = typer.Typer()


def _serve_options(
    model: str,
    budget: str | None,
    max_runs: int,
    api_base: str | None,
    param: list[str] | None,
    timeout: float | None,
    concurrency: int | None,
) -> Any:
    """The run options of `serve` and `ui` (usage errors end the command)."""
    from rolegraph.runtime import Budget
    from rolegraph.serve.runner import RunOptions

    chosen = None if model == "declared" else model
    check_model_option(chosen)
    if budget is not None:
        try:
            Budget.parse(budget)
        except ValueError as error:
            raise usage_error(str(error)) from None
    if max_runs < 1:
        raise usage_error("--max-runs is at least 1")
    params = provider_params(api_base, param, timeout, concurrency)
    return RunOptions(model=chosen, params=params, budget=budget, max_runs=max_runs)


def _serve(target: Path, host: str, port: int, store: Path, options: Any, **how: Any) -> None:
    try:
        import sse_starlette  # noqa: F401 - the `serve` extra is there
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from rolegraph.serve.command import bind, serve
    except ImportError as error:
        raise usage_error(
            f"`serve` needs Starlette and uvicorn ({error}): pip install 'rolegraph[serve]'"
        ) from None
    from rolegraph.runtime import Store

    open_store(Store, store).close()  # (a store that cannot open: a usage error, now)
    try:
        sock = bind(host, port)
    except OSError as error:
        raise usage_error(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
    serve(target, sock, store, options, **how)


ServeModelOption = Annotated[
    str,
    typer.Option(
        "--model",
        "-m",
        help="The model of every role (default mock: offline); declared: each role's own.",
    ),
]
ServeStoreOption = Annotated[
    Path, typer.Option("--store", help="SQLite file of the runs (the same as `run --store`).")
]
HostOption = Annotated[str, typer.Option("--host", help="The address to listen on.")]
BudgetOption = Annotated[
    str | None, typer.Option("--budget", help="Limits for each run: calls=N,tokens=N,cost=X.")
]
MaxRunsOption = Annotated[
    int, typer.Option("--max-runs", help="Runs executing at once; more wait, accepted.")
]


@commands.command(name="serve")
def serve_command(
    folder: Annotated[Path, typer.Argument(help="A folder of .agent files (or one file).")] = Path(
        "."
    ),
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port (0: a free one).")] = 8000,
    model: ServeModelOption = "mock",
    store: ServeStoreOption = Path(".rolegraph/store.sqlite"),
    budget: BudgetOption = None,
    max_runs: MaxRunsOption = 64,
    open_page: Annotated[bool, typer.Option("--open", help="Open the web app.")] = False,
    log: Annotated[bool, typer.Option("--log", help="Log each request.")] = False,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """Serve a folder's agents over HTTP, with a web app (needs the `serve` extra).

    Runs are durable: kept in the store, and resumed when the server starts again."""
    if not folder.exists():
        raise usage_error(f"{folder} does not exist")
    options = _serve_options(model, budget, max_runs, api_base, param, timeout, concurrency)
    _serve(folder, host, port, store, options, root=root, open_page=open_page, log=log)


@commands.command(name="ui")
def ui_command(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    host: HostOption = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="The port (default 0: a free one).")] = 0,
    model: ServeModelOption = "mock",
    store: ServeStoreOption = Path(".rolegraph/store.sqlite"),
    no_open: Annotated[bool, typer.Option("--no-open", help="Do not open a browser.")] = False,
    root: RootOption = None,
) -> None:
    """Open the web app on one file: its graph, a form to run it (mock), its runs."""
    checked = checked_or_exit(file, root)
    if not checked.irs:
        raise usage_error(f"{file} declares no agent")
    from urllib.parse import quote

    page = f"#/agent/{quote(list(checked.irs)[-1], safe='')}"
    options = _serve_options(model, None, 64, None, None, None, None)
    _serve(file, host, port, store, options, root=root, page=page, open_page=not no_open)


@commands.command(name="lsp")
def language_server() -> None:
    """Run the language server on stdin/stdout (for editors; needs the `lsp` extra)."""
    try:
        from rolegraph.lsp import serve
        from rolegraph.lsp.server import RolegraphServer  # noqa: F401 - pygls is there
    except ImportError as error:
        raise usage_error(
            f"the language server needs pygls ({error}): pip install 'rolegraph[lsp]'"
        ) from None
    serve()
