"""The commands that run agents: `run` (and what `resume` continues with), and `test`,
which runs a file's `test` blocks on the mock."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .exits import EXIT_DIAGNOSTICS
from .files import agent_files, check_file
from .params import ApiBaseOption, ConcurrencyOption, ParamOption, RootOption, TimeoutOption
from .render import print_in_sources
from .run_options import DEFAULT_STORE, RunOptions
from .running import run_file_command

commands = typer.Typer()


@commands.command(name="run")
def run_command(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    agent: Annotated[str | None, typer.Argument(help="The agent (default: the last one).")] = None,
    input: Annotated[
        str, typer.Option("--input", "-i", help='The inputs as JSON: \'{"task": "..."}\'.')
    ] = "{}",
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Use this model for every role (mock).")
    ] = None,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="Write the trace as JSONL here.")
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No live progress, no summary table.")
    ] = False,
    events: Annotated[
        str | None,
        typer.Option(
            "--events",
            help="jsonl: print the run's events on stdout as they happen, one JSON object a "
            "line, instead of the result (docs/streaming.md).",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option("--budget", help="Limits for the run: calls=N,tokens=N,cost=X."),
    ] = None,
    store: Annotated[
        Path,
        typer.Option("--store", help="SQLite file for the response cache and checkpoints."),
    ] = DEFAULT_STORE,
    no_store: Annotated[bool, typer.Option("--no-store", help="No cache, no checkpoints.")] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue the run with this id.")
    ] = None,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """Run an agent and print its typed result as JSON (`--model mock`: offline).

    On a terminal, the run is shown live on stderr while it works."""
    # (the parameters are RunOptions' fields, name for name: tests/test_cli_fast.py)
    run_file_command(RunOptions(**locals()))


@commands.command(name="test")
def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .agent files.")],
    select: Annotated[
        str | None, typer.Option("-k", help="Only the tests whose name contains this.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Run the `test` blocks of .agent files on the mock model (exit 1 if one fails)."""
    import time

    from rolegraph.runtime.sync import run_sync
    from rolegraph.runtime.testblocks import run_test

    began = time.perf_counter()
    passed = failed = 0
    for path in agent_files(paths):
        checked, diagnostics, sources = check_file(path, root=root)
        tests = [t for t in checked.program.main.module.tests] if checked else []
        tests = [t for t in tests if select is None or select in t.name]
        errors = [d for d in diagnostics if d.is_error]
        if errors:
            if tests or checked is None:
                print_in_sources(errors, sources)
                typer.echo(f"{path}: ERROR (the file does not check)")
                failed += max(1, len(tests))
            continue
        for test in tests:
            assert test.run is not None
            outcome = run_sync(run_test(test, checked.irs[test.run.agent]))
            status = "PASSED" if outcome.passed else "FAILED"
            typer.echo(f"{path}::{test.name} {status} ({outcome.seconds * 1000:.0f} ms)")
            for failure in outcome.failures:
                for line in failure.splitlines():
                    typer.echo(f"    {line}")
            passed += outcome.passed
            failed += not outcome.passed
    seconds = time.perf_counter() - began
    if passed + failed == 0:
        typer.echo("no tests ran")
        raise typer.Exit(5)
    summary = ", ".join(p for p in (f"{failed} failed" * bool(failed), f"{passed} passed") if p)
    typer.echo(f"== {summary} in {seconds:.2f}s ==")
    if failed:
        raise typer.Exit(EXIT_DIAGNOSTICS)
