"""What `rolegraph run` does once its options are read, by typer (run.py) or by the fast
path (fast.py), and what `resume` continues with: it imports no typer."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .exits import (
    EXIT_DIAGNOSTICS,
    EXIT_OK,
    echo,
    keep_until_exit,
    paused_collection,
    stdout_for_the_result,
    usage_error,
)
from .files import check_output, checked_or_exit, open_store
from .options import (
    check_model_option,
    loads_json,
    pick_agent,
    provider_params,
    warm_up_litellm,
)
from .render import json_text
from .run_options import RunOptions


def run_file_command(options: RunOptions) -> None:
    """`rolegraph run`: the result on stdout, and nothing else there."""
    if options.events not in (None, "jsonl"):
        raise usage_error(f"--events takes jsonl, not {options.events!r}")
    with stdout_for_the_result() as out:
        run(options, out)


def run(options: RunOptions, out: TextIO) -> None:
    """Run an agent (or resume a run), its result printed on `out`."""
    params = provider_params(options.api_base, options.param, options.timeout, options.concurrency)
    with paused_collection():  # (the runtime's modules: start-up, no run yet)
        from rolegraph.runtime import RunError, StoreError

    try:
        inputs = loads_json(options.input)
    except json.JSONDecodeError as error:
        raise usage_error(f"--input is not JSON: {error}") from None
    if not isinstance(inputs, dict):
        raise usage_error('--input must be a JSON object, like \'{"task": "..."}\'')
    check_model_option(options.model)
    check_output(options.trace, "--trace")
    from rolegraph.runtime import Budget

    try:
        limits = Budget.parse(options.budget) if options.budget else None
    except ValueError as error:
        raise usage_error(str(error)) from None
    checked = checked_or_exit(options.file, options.root, keep=True)
    warm_up_litellm(options.model, checked)
    from rolegraph.runtime import Store

    database = None if options.no_store else open_store(Store, options.store)
    agent = options.agent
    if options.resume is not None:
        if database is None:
            raise usage_error("--resume needs the store the run was made with")
        try:
            info = database.run_info(options.resume)
        except RunError as error:  # (a StoreError: the store is damaged)
            echo(f"error: {error}", err=True)
            raise SystemExit(EXIT_DIAGNOSTICS) from None
        if info is None:
            raise usage_error(f"no run {options.resume!r} in {options.store}")
        agent = info.agent
    ir = pick_agent(checked.irs, agent, options.file)
    # (the program's fingerprint: what the store keeps to refuse resuming a changed agent)
    source = None
    if database is not None:
        source = (str(options.file), checked.fingerprint)
    arguments = dict(
        model=options.model,
        params=params,
        budget=limits,
        store=database,
        resume=options.resume,
        source=source,
    )
    live = not options.quiet and not options.events and sys.stderr.isatty()
    if (
        options.resume is not None
        and database is not None
        and not options.events
        and sys.stdin.isatty()
    ):
        from .human import terminal_desk

        arguments["human"] = terminal_desk(database, options.resume)  # asks the questions here
        live = False  # (the questions are asked on the terminal the view would draw on)
    keep_until_exit()  # (start-up's objects: the run's own are collected as always)
    try:
        outcome = _execute(ir, inputs, arguments, live=live, lines=out if options.events else None)
    except RunError as error:
        from .human import report_paused

        stored = options.store if database is not None else None
        if report_paused(error, stored, options.quiet, options.file):
            if options.trace is not None and error.trace is not None:
                _write_trace(error.trace, options.trace)
            raise SystemExit(EXIT_OK) from None
        echo(f"error: {error}", err=True)
        run_id = getattr(error, "run_id", None)
        if run_id and not isinstance(error, StoreError):  # (a StoreError says what to do)
            echo(f"run {run_id}: resume with --resume {run_id}", err=True)
        if options.trace is not None and error.trace is not None:
            _write_trace(error.trace, options.trace)
        raise SystemExit(EXIT_DIAGNOSTICS) from None
    # The result first: a trace that cannot be written after all (a full disk) loses
    # only the trace.
    if not options.events:  # (with --events, the result was the last line)
        echo(json_text(outcome.result), file=out)
    if not options.quiet:
        from rolegraph.run_summary import print_summary

        print_summary(outcome.trace)
        if outcome.run_id:
            echo(f"run {outcome.run_id} (store: {options.store})", err=True)
    if options.trace is not None:
        _write_trace(outcome.trace, options.trace)


def _write_trace(trace: Any, path: Path) -> None:
    try:
        trace.write_jsonl(str(path))
    except OSError as error:
        echo(f"error: cannot write the trace {path}: {error.strerror or error}", err=True)
        raise SystemExit(EXIT_DIAGNOSTICS) from None


def _execute(
    ir: Any, inputs: dict[str, Any], options: dict[str, Any], *, live: bool, lines: TextIO | None
) -> Any:
    """Run the agent: followed event by event when it is shown live or its events are
    printed (model replies then stream), else plainly. Raises its `RunError`."""
    from rolegraph.runtime.sync import run_sync

    if not live and lines is None:
        from rolegraph.runtime import run_agent

        return run_sync(run_agent(ir, inputs, **options))
    from rolegraph.run_view import result_of, watch
    from rolegraph.runtime import stream_agent

    last = run_sync(watch(stream_agent(ir, inputs, **options), live=live, lines=lines))
    return result_of(last)
