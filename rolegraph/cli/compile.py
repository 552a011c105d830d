"""`rolegraph compile`: a checked file as a Python module, or as a LangGraph program."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .exits import EXIT_DIAGNOSTICS, usage_error
from .files import check_output, read, write_output
from .params import RootOption
from .render import print_diagnostics, source_of

commands = typer.Typer()


@commands.command(name="compile")
def compile_command(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the module here (default: stdout).")
    ] = None,
    target: Annotated[
        str, typer.Option("--target", help="python, or langgraph (a LangGraph program).")
    ] = "python",
    root: RootOption = None,
) -> None:
    """Compile to a readable, typed Python module (pydantic types, async roles)."""
    import rolegraph
    from rolegraph.compiler.diagnostics import DiagnosticError

    if target not in ("python", "langgraph"):
        raise usage_error(f"unknown target {target!r}: the targets are: python, langgraph")
    check_output(output, "-o")
    text = read(file)
    try:
        code = rolegraph.compile_python(file, text=text, langgraph=target == "langgraph", root=root)
    except DiagnosticError as error:
        print_diagnostics(error.diagnostics, error.source or source_of(str(file), text))
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    if output is None:
        typer.echo(code, nl=False)
    else:
        write_output(output, code)
        typer.echo(f"wrote {output}", err=True)
