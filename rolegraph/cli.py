"""The `rolegraph` command line.

Exit codes: 0 clean, 1 diagnostics (or files that `fmt --check` would change),
2 usage errors (bad options, missing files).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from rolegraph import __version__

if TYPE_CHECKING:
    from rolegraph.compiler.diagnostics import Diagnostic
    from rolegraph.compiler.source import Source


# The compiler's modules load pydantic and jinja2 (~80 ms): imported on first use, so that
# `rolegraph --help` and the commands that never print a diagnostic do without them.
def loads_json(text: str) -> Any:
    from rolegraph.compiler.depth import loads_json

    return loads_json(text)


def explain(code: str) -> str | None:
    from rolegraph.compiler.diagnostics import explain

    return explain(code)


def printable(text: str) -> str:
    from rolegraph.compiler.diagnostics import printable

    return printable(text)


def render(diagnostic: Diagnostic, source: Source, *, color: bool = False) -> str:
    from rolegraph.compiler.diagnostics import render

    return render(diagnostic, source, color=color)


def Source(file: str, text: str) -> Source:
    from rolegraph.compiler.source import Source

    return Source(file, text)


app = typer.Typer(
    name="rolegraph",
    help="A typed, declarative language for LLM agent systems, and its compiler.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_DIAGNOSTICS, EXIT_USAGE = 0, 1, 2
OPTIMIZERS = ("random", "evolve", "swarm", "mcts", "llm", "reflect")


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

# Where a program's file imports may reach (compiler/resolve.py; docs/language.md).
RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="The project directory file imports must stay in (default: the file's directory).",
    ),
]


@contextlib.contextmanager
def _stdout_for_the_result() -> Iterator[TextIO]:
    """stdout carries a command's result and nothing else: while the command works, what
    libraries print there (litellm's banners, a stray `print` in a tool) goes to stderr.
    Yields the real stdout, for the result."""
    real = sys.stdout
    sys.stdout = sys.stderr
    try:
        yield real
    finally:
        sys.stdout = real


def _usage_error(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(EXIT_USAGE)


def _read_source(path: Path) -> tuple[str, Diagnostic | None]:
    """A file's text ('-': stdin), with the E0114 diagnostic when it is not UTF-8 text;
    a missing, unreadable or folder path is a usage error."""
    from rolegraph.grammar.encoding import decode_source

    if str(path) == "-":
        return decode_source(sys.stdin.buffer.read(), "-")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _usage_error(f"no such file: {path}") from None
    except IsADirectoryError:
        raise _usage_error(f"{path} is a directory") from None
    except OSError as error:
        raise _usage_error(f"cannot read {path}: {error.strerror}") from None
    return decode_source(data, str(path))


def _read(path: Path) -> str:
    """A file's text; one that is not UTF-8 text ends the command with its diagnostic."""
    text, problem = _read_source(path)
    if problem is not None:
        _print_diagnostics((problem,), Source(problem.file, text))
        raise typer.Exit(EXIT_DIAGNOSTICS)
    return text


def _check_output(path: Path | None, option: str, *, folder: bool = False) -> None:
    """Refuse, as a usage error, an output path that cannot be written — before the work
    starts, so a typo never throws away a finished run or search. A file goes into a
    folder that exists (and is not itself a folder); a `folder` output may be made, but
    not where a file is."""
    if path is None or str(path) == "-":
        return
    if folder:
        if path.exists() and not path.is_dir():
            raise _usage_error(f"{option} {path} is a file: give a folder (made if missing)")
        existing = next(p for p in (path, *path.parents) if p.exists())
        if not existing.is_dir():
            raise _usage_error(f"{option} {path}: {existing} is a file, not a folder")
    else:
        if path.is_dir():
            raise _usage_error(f"{option} {path} is a folder: give a file name")
        existing = path.parent
        if not existing.is_dir():
            what = "a file, not a folder" if existing.exists() else "missing"
            raise _usage_error(f"{option} {path}: there is no folder {existing} ({what})")
    if not os.access(existing, os.W_OK):
        raise _usage_error(f"{option} {path}: {existing} is not writable")


def _write_output(path: Path, text: str) -> None:
    """Write a command's output file; a failure now (a full disk) is one line, exit 1."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        typer.echo(f"error: cannot write {path}: {error.strerror or error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None


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


def _json_text(value: Any) -> str:
    """`value` as indented JSON that can be written as UTF-8: non-ASCII text stays as it
    is, but a lone surrogate (a JSON input may hold one: `"\\ud800"`) has no UTF-8
    form, so it is written as its JSON escape, which reads back as the same value."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _LONE_SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


# Surrogates appear in `json.dumps` output only inside strings, where an escape is valid.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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


def _check_file(path: Path, *, explore: bool = True, root: Path | None = None):
    """Parse and check one file: (CheckedModule or None, diagnostics, sources by file)."""
    from rolegraph.compiler.check import check_module
    from rolegraph.grammar import parse_module

    text, problem = _read_source(path)
    if problem is not None:
        return None, [problem], {str(path): text}
    result = parse_module(text, str(path))
    if result.module is None:
        return None, list(result.diagnostics), {str(path): text}

    def parse_import(source: str, name: str):
        imported = parse_module(source, name)
        return imported.module, imported.diagnostics

    checked = check_module(result.module, str(path), parse_import, text, explore=explore, root=root)
    return checked, checked.diagnostics, checked.program.sources


@app.command()
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
    all_diagnostics: list[dict] = []
    errors = warnings = 0
    for path in _agent_files(files):
        checked, diagnostics, sources = _check_file(path, root=root)
        if connect and checked is not None:
            from rolegraph.runtime.mcp_check import connected_diagnostics

            diagnostics = [*diagnostics, *connected_diagnostics(checked)]
        for diagnostic in diagnostics:
            if diagnostic.is_error:
                errors += 1
            else:
                warnings += 1
        if as_json:
            all_diagnostics.extend(_diagnostic_json(d) for d in diagnostics)
            continue
        for diagnostic in diagnostics:
            source = Source(diagnostic.file, sources.get(diagnostic.file, ""))
            typer.echo(render(diagnostic, source, color=sys.stderr.isatty()) + "\n", err=True)
        if checked is not None:
            for result in checked.constraints:
                if result.status == "proven":
                    typer.echo(
                        printable(
                            f"{path}: {result.agent}: `{result.mode} {result.text}` proven "
                            f"on every run ({result.states} states explored)"
                        ),
                        err=True,
                    )
            if cost:
                _print_cost(checked)
    failed = errors > 0 or (strict and warnings > 0)
    if as_json:
        typer.echo(json.dumps(all_diagnostics, indent=2))
    elif errors or warnings:
        typer.echo(_summary(errors, warnings), err=True)
    raise typer.Exit(EXIT_DIAGNOSTICS if failed else EXIT_OK)


def _print_cost(checked) -> None:
    from rich.console import Console
    from rich.table import Table

    from rolegraph.compiler.analyses import cost_table

    console = Console()
    for name, ir in checked.irs.items():
        table = Table(title=f"{name}: worst case per run", title_justify="left")
        for column in ("node", "callee", "model", "firings", "model calls", "output tokens"):
            table.add_column(
                column,
                justify="right"
                if column in ("firings", "model calls", "output tokens")
                else "left",
            )
        rows = cost_table(ir)
        asks = any(r.questions for r in rows)  # human steps: a column of their own
        if asks:
            table.add_column("human steps", justify="right")
        for row in rows:
            tokens = "unbounded" if row.output_tokens is None else f"{row.output_tokens:,}"
            cells = [row.node, row.callee, row.model or "-", str(row.firings), str(row.calls)]
            table.add_row(*cells, tokens, *([str(row.questions)] if asks else []))
        total_calls = sum(r.calls for r in rows)
        token_values = [r.output_tokens for r in rows]
        total_tokens = (
            "unbounded"
            if any(t is None for t in token_values)
            else f"{sum(t for t in token_values if t is not None):,}"
        )
        table.add_section()
        total_questions = [str(sum(r.questions for r in rows))] if asks else []
        table.add_row("total", "", "", "", str(total_calls), total_tokens, *total_questions)
        console.print(table)


@app.command()
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
        raise _usage_error(f"unknown format {format!r}: use mermaid or dot")
    _check_output(output, "-o")
    dot = _graphviz_for(output)
    checked = _checked_or_exit(file, root)
    irs = checked.irs
    if not irs:
        raise _usage_error(f"{file} declares no agent")
    if agent is None:
        ir = list(irs.values())[-1]
    elif agent in irs:
        ir = irs[agent]
    else:
        raise _usage_error(f"no agent {agent!r} in {file}; agents: {', '.join(irs)}")
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
        _write_output(output, text)
    typer.echo(f"wrote {output}", err=True)


def _graphviz_for(output: Path | None) -> str | None:
    """graphviz's `dot`, when the output is an image (.png/.svg/.pdf); its absence is a
    usage error found before the work."""
    if output is None or output.suffix not in (".png", ".svg", ".pdf"):
        return None
    import shutil

    dot = shutil.which("dot")
    if dot is None:
        raise _usage_error("graphviz `dot` is not installed; write .dot or .mmd instead")
    return dot


# How every command that calls models reaches them (run, search, attribute).
ApiBaseOption = Annotated[
    str | None,
    typer.Option("--api-base", help="An OpenAI-compatible server's URL, for every model called."),
]
ParamOption = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="A model parameter NAME=VALUE laid over every role's own (repeatable), "
        "e.g. temperature=0, structured_output=schema_in_json_object, cost_per_input_token=0.",
    ),
]
TimeoutOption = Annotated[
    float | None, typer.Option("--timeout", help="Seconds each model call may take.")
]
ConcurrencyOption = Annotated[
    int | None,
    typer.Option("--concurrency", help="Calls in flight at once, per model and server."),
]
# What edits may bring in beyond what the program has (compiler/edits/trust.py).
AllowToolOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-tool",
        help='A tool target edits may declare: "module:function" or "module:*" (repeatable).',
    ),
]
AllowImportOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-import",
        help='A module edits may import: std.NAME, std.*, or a path "./x.agent" (repeatable).',
    ),
]


def _trust_policy(tools: list[str] | None, imports: list[str] | None) -> Any:
    """The trust policy the options name (a malformed pattern is a usage error)."""
    from rolegraph.compiler.edits import TrustPolicy

    try:
        return TrustPolicy(tools=frozenset(tools or ()), imports=frozenset(imports or ()))
    except ValueError as error:
        raise _usage_error(str(error)) from None


def _check_model_option(model: str | None) -> None:
    """`--model` names a model the run can call: a mock delay that would make every call
    wait for its timeout (`mock:latency=inf`) is refused before any work."""
    from rolegraph.runtime.providers import is_mock, mock_latency

    if model is not None and is_mock(model):
        try:
            mock_latency(model)
        except ValueError as error:
            raise _usage_error(f"--model {error}") from None


def _provider_params(
    api_base: str | None, param: list[str] | None, timeout: float | None, concurrency: int | None
) -> dict[str, Any]:
    """The provider options as model parameters (usage errors end the command)."""
    params: dict[str, Any] = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise _usage_error(f"--param takes NAME=VALUE, not {item!r}")
        try:
            params[name.strip()] = loads_json(value)
        except json.JSONDecodeError:
            params[name.strip()] = value
    if api_base is not None:
        params.setdefault("api_key", "none")  # a local server wants none, litellm wants one
        params["api_base"] = api_base
    if timeout is not None:
        if timeout <= 0:
            raise _usage_error("--timeout is a number of seconds above 0")
        params["timeout"] = timeout
    if concurrency is not None:
        if concurrency < 1:
            raise _usage_error("--concurrency is at least 1")
        params["concurrency"] = concurrency
    return params


def _warm_up_litellm(model: str | None, checked: Any) -> None:
    """Start importing litellm (seconds) in the background when the run will need it,
    so that the import overlaps the rest of the set-up instead of the first call."""
    from rolegraph.runtime.providers import is_mock

    names = (
        [model]
        if model is not None
        else [node.model or "mock" for ir in checked.irs.values() for node in ir.nodes.values()]
    )
    if any(not is_mock(name) for name in names):
        from rolegraph.runtime.litellm_model import warm_up

        warm_up()


@app.command(name="run")
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
        raise _usage_error(f"--events takes jsonl, not {events!r}")
    with _stdout_for_the_result() as out:
        _run(
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
            _provider_params(api_base, param, timeout, concurrency),
            root,
            events == "jsonl",
        )


def _run(
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
    from rolegraph.runtime import RunError, StoreError

    try:
        inputs = loads_json(input)
    except json.JSONDecodeError as error:
        raise _usage_error(f"--input is not JSON: {error}") from None
    if not isinstance(inputs, dict):
        raise _usage_error('--input must be a JSON object, like \'{"task": "..."}\'')
    _check_model_option(model)
    _check_output(trace, "--trace")
    from rolegraph.runtime import Budget

    try:
        limits = Budget.parse(budget) if budget else None
    except ValueError as error:
        raise _usage_error(str(error)) from None
    checked = _checked_or_exit(file, root)
    _warm_up_litellm(model, checked)
    from rolegraph.compiler.printer import fingerprint
    from rolegraph.runtime import Store

    database = None if no_store else _open_store(Store, store)
    if resume is not None:
        if database is None:
            raise _usage_error("--resume needs the store the run was made with")
        try:
            info = database.run_info(resume)
        except RunError as error:  # (a StoreError: the store is damaged)
            typer.echo(f"error: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
        if info is None:
            raise _usage_error(f"no run {resume!r} in {store}")
        agent = info.agent
    if not checked.irs:
        raise _usage_error(f"{file} declares no agent")
    if agent is None:
        ir = list(checked.irs.values())[-1]
    elif agent in checked.irs:
        ir = checked.irs[agent]
    else:
        raise _usage_error(f"no agent {agent!r} in {file}; agents: {', '.join(checked.irs)}")
    source = (str(file), fingerprint(checked.program.main.module))
    options = dict(
        model=model, params=params, budget=limits, store=database, resume=resume, source=source
    )
    live = not quiet and not events and sys.stderr.isatty()
    if resume is not None and database is not None and not events and sys.stdin.isatty():
        from rolegraph.human_cli import terminal_desk

        options["human"] = terminal_desk(database, resume)  # asks the questions here
        live = False  # (the questions are asked on the terminal the view would draw on)
    try:
        outcome = _execute(ir, inputs, options, live=live, lines=out if events else None)
    except RunError as error:
        from rolegraph.human_cli import report_paused

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
        typer.echo(_json_text(outcome.result), file=out)
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
    import asyncio

    from rolegraph.runtime import run_agent, stream_agent

    if not live and lines is None:
        return asyncio.run(run_agent(ir, inputs, **options))
    from rolegraph.run_view import result_of, watch

    last = asyncio.run(watch(stream_agent(ir, inputs, **options), live=live, lines=lines))
    return result_of(last)


def _open_store(kind: Any, path: Path) -> Any:
    """A SQLite store, or a usage error saying why it cannot be opened there."""
    from rolegraph.runtime import StoreError

    try:
        return kind(path)
    except OSError as error:
        raise _usage_error(f"cannot open the store {path}: {error.strerror or error}") from None
    except StoreError as error:  # (damaged before anything ran: the option must change)
        raise _usage_error(f"cannot open the store {path}: {error.reason}") from None


def _checked_or_exit(path: Path, root: Path | None = None):
    """A file checked for running (no exploration): its errors end the command."""
    checked, diagnostics, sources = _check_file(path, explore=False, root=root)
    errors = [d for d in diagnostics if d.is_error]
    if checked is None or errors:
        for diagnostic in errors:
            source = Source(diagnostic.file, sources.get(diagnostic.file, ""))
            typer.echo(render(diagnostic, source, color=sys.stderr.isatty()) + "\n", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS)
    return checked


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
        text, problem = _read_source(path)
        if problem is not None:
            _print_diagnostics((problem,), Source(problem.file, text))
            broken = True
            continue
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


@app.command(name="test")
def test_command(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .agent files.")],
    select: Annotated[
        str | None, typer.Option("-k", help="Only the tests whose name contains this.")
    ] = None,
    root: RootOption = None,
) -> None:
    """Run the `test` blocks of .agent files on the mock model (exit 1 if one fails)."""
    import asyncio
    import time

    from rolegraph.runtime.testblocks import run_test

    began = time.perf_counter()
    passed = failed = 0
    for path in _agent_files(paths):
        checked, diagnostics, sources = _check_file(path, root=root)
        tests = [t for t in checked.program.main.module.tests] if checked else []
        tests = [t for t in tests if select is None or select in t.name]
        errors = [d for d in diagnostics if d.is_error]
        if errors:
            if tests or checked is None:
                for error in errors:
                    source = Source(error.file, sources.get(error.file, ""))
                    typer.echo(render(error, source, color=sys.stderr.isatty()) + "\n", err=True)
                typer.echo(f"{path}: ERROR (the file does not check)")
                failed += max(1, len(tests))
            continue
        for test in tests:
            run = test.run
            assert run is not None
            outcome = asyncio.run(run_test(test, checked.irs[run.agent]))
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


@app.command(name="compile")
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
        raise _usage_error(f"unknown target {target!r}: the targets are: python, langgraph")
    _check_output(output, "-o")
    text = _read(file)
    try:
        code = rolegraph.compile_python(file, text=text, langgraph=target == "langgraph", root=root)
    except DiagnosticError as error:
        from rolegraph.compiler.source import Source

        _print_diagnostics(error.diagnostics, error.source or Source(str(file), text))
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    if output is None:
        typer.echo(code, nl=False)
    else:
        _write_output(output, code)
        typer.echo(f"wrote {output}", err=True)


@app.command()
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

    def load(path: Path):
        result = parse_module(_read(path), str(path))
        if result.module is None:
            _print_diagnostics(result.diagnostics, result.source)
            raise typer.Exit(EXIT_DIAGNOSTICS)
        return result.module

    _check_output(output, "-o")
    module = load(file)
    editor = rolegraph.editor(str(file), trust=_trust_policy(allow_tool, allow_import), root=root)
    if list_edits:
        for found in editor.applicable(module):
            typer.echo(found.to_json())
        return
    if diff_to is not None:
        typer.echo(script_to_json(diff(module, load(diff_to))))
        return
    if proposal is None:
        raise _usage_error("give an edit as JSON, or --list, or --diff OTHER")
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
        _write_output(output, text)
        typer.echo(f"wrote {output}", err=True)


# Arguments and options that `search` and `attribute` share.
AgentArgument = Annotated[str | None, typer.Argument(help="The agent (default: the last one).")]
DataOption = Annotated[
    Path | None,
    typer.Option("--data", "-d", help='Examples as JSONL: {"inputs": {...}, "expected": ...}.'),
]
ScoreOption = Annotated[
    str, typer.Option("--score", help="exact, contains, field:NAME, or module:function.")
]
SeedsOption = Annotated[int, typer.Option("--seeds", help="Runs per example (seeds 0..N-1).")]
ModelOption = Annotated[
    str,
    typer.Option(
        "--model", "-m", help="The model of every role (mock: offline); declared: each role's own."
    ),
]
SearchStoreOption = Annotated[
    Path, typer.Option("--store", help="SQLite file of runs and candidates (a search resumes).")
]
SEARCH_STORE = Path(".rolegraph/search.sqlite")


@app.command(name="search")
def search_command(
    file: Annotated[Path, typer.Argument(help="The .agent file to start from.")],
    agent: AgentArgument = None,
    data: DataOption = None,
    score: ScoreOption = "exact",
    evaluations: Annotated[
        int, typer.Option("--evaluations", "-n", help="Candidates to evaluate, the start included.")
    ] = 20,
    seeds: SeedsOption = 1,
    seed: Annotated[int, typer.Option("--seed", help="The search's random seed.")] = 0,
    cost: Annotated[str, typer.Option("--cost", help="tokens, dollars or calls.")] = "tokens",
    model: ModelOption = "mock",
    store: SearchStoreOption = SEARCH_STORE,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the Pareto front here as .agent files."),
    ] = None,
    optimizer: Annotated[
        str,
        typer.Option(
            "--optimizer",
            help="random; evolve (a quality-diversity archive, crossover); swarm (particles "
            "moving along edit scripts); mcts (a tree of edits); llm (a model proposes "
            "edits as JSON); or reflect (a model reads the failing runs' traces).",
        ),
    ] = "random",
    proposer: Annotated[
        str,
        typer.Option("--proposer", help="With --optimizer llm or reflect: the proposing model."),
    ] = "mock",
    proposal: Annotated[
        str,
        typer.Option(
            "--proposal",
            help="With --optimizer llm: structured (the operator from an enum, then its typed "
            "fields) or text (the edit's JSON as free text).",
        ),
    ] = "structured",
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write a plot of score against evaluations (SVG).")
    ] = None,
    backend: Annotated[
        str, typer.Option("--backend", help="Where runs happen: local (asyncio), or ray.")
    ] = "local",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar, no line per candidate.")
    ] = False,
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose", "-v", help="A line per candidate on a terminal too (above the bar)."
        ),
    ] = False,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    allow_tool: AllowToolOption = None,
    allow_import: AllowImportOption = None,
    root: RootOption = None,
    held_out: Annotated[
        Path | None,
        typer.Option(
            "--held-out",
            help="Examples (JSONL) the front is judged on after the search, apart from --data.",
        ),
    ] = None,
    budget: Annotated[
        str | None,
        typer.Option(
            "--budget",
            help="A hard limit on the whole search: calls=N,tokens=N,cost=X (and prompt=N, "
            "the tokens a call's prompt may take; attempts=N per call). Each evaluation "
            "reserves its static worst case first (docs/search.md#budget).",
        ),
    ] = None,
) -> None:
    """Search for better agents by typed edits (random search, evolution, a particle
    swarm, tree search, or an LLM proposing edits that the checker accepts or refuses):
    every candidate checks, the Pareto front of score and cost is reported, and runs are
    cached, so a search resumes."""
    import asyncio

    from rolegraph.runtime import StoreError
    from rolegraph.search import (
        BudgetSpent,
        ObjectiveError,
        SearchBudget,
        SearchBudgetError,
        evolve,
        mcts,
        meta_search,
        random_search,
        swarm,
        write_front,
        write_report,
    )

    if optimizer not in OPTIMIZERS:
        raise _usage_error(f"--optimizer is one of {', '.join(OPTIMIZERS)}, not {optimizer!r}")
    if evaluations < 1:
        raise _usage_error("--evaluations is at least 1")
    if proposal not in ("structured", "text"):
        raise _usage_error(f"--proposal is structured or text, not {proposal!r}")
    if backend not in ("local", "ray"):
        raise _usage_error(f"--backend is local or ray, not {backend!r}")
    _check_output(output, "-o", folder=True)
    _check_output(plot, "--plot")
    params = _provider_params(api_base, param, timeout, concurrency)
    trust = _trust_policy(allow_tool, allow_import)
    try:
        limits = SearchBudget.parse(budget) if budget is not None else None
    except SearchBudgetError as error:
        raise _usage_error(str(error)) from None
    module, objective, evaluator = _evaluation_setup(
        file, agent, data, score, seeds, cost, model, store, params, backend, root
    )
    if limits is not None:
        from rolegraph.search_budget_view import preflight

        evaluator.budget = limits
        try:
            preflight(module, evaluator, limits, quiet=quiet)
        except (SearchBudgetError, BudgetSpent, ObjectiveError) as error:
            raise _usage_error(str(error)) from None  # (refused before any model call)
    editor = evaluator.editor(trust)
    from rolegraph.search_view import SearchProgress

    terminal = sys.stderr.isatty()
    shown = SearchProgress(
        evaluations,
        "candidates",
        bar=terminal and not quiet,
        lines=not quiet and (verbose or not terminal),
        max_calls=evaluator.max_calls or 0,
    )
    evaluator.on_run = shown.run_ended
    progress = shown.candidate
    try:
        if optimizer == "llm":
            search = meta_search(
                module,
                evaluator,
                proposer=proposer,
                proposer_params=params,
                evaluations=evaluations,
                progress=progress,
                editor=editor,
                proposal="text" if proposal == "text" else "structured",
            )
        elif optimizer == "reflect":  # (the --proposer model reads the failing traces)
            from rolegraph.search.reflect import reflect_search

            search = reflect_search(
                module,
                evaluator,
                critic=proposer,
                critic_params=params,
                evaluations=evaluations,
                progress=progress,
                editor=editor,
            )
        else:
            optimize = {"mcts": mcts, "swarm": swarm, "evolve": evolve}.get(
                optimizer, random_search
            )
            search = optimize(
                module,
                evaluator,
                evaluations=evaluations,
                seed=seed,
                progress=progress,
                editor=editor,
            )
        with _stdout_for_the_result(), shown:  # no result on stdout: all goes to stderr
            result = asyncio.run(search)
    except (ObjectiveError, StoreError, BudgetSpent, SearchBudgetError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    if limits is not None and not quiet:
        from rolegraph.search_budget_view import spent_line

        typer.echo(spent_line(limits, result), err=True)
    if result.refused and not quiet:
        typer.echo(f"{len(result.refused)} proposals refused by the checker; the last:", err=True)
        text, why = result.refused[-1]
        typer.echo(f"  {text[:200]}\n  {why.splitlines()[0]}", err=True)
    if result.archive and not quiet:
        typer.echo(f"archive: {len(result.archive)} cells (nodes, calls per run)", err=True)
    _print_front(result, objective.cost, _front_rows(result, evaluator, held_out))
    best = result.best.evaluation
    start = result.start.evaluation
    typer.echo(
        f"best score {best.score:.3f} (start {start.score:.3f}) after "
        f"{len(result.evaluated)} candidates; {result.calls} model calls made"
        + (f", and {result.proposer_calls} by the proposer" if result.proposer_calls else "")
        + f" (store: {store})",
        err=True,
    )
    if output is not None:
        try:
            written = write_front(result, output, stem=file.stem)
            written.append(write_report(result, output, file, objective))
        except OSError as error:  # (checked before the search: only a fault now, a full disk)
            typer.echo(f"error: cannot write the front to {output}: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
        for path in written:
            typer.echo(f"wrote {path}", err=True)
    if plot is not None:
        from rolegraph.search import score_plot

        _write_output(plot, score_plot(result, f"{file.name}: {optimizer} search"))
        typer.echo(f"wrote {plot}", err=True)


def _front_rows(result, evaluator, held_out: Path | None):
    """The front with its structure against the start, and its held-out scores (the
    search's budget pays for those runs too; what it cannot pay for is left unscored)."""
    import asyncio

    from rolegraph.search import (
        BudgetSpent,
        Objective,
        ObjectiveError,
        front_rows,
        load_examples,
    )

    judge = None
    if held_out is not None:
        try:
            objective = evaluator.objective
            judge = evaluator.judging(
                Objective(
                    load_examples(held_out),
                    objective.score,
                    agent=objective.agent,
                    seeds=objective.seeds,
                    cost=objective.cost,
                )
            )
        except ObjectiveError as error:
            typer.echo(f"error: --held-out: {error}", err=True)
            raise typer.Exit(EXIT_DIAGNOSTICS) from None
    try:
        return asyncio.run(front_rows(result, evaluator, judge))
    except BudgetSpent as error:
        typer.echo(f"the front is not judged on --held-out: {error}", err=True)
        return asyncio.run(front_rows(result, evaluator, None))


def _print_front(result, cost: str, rows) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Pareto front (score against cost)", title_justify="left")
    judged = any(row.held_out is not None for row in rows)
    columns = ["score", *(["held-out"] if judged else []), cost, "calls/run (worst)"]
    for column in (*columns, "nodes vs start", "failures", "made by", "fingerprint"):
        table.add_column(
            column, justify="left" if column in ("made by", "nodes vs start") else "right"
        )
    for row in rows:
        evaluation = row.scored.evaluation
        table.add_row(
            f"{evaluation.score:.3f}",
            *([f"{row.held_out:.3f}" if row.held_out is not None else "-"] if judged else []),
            f"{evaluation.cost:g}",
            str(row.calls_per_run),
            row.structure,
            str(evaluation.failures),
            row.scored.made_by,
            evaluation.fingerprint[:12],
        )
    Console(stderr=True, width=180).print(table)


def _evaluation_setup(
    file: Path,
    agent: str | None,
    data: Path | None,
    score: str,
    seeds: int,
    cost: str,
    model: str,
    store: Path,
    params: dict[str, Any],
    backend: str = "local",
    root: Path | None = None,
):
    """What `search` and `attribute` share: the checked program, the objective, and an
    evaluator on the store (usage errors and diagnostics end the command)."""
    from rolegraph.compiler.pyimport import folder_of
    from rolegraph.search import (
        Evaluator,
        Objective,
        ObjectiveError,
        SearchStore,
        load_examples,
        scorer,
    )
    from rolegraph.search.run import backend_named

    if data is None:
        raise _usage_error("--data DATA.jsonl is needed: the examples to score candidates on")
    _check_model_option(None if model == "declared" else model)
    if seeds < 1:
        raise _usage_error("--seeds is at least 1")
    try:
        objective = Objective(
            load_examples(data),
            scorer(score, folder_of(str(file))),  # (a scorer may sit beside the agent)
            agent=agent,
            seeds=tuple(range(seeds)),
            cost=cost,  # type: ignore[arg-type]
        )
    except ObjectiveError as error:
        raise _usage_error(str(error)) from None
    checked = _checked_or_exit(file, root)
    if agent is not None and agent not in checked.irs:
        raise _usage_error(f"no agent {agent!r} in {file}; agents: {', '.join(checked.irs)}")
    _warm_up_litellm(None if model == "declared" else model, checked)
    evaluator = Evaluator(
        objective,
        model=None if model == "declared" else model,
        params=params,
        store=_open_store(SearchStore, store),
        filename=str(file),
        backend=backend_named(backend),  # (checked above: local or ray)
        root=str(root) if root is not None else None,
    )
    return checked.program.main.module, objective, evaluator


@app.command(name="attribute")
def attribute_command(
    file: Annotated[Path, typer.Argument(help="The .agent file.")],
    agent: AgentArgument = None,
    data: DataOption = None,
    score: ScoreOption = "exact",
    seeds: SeedsOption = 1,
    model: ModelOption = "mock",
    store: SearchStoreOption = SEARCH_STORE,
    samples: Annotated[
        int, typer.Option("--samples", help="Random orders, beyond 8 nodes (exact below).")
    ] = 64,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """What each node that calls a model is worth: its Shapley value for the score,
    from runs with nodes blanked (their calls answered with the empty value of their
    type)."""
    params = _provider_params(api_base, param, timeout, concurrency)
    with _stdout_for_the_result() as out:
        _attribute(file, agent, data, score, seeds, model, store, samples, params, out, root)


def _attribute(
    file: Path,
    agent: str | None,
    data: Path | None,
    score: str,
    seeds: int,
    model: str,
    store: Path,
    samples: int,
    params: dict[str, Any],
    out: TextIO,
    root: Path | None = None,
) -> None:
    import asyncio

    from rich.console import Console
    from rich.table import Table

    from rolegraph.runtime import StoreError
    from rolegraph.search import ObjectiveError, shapley

    module, _, evaluator = _evaluation_setup(
        file, agent, data, score, seeds, "tokens", model, store, params, root=root
    )
    from rolegraph.search_view import SearchProgress

    shown = SearchProgress(
        0, "coalitions", bar=sys.stderr.isatty(), lines=False, max_calls=evaluator.max_calls or 0
    )
    evaluator.on_run = shown.run_ended
    try:
        with shown:
            found = asyncio.run(
                shapley(module, evaluator, samples=samples, progress=shown.coalition)
            )
    except (ObjectiveError, StoreError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(EXIT_DIAGNOSTICS) from None
    how = "exact" if found.exact else f"estimated from {samples} random orders"
    typer.echo(f"{found.agent}: Shapley values ({how})", file=out)
    table = Table()
    table.add_column("node")
    table.add_column("value", justify="right")
    for player in sorted(found.players, key=lambda p: -found.values[p]):
        table.add_row(player, f"{found.values[player]:+.3f}")
    Console(width=100, file=out).print(table)
    typer.echo(
        f"score {found.full:.3f} with every node, {found.empty:.3f} with all blanked; "
        f"{found.coalitions} coalitions evaluated",
        file=out,
    )


@app.command(name="explain")
def explain_code(
    code: Annotated[str, typer.Argument(help="A diagnostic code, e.g. E0101.")],
) -> None:
    """Explain a diagnostic code at length."""
    text = explain(code)
    if text is None:
        raise _usage_error(f"unknown diagnostic code {code!r}")
    typer.echo(text, nl=False)


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
    _check_model_option(chosen)
    if budget is not None:
        try:
            Budget.parse(budget)
        except ValueError as error:
            raise _usage_error(str(error)) from None
    if max_runs < 1:
        raise _usage_error("--max-runs is at least 1")
    params = _provider_params(api_base, param, timeout, concurrency)
    return RunOptions(model=chosen, params=params, budget=budget, max_runs=max_runs)


def _serve(target: Path, host: str, port: int, store: Path, options: Any, **how: Any) -> None:
    try:
        import sse_starlette  # noqa: F401 - the `serve` extra is there
        import starlette  # noqa: F401
        import uvicorn  # noqa: F401

        from rolegraph.serve.command import bind, serve
    except ImportError as error:
        raise _usage_error(
            f"`serve` needs Starlette and uvicorn ({error}): pip install 'rolegraph[serve]'"
        ) from None
    from rolegraph.runtime import Store

    _open_store(Store, store).close()  # (a store that cannot open: a usage error, now)
    try:
        sock = bind(host, port)
    except OSError as error:
        raise _usage_error(f"cannot listen on {host}:{port}: {error.strerror or error}") from None
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


@app.command(name="serve")
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
        raise _usage_error(f"{folder} does not exist")
    options = _serve_options(model, budget, max_runs, api_base, param, timeout, concurrency)
    _serve(folder, host, port, store, options, root=root, open_page=open_page, log=log)


@app.command(name="ui")
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
    checked = _checked_or_exit(file, root)
    if not checked.irs:
        raise _usage_error(f"{file} declares no agent")
    from urllib.parse import quote

    page = f"#/agent/{quote(list(checked.irs)[-1], safe='')}"
    options = _serve_options(model, None, 64, None, None, None, None)
    _serve(file, host, port, store, options, root=root, page=page, open_page=not no_open)


mcp_app = typer.Typer(help="MCP: serve the agents of a file as the tools of an MCP server.")
app.add_typer(mcp_app, name="mcp")


@mcp_app.command(name="serve")
def mcp_serve(
    file: Annotated[Path, typer.Argument(help="The .agent file whose agents to serve.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Use this model for every role (mock).")
    ] = None,
    api_base: ApiBaseOption = None,
    param: ParamOption = None,
    timeout: TimeoutOption = None,
    concurrency: ConcurrencyOption = None,
    root: RootOption = None,
) -> None:
    """Serve each agent of a file as an MCP tool, on stdin and stdout (docs/mcp.md)."""
    _check_model_option(model)
    params = _provider_params(api_base, param, timeout, concurrency)
    try:
        import mcp  # noqa: F401 - the extra is there
    except ImportError as error:
        raise _usage_error(
            f"`rolegraph mcp serve` needs the mcp SDK ({error}): pip install 'rolegraph[mcp]'"
        ) from None
    checked = _checked_or_exit(file, root)
    if not checked.irs:
        raise _usage_error(f"{file} declares no agent")
    import asyncio

    from rolegraph.mcp_serve import build_server, descriptions, serve_stdio

    _warm_up_litellm(model, checked)
    server = build_server(
        checked.irs,
        descriptions(checked.program.main.module),
        name=f"rolegraph {file.name}",
        model=model,
        params=params,
    )
    asyncio.run(serve_stdio(server))


@app.command(name="lsp")
def language_server() -> None:
    """Run the language server on stdin/stdout (for editors; needs the `lsp` extra)."""
    try:
        from rolegraph.lsp import serve
        from rolegraph.lsp.server import RolegraphServer  # noqa: F401 - pygls is there
    except ImportError as error:
        raise _usage_error(
            f"the language server needs pygls ({error}): pip install 'rolegraph[lsp]'"
        ) from None
    serve()


# `resume` and `runs`: answering the questions of human steps (docs/human.md)
from rolegraph import human_cli as _human_cli  # noqa: E402, F401


def main() -> None:
    """The console-script entry point."""
    try:
        app()
    except MemoryError as error:  # (its message is empty: say what happened)
        detail = f" ({error})" if str(error) else ""
        typer.echo(f"error: out of memory{detail}: rolegraph could not finish", err=True)
        sys.exit(EXIT_DIAGNOSTICS)


if __name__ == "__main__":  # pragma: no cover
    main()
