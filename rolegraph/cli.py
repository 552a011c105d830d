"""The `rolegraph` command line.

Exit codes: 0 clean, 1 diagnostics (or files that `fmt --check` would change),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import difflib
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rolegraph import __version__
from rolegraph.compiler.diagnostics import Diagnostic, explain, render
from rolegraph.compiler.source import Source

app = typer.Typer(
    name="rolegraph",
    help="A typed, declarative language for LLM agent systems, and its compiler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rolegraph {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """rolegraph: parse, check, format, compile and run `.agent` files."""


# -- shared plumbing ------------------------------------------------------------------------


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _read(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _usage_error(f"no such file: {path}") from None
    except IsADirectoryError:
        raise _usage_error(f"{path} is a directory") from None
    except UnicodeDecodeError as error:
        raise _usage_error(f"{path} is not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise _usage_error(f"cannot read {path}: {error.strerror}") from None


def _agent_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if str(path) == "-":
            files.append(path)
        elif path.is_dir():
            files.extend(sorted(path.rglob("*.agent")))
        elif path.exists():
            files.append(path)
        else:
            raise _usage_error(f"no such file or directory: {path}")
    return files


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...], source: Source) -> None:
    color = sys.stderr.isatty()
    for diagnostic in diagnostics:
        typer.echo(render(diagnostic, source, color=color) + "\n", err=True)


def _diagnostic_json(diagnostic: Diagnostic) -> dict:
    data = diagnostic.model_dump(mode="json")
    data["line"] = diagnostic.line
    data["column"] = diagnostic.column
    return data


def _summary(errors: int, warnings: int) -> str:
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


# -- commands ---------------------------------------------------------------------------------


@app.command()
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
        raise _usage_error("give a file to parse, or --schema")
    result = parse_module(_read(file), str(file))
    if result.module is None:
        _print_diagnostics(result.diagnostics, result.source)
        raise typer.Exit(EXIT_DIAGNOSTICS)
    if as_json:
        typer.echo(result.module.model_dump_json(indent=2))
    else:
        typer.echo(to_source(result.module), nl=False)


@app.command()
def check(
    files: Annotated[list[Path], typer.Argument(help="Files or folders of .agent files.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print diagnostics as JSON.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as errors.")] = False,
) -> None:
    """Check files and report every diagnostic (syntax, for now)."""
    from rolegraph.grammar import parse_module

    all_diagnostics: list[dict] = []
    errors = warnings = 0
    for path in _agent_files(files):
        result = parse_module(_read(path), str(path))
        for diagnostic in result.diagnostics:
            if diagnostic.is_error:
                errors += 1
            else:
                warnings += 1
        if as_json:
            all_diagnostics.extend(_diagnostic_json(d) for d in result.diagnostics)
        else:
            _print_diagnostics(result.diagnostics, result.source)
    failed = errors > 0 or (strict and warnings > 0)
    if as_json:
        typer.echo(json.dumps(all_diagnostics, indent=2))
    elif errors or warnings:
        typer.echo(_summary(errors, warnings), err=True)
    raise typer.Exit(EXIT_DIAGNOSTICS if failed else EXIT_OK)


@app.command()
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
    for path in _agent_files(files):
        text = _read(path)
        result = parse_module(text, str(path))
        if result.module is None:
            _print_diagnostics(result.diagnostics, result.source)
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


@app.command(name="explain")
def explain_code(
    code: Annotated[str, typer.Argument(help="A diagnostic code, e.g. E0101.")],
) -> None:
    """Explain a diagnostic code at length."""
    text = explain(code)
    if text is None:
        raise _usage_error(f"unknown diagnostic code {code!r}")
    typer.echo(text, nl=False)


def main() -> None:
    """The console-script entry point."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
