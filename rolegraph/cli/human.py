"""The commands of human steps (docs/human.md): `rolegraph runs --pending` lists the
questions paused runs wait for, `rolegraph resume RUN --answer '{...}'` answers one and
continues the run; `rolegraph run --resume RUN` on a terminal asks them there."""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .exits import EXIT_DIAGNOSTICS, EXIT_OK, stdout_for_the_result, usage_error
from .files import open_store
from .options import loads_json
from .run_options import DEFAULT_STORE

commands = typer.Typer()

StoreOption = Annotated[
    Path,
    typer.Option("--store", help="The SQLite file of the runs (as `rolegraph run` used)."),
]


def terminal_desk(store: Any, run_id: str) -> Any:
    """The desk that asks a run's questions on this terminal (stdin, stderr)."""
    from rolegraph.runtime import TerminalDesk

    def read_line() -> str | None:
        line = sys.stdin.readline()
        return line if line else None

    return TerminalDesk(store, run_id, read_line, sys.stderr)


def report_paused(error: Exception, store: Path | None, quiet: bool, file: Path) -> bool:
    """Tell a paused run's questions and how to answer them (stderr); True when the run
    paused in a store (so it can be resumed: the command succeeded)."""
    from rolegraph.runtime import Paused

    if not isinstance(error, Paused):
        return False
    if store is None or error.run_id is None:
        typer.echo(
            "note: a human step asked a question, and a run without a store cannot wait "
            "for its answer: run it with a store (no --no-store)",
            err=True,
        )
        return False
    typer.echo(f"run {error.run_id} paused: {error}", err=True)
    option = "" if store == DEFAULT_STORE else f" --store {store}"
    several = len(error.questions) > 1
    for question in error.questions:
        which = f" --question {question.id}" if several else ""
        typer.echo(
            f"  answer: rolegraph resume {error.run_id}{option}{which} --answer "
            f"'{json.dumps(_sample(question.schema))}'",
            err=True,
        )
    if not quiet:
        typer.echo(
            f"  or, to be asked here: rolegraph run {file} --resume {error.run_id}{option}",
            err=True,
        )
    return True


def _sample(schema: dict[str, Any]) -> Any:
    """A value of the shape a JSON schema describes, to show how an answer looks."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0] if schema["enum"] else "..."
    if "anyOf" in schema:
        return _sample(schema["anyOf"][0])
    if kind == "object":
        properties = schema.get("properties")
        if properties is None:
            return {}
        return {name: _sample(sub) for name, sub in properties.items()}
    if kind == "array":
        return [_sample(schema.get("items", {}))]
    return {"string": "...", "integer": 1, "number": 1.0, "boolean": True}.get(str(kind))


@commands.command(name="runs")
def runs_command(
    pending: Annotated[
        bool, typer.Option("--pending", help="The questions paused runs wait for.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
    store: StoreOption = DEFAULT_STORE,
) -> None:
    """List the runs of a store, or (`--pending`) the questions that wait for answers."""
    from rolegraph.runtime import RunError, pending_questions
    from rolegraph.runtime.questions import runs

    if not store.exists():
        raise usage_error(f"no store {store}")
    database = open_store(_store_class(), store)
    try:
        if pending:
            found = pending_questions(database)
            if as_json:
                typer.echo(json.dumps([q.to_json() for q in found], indent=2, default=str))
                return
            if not found:
                typer.echo("no question waits for an answer", err=True)
            for question in found:
                deadline = f"  (deadline {_when(question.deadline)})" if question.deadline else ""
                typer.echo(
                    f"{question.run}  {question.id}  {question.step}{deadline}\n"
                    + "".join(f"    {line}\n" for line in question.text.splitlines())
                    + f"    answer: JSON matching {json.dumps(question.schema)}"
                )
            return
        listed = runs(database)
        if as_json:
            typer.echo(json.dumps(listed, indent=2, default=str))
            return
        for row in listed:
            typer.echo(
                f"{row['id']}  {row['status']:<9}  {row['agent']}  {row['file']}  "
                f"{_when(row['updated'])}"
            )
    except RunError as error:  # (a damaged store)
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    finally:
        database.close()


def _store_class() -> Any:
    from rolegraph.runtime import Store

    return Store


def _when(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(stamp, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


@commands.command(name="resume")
def resume_command(
    run: Annotated[str, typer.Argument(help="The id of the paused run.")],
    answer: Annotated[
        str | None,
        typer.Option("--answer", "-a", help="The answer, as JSON of the step's result type."),
    ] = None,
    question: Annotated[
        str | None,
        typer.Option("--question", help="Which question (when the run waits for several)."),
    ] = None,
    store: StoreOption = DEFAULT_STORE,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary table.")] = False,
    events: Annotated[
        str | None, typer.Option("--events", help="jsonl: print the run's events.")
    ] = None,
    trace: Annotated[
        Path | None, typer.Option("--trace", help="Write the trace as JSONL here.")
    ] = None,
) -> None:
    """Answer a question of a paused run (validated against its type) and continue the
    run from where it stopped: no completed firing or model call is repeated."""
    from rolegraph.runtime import AnswerError, RunError, answer_question

    if events not in (None, "jsonl"):
        raise usage_error(f"--events takes jsonl, not {events!r}")
    if not store.exists():
        raise usage_error(f"no store {store}")
    database = open_store(_store_class(), store)
    try:
        info = database.run_info(run)
        if info is None:
            raise usage_error(f"no run {run!r} in {store}")
        if answer is not None:
            try:
                value = loads_json(answer)
            except json.JSONDecodeError as error:
                raise usage_error(f"--answer is not JSON: {error}") from None
            try:
                answered = answer_question(database, run, question, value)
            except AnswerError as error:
                typer.echo(error.render(), err=True)
                raise typer.Exit(EXIT_DIAGNOSTICS) from None
            typer.echo(f"answered {answered.id} (`{answered.step}`)", err=True)
        elif question is not None:
            raise usage_error("--question names the question that --answer answers")
    except RunError as error:  # (a damaged store)
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    finally:
        database.close()
    if info.status == "returned":
        typer.echo(f"run {run} has returned already", err=True)
        raise typer.Exit(EXIT_OK)
    if not Path(info.file).exists():
        raise usage_error(
            f"run {run} was made from {info.file}, which is not found from here: resume it "
            "in the directory it ran in (the answer, if given, is kept)"
        )
    from .run_options import RunOptions
    from .running import run as run_file

    with stdout_for_the_result() as out:
        run_file(
            RunOptions(
                file=Path(info.file),
                agent=info.agent,
                trace=trace,
                quiet=quiet,
                events=events,
                store=store,
                resume=run,
            ),
            out,
        )
