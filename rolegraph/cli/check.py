"""The commands that read a file and never run it: `parse`, `check`, `graph`, `fmt` and
`explain`."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Annotated

import typer

from .checking import check_files
from .exits import EXIT_DIAGNOSTICS, usage_error
from .files import (
    agent_files,
    check_output,
    checked_or_exit,
    read,
    read_source,
    write_output,
)
from .options import pick_agent
from .params import RootOption
from .render import (
    print_diagnostics,
    printable,
    source_of,
)

commands = typer.Typer()


@commands.command()
def parse(
    file: Annotated[Path | None, typer.Argument(help="The .agent file ('-' for stdin).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the AST as JSON.")] = False,
    schema: Annotated[
        bool, typer.Option("--schema", help="Print the JSON schema of the AST.")
    ] = False,
) -> None:
    """Parse a file and print its AST (canonical source by default, or JSON)."""
    from rolegraph.compiler import ast
    from rolegraph.compiler.printer import to_source
    from rolegraph.grammar import parse_module

    if schema:
        typer.echo(json.dumps(ast.Module.model_json_schema(), indent=2))
        return
    if file is None:
        raise usage_error("give a file to parse, or --schema")
    result = parse_module(read(file), str(file))
    if result.module is None:
        print_diagnostics(result.diagnostics, result.source)
        raise typer.Exit(EXIT_DIAGNOSTICS)
    if as_json:
        typer.echo(result.module.model_dump_json(indent=2))
    else:
        typer.echo(to_source(result.module), nl=False)


@commands.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Files or folders of .agent files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print diagnostics as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
    cost: Annotated[
        bool, typer.Option("--cost", help="Print worst-case firings, calls and tokens.")
    ] = False,
    root: RootOption = None,
    connect: Annotated[
        bool,
        typer.Option(
            "--connect",
            help="Start (or reach) each MCP server and compare its tools with their "
            "declarations (docs/mcp.md). Without it, checking runs no code.",
        ),
    ] = False,
) -> None:
    """Check files: syntax, names, types, the graph, and temporal constraints."""
    check_files(files, as_json=as_json, strict=strict, cost=cost, root=root, connect=connect)


@commands.command()
def graph(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    agent: Annotated[str | None, typer.Argument(help="The agent (default: the last one).")] = None,
    format: Annotated[str, typer.Option("--format", "-f", help="mermaid or dot.")] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here; .png/.svg need graphviz.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Draw an agent's graph as Mermaid or Graphviz DOT (PNG/SVG with graphviz)."""
    from rolegraph.compiler.diagrams import to_dot, to_mermaid

    if format not in ("mermaid", "dot"):
        raise usage_error(f"unknown format {format!r}: use mermaid or dot")
    check_output(output, "-o")
    dot = _graphviz_for(output)
    checked = checked_or_exit(file, root)
    ir = pick_agent(checked.irs, agent, file)
    text = to_mermaid(ir) if format == "mermaid" else to_dot(ir)
    if output is None:
        typer.echo(text, nl=False)
        return
    if dot is not None:
        import subprocess

        drawn = subprocess.run(
            [dot, f"-T{output.suffix[1:]}", "-o", str(output)],
            input=to_dot(ir),
            text=True,
            capture_output=True,
        )
        if drawn.returncode != 0:
            said = drawn.stderr.strip().splitlines() or [f"exit status {drawn.returncode}"]
            typer.echo(f"error: graphviz `dot` failed on {output}: {printable(said[-1])}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS)
    else:
        write_output(output, text)
    typer.echo(f"wrote {output}", err=True)


def _graphviz_for(output: Path | None) -> str | None:
    """graphviz's `dot`, when the output is an image (.png/.svg/.pdf); its absence is a
    usage error found before the work."""
    if output is None or output.suffix not in (".png", ".svg", ".pdf"):
        return None
    import shutil

    dot = shutil.which("dot")
    if dot is None:
        raise usage_error("graphviz `dot` is not installed; write .dot or .mmd instead")
    return dot


@commands.command()
def fmt(
    files: Annotated[list[Path], typer.Argument(help="Files or folders ('-' for stdin → stdout).")],
    check_only: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if a file would change.")
    ] = False,
    diff: Annotated[bool, typer.Option("--diff", help="Print a diff instead of writing.")] = False,
) -> None:
    """Rewrite files in canonical layout, keeping every comment."""
    from rolegraph.compiler.printer import to_source
    from rolegraph.grammar import parse_module

    changed: list[Path] = []
    broken = False
    for path in agent_files(files):
        text, problem = read_source(path)
        if problem is not None:
            print_diagnostics((problem,), source_of(problem.file, text))
            broken = True
            continue
        result = parse_module(text, str(path))
        if result.module is None:
            print_diagnostics(result.diagnostics, result.source)
            broken = True
            continue
        formatted = to_source(result.module, trivia=True)
        if str(path) == "-":
            typer.echo(formatted, nl=False)
            continue
        if formatted == text:
            continue
        changed.append(path)
        if diff:
            typer.echo(
                "".join(
                    difflib.unified_diff(
                        text.splitlines(keepends=True),
                        formatted.splitlines(keepends=True),
                        fromfile=f"{path} (original)",
                        tofile=f"{path} (formatted)",
                    )
                ),
                nl=False,
            )
        elif check_only:
            typer.echo(f"would reformat {path}", err=True)
        else:
            path.write_text(formatted, encoding="utf-8")
            typer.echo(f"reformatted {path}", err=True)
    if broken:
        raise typer.Exit(EXIT_DIAGNOSTICS)
    if (check_only or diff) and changed:
        raise typer.Exit(EXIT_DIAGNOSTICS)


@commands.command(name="explain")
def explain_code(
    code: Annotated[str, typer.Argument(help="A diagnostic code, e.g. E0101.")],
) -> None:
    """Explain a diagnostic code at length."""
    from rolegraph.compiler.diagnostics import explain

    text = explain(code)
    if text is None:
        raise usage_error(f"unknown diagnostic code {code!r}")
    typer.echo(text, nl=False)
