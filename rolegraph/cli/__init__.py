"""The `rolegraph` command line, one module per group of commands:

- `check.py`: `parse`, `check`, `graph`, `fmt`, `explain` (read a file, never run it)
- `run.py`: `run`, `test`; `human.py`: `runs`, `resume` (human steps)
- `compile.py`, `edit.py`, `search.py` (`search`, `attribute`), `serve.py` (`serve`,
  `ui`, `lsp`), `mcp.py` (`mcp serve`)
- `root.py`: the typer application, whose commands are built from their modules
- `fast.py`: `check`, `run` and `search` given plainly, without typer; `checking.py`,
  `running.py` and `searching.py`: what those do once their options are read, either way
- `exits.py`, `files.py`, `options.py`, `params.py`: what the commands share;
  `render.py`: what they print beyond their result (diagnostics, JSON, tables).

A command's module is imported when the command runs (or `--help` lists it), and each
imports its heavy libraries inside the command: `rolegraph check` never loads typer, the
search, the runtime or rich, and `rolegraph --help` none of the compiler.

Exit codes: 0 clean, 1 diagnostics (or files that `fmt --check` would change),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .exits import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    EXIT_USAGE,
    echo,
    end_pause,
    keep_until_exit,
    one_command_process,
)

if TYPE_CHECKING:
    from .root import app

__all__ = ["COMMANDS", "EXIT_DIAGNOSTICS", "EXIT_OK", "EXIT_USAGE", "app", "main"]

#: Every command, in the order `rolegraph --help` lists them, and its module.
COMMANDS: dict[str, str] = {
    "parse": "check",
    "check": "check",
    "graph": "check",
    "run": "run",
    "fmt": "check",
    "test": "run",
    "compile": "compile",
    "edit": "edit",
    "search": "search",
    "attribute": "search",
    "explain": "check",
    "serve": "serve",
    "ui": "serve",
    "lsp": "serve",
    "runs": "human",
    "resume": "human",
    "mcp": "mcp",  # a group: `mcp serve`
}


def __getattr__(name: str) -> Any:
    """`app`, the typer application, built on first use (`root.py`)."""
    if name == "app":
        from .root import app

        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """The console-script entry point: `check`, `run` and `search` given plainly go the
    fast way (fast.py: no typer), everything else through typer (root.py). Called from a
    program's `__main__` (the `rolegraph` script, `python -m rolegraph`), it runs the
    process, and what start-up made is kept out of the collector's way until the exit
    (exits.py `keep_until_exit`); called from elsewhere (a test), it leaves the caller's
    collector as it was."""
    if sys._getframe(1).f_globals.get("__name__") == "__main__":
        one_command_process()
        if sys.argv[1:2] and sys.argv[1] in COMMANDS:
            # (the process is the command's: lark imports these at its top to build a
            # parser, and ours is loaded whole. A library leaves its host's imports alone.)
            from .on_first_use import imported_on_first_use

            imported_on_first_use("regex", "interegular")
    try:
        if sys.argv[1:2] not in (["check"], ["run"], ["search"]) or not _run_fast(sys.argv[1:]):
            from .root import app

            app()
    except MemoryError as error:  # (its message is empty: say what happened)
        detail = f" ({error})" if str(error) else ""
        echo(f"error: out of memory{detail}: rolegraph could not finish", err=True)
        sys.exit(EXIT_DIAGNOSTICS)
    finally:
        if _runs_no_code_of_the_user(sys.argv[1:]):
            keep_until_exit()  # (what the command made lives until the exit, now)
        end_pause()  # (`run` ended before its agent ran: the collector on again)


def _run_fast(argv: list[str]) -> bool:
    from .fast import run_fast

    return run_fast(argv)


#: The commands that run nothing of the user's (no tool, no MCP server): what is left when
#: they end is rolegraph's and its libraries' alone. (`run` and `resume` keep what their
#: start-up made before the agent runs: running.py.)
_NO_CODE_OF_THE_USER = frozenset({"parse", "check", "graph", "fmt", "compile", "edit", "explain"})


def _runs_no_code_of_the_user(argv: list[str]) -> bool:
    if "--connect" in argv:  # (`check --connect` starts the MCP servers)
        return False
    return not argv or argv[0] in _NO_CODE_OF_THE_USER or argv[0].startswith("-")
