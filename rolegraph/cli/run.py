"""The commands that run agents: `run` (and what `resume` continues with), and `test`,
which runs a file's `test` blocks on the mock."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from .exits import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    paused_collection,
    stdout_for_the_result,
    usage_error,
)
from .files import agent_files, check_file, check_output, checked_or_exit, open_store
from .options import (
    ApiBaseOption,
    ConcurrencyOption,
    ParamOption,
    RootOption,
    TimeoutOption,
    check_model_option,
    loads_json,
    pick_agent,
    provider_params,
    warm_up_litellm,
)
from .render import json_text, print_in_sources

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
    ] = Path(".rolegraph/store.sqlite"),
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
    if events not in (None, "jsonl"):
        raise usage_error(f"--events takes jsonl, not {events!r}")
    with stdout_for_the_result() as out:
        run(
            file,
            agent,
            input,
            model,
            trace,
            quiet,
            budget,
            store,
            no_store,
            resume,
            out,
            provider_params(api_base, param, timeout, concurrency),
            root,
            events == "jsonl",
        )


def run(
    file: Path,
    agent: str | None,
    input: str,
    model: str | None,
    trace: Path | None,
    quiet: bool,
    budget: str | None,
    store: Path,
    no_store: bool,
    resume: str | None,
    out: TextIO,
    params: dict[str, Any],
    root: Path | None = None,
    events: bool = False,
) -> None:
    """Run an agent (or resume a run), its result printed on `out`."""
    with paused_collection():  # (the runtime's modules: start-up, no run yet)
        from rolegraph.runtime import RunError, StoreError

    try:
        inputs = loads_json(input)
    except json.JSONDecodeError as error:
        raise usage_error(f"--input is not JSON: {error}") from None
    if not isinstance(inputs, dict):
        raise usage_error('--input must be a JSON object, like \'{"task": "..."}\'')
    check_model_option(model)
    check_output(trace, "--trace")
    from rolegraph.runtime import Budget

    try:
        limits = Budget.parse(budget) if budget else None
    except ValueError as error:
        raise usage_error(str(error)) from None
    checked = checked_or_exit(file, root)
    warm_up_litellm(model, checked)
    from rolegraph.compiler.printer import fingerprint
    from rolegraph.runtime import Store

    database = None if no_store else open_store(Store, store)
    if resume is not None:
        if database is None:
            raise usage_error("--resume needs the store the run was made with")
        try:
            info = database.run_info(resume)
        except RunError as error:  # (a StoreError: the store is damaged)
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
        if info is None:
            raise usage_error(f"no run {resume!r} in {store}")
        agent = info.agent
    ir = pick_agent(checked.irs, agent, file)
    source = (str(file), fingerprint(checked.program.main.module))
    options = dict(
        model=model, params=params, budget=limits, store=database, resume=resume, source=source
    )
    live = not quiet and not events and sys.stderr.isatty()
    if resume is not None and database is not None and not events and sys.stdin.isatty():
        from .human import terminal_desk

        options["human"] = terminal_desk(database, resume)  # asks the questions here
        live = False  # (the questions are asked on the terminal the view would draw on)
    try:
        outcome = _execute(ir, inputs, options, live=live, lines=out if events else None)
    except RunError as error:
        from .human import report_paused

        if report_paused(error, store if database is not None else None, quiet, file):
            if trace is not None and error.trace is not None:
                _write_trace(error.trace, trace)
            raise typer.Exit(EXIT_OK) from None
        typer.echo(f"error: {error}", err=True)
        run_id = getattr(error, "run_id", None)
        if run_id and not isinstance(error, StoreError):  # (a StoreError says what to do)
            typer.echo(f"run {run_id}: resume with --resume {run_id}", err=True)
        if trace is not None and error.trace is not None:
            _write_trace(error.trace, trace)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    # The result first: a trace that cannot be written after all (a full disk) loses
    # only the trace.
    if not events:  # (with --events, the result was the last line)
        typer.echo(json_text(outcome.result), file=out)
    if not quiet:
        from rolegraph.run_view import print_summary

        print_summary(outcome.trace)
        if outcome.run_id:
            typer.echo(f"run {outcome.run_id} (store: {store})", err=True)
    if trace is not None:
        _write_trace(outcome.trace, trace)


def _write_trace(trace: Any, path: Path) -> None:
    try:
        trace.write_jsonl(str(path))
    except OSError as error:
        typer.echo(f"error: cannot write the trace {path}: {error.strerror or error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None


def _execute(
    ir: Any, inputs: dict[str, Any], options: dict[str, Any], *, live: bool, lines: TextIO | None
) -> Any:
    """Run the agent: followed event by event when it is shown live or its events are
    printed (model replies then stream), else plainly. Raises its `RunError`."""
    from rolegraph.runtime import run_agent, stream_agent
    from rolegraph.runtime.sync import run_sync

    if not live and lines is None:
        return run_sync(run_agent(ir, inputs, **options))
    from rolegraph.run_view import result_of, watch

    last = run_sync(watch(stream_agent(ir, inputs, **options), live=live, lines=lines))
    return result_of(last)


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
