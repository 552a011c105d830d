"""`rolegraph edit`: typed edits applied to a file (or listed, or found between two files);
every result checks, and brings in nothing the trust policy does not allow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .exits import EXIT_DIAGNOSTICS, usage_error
from .files import check_output, read, write_output
from .options import trust_policy
from .params import AllowImportOption, AllowToolOption, RootOption
from .render import print_diagnostics, printable

commands = typer.Typer()


@commands.command()
def edit(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    proposal: Annotated[
        str | None,
        typer.Argument(help="An edit as JSON, or a JSON list of edits (a script)."),
    ] = None,
    list_edits: Annotated[
        bool, typer.Option("--list", help="Print every edit that keeps the program valid.")
    ] = False,
    diff_to: Annotated[
        Path | None, typer.Option("--diff", help="Print the edit script from FILE to this file.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the edited program here.")
    ] = None,
    allow_tool: AllowToolOption = None,
    allow_import: AllowImportOption = None,
    root: RootOption = None,
) -> None:
    """Apply a typed edit (or list the valid ones): the result always checks, and brings
    in no tool target, import or model endpoint the program lacks unless allowed."""
    import rolegraph
    from rolegraph.compiler.edits import (
        EditError,
        diff,
        edit_from_json,
        script_from_json,
        script_to_json,
    )
    from rolegraph.compiler.printer import to_source
    from rolegraph.grammar import parse_module

    def load(path: Path) -> Any:
        result = parse_module(read(path), str(path))
        if result.module is None:
            print_diagnostics(result.diagnostics, result.source)
            raise typer.Exit(EXIT_DIAGNOSTICS)
        return result.module

    check_output(output, "-o")
    module = load(file)
    editor = rolegraph.editor(str(file), trust=trust_policy(allow_tool, allow_import), root=root)
    if list_edits:
        for found in editor.applicable(module):
            typer.echo(found.to_json())
        return
    if diff_to is not None:
        typer.echo(script_to_json(diff(module, load(diff_to))))
        return
    if proposal is None:
        raise usage_error("give an edit as JSON, or --list, or --diff OTHER")
    try:
        if proposal.lstrip().startswith("["):
            edited = editor.apply_script(module, script_from_json(proposal))
        else:
            edited = editor.apply(module, edit_from_json(proposal))
    except EditError as error:
        for problem in error.diagnostics:
            typer.echo(str(problem), err=True)
            for note in problem.notes:
                typer.echo(f"  = note: {printable(note)}", err=True)
            for hint in problem.hints:
                typer.echo(f"  = hint: {printable(hint)}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    text = to_source(edited, trivia=True)
    if output is None:
        typer.echo(text, nl=False)
    else:
        write_output(output, text)
        typer.echo(f"wrote {output}", err=True)
