"""`check` and `run` without typer (rolegraph/cli/fast.py) print, and end, exactly as the
typer application does: each command line below runs in a fresh interpreter through
`main()` (the `rolegraph` script) and through `rolegraph.cli.root.app` (typer alone, the
oracle), and the two give the same exit status, stdout and stderr, byte for byte. The
plain command lines must take the fast way (typer's application never built); the others
must go to typer, whose usage errors and help are then printed by typer itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from .conftest import ROOT

GOOD = str(ROOT / "examples" / "self_refine.agent")
INPUT = '{"task": "x"}'

# Run `rolegraph ARGS` one way or the other; say on the file $PROBE whether typer's
# application was built (an error may still import typer, as human.py reports a paused run).
_PROBE = """
import atexit, json, os, sys
built = lambda: str("rolegraph.cli.root" in sys.modules)
atexit.register(lambda: open(os.environ["PROBE"], "w").write(built()))
way, sys.argv = sys.argv[1], ["rolegraph", *json.loads(sys.argv[2])]
if way == "main":
    from rolegraph.cli import main
    main()
else:
    from rolegraph.cli.root import app
    app()
"""


def _files(folder: Path) -> dict[str, str]:
    broken = folder / "broken.agent"
    broken.write_text("agent A(q: str) -> str {\n  a = W(q,,)\n}\n")
    warned = folder / "warned.agent"
    warned.write_text(
        'role W(task: str) -> str {\n  prompt "{{ task }}"\n}\n'
        "agent A(task: str) -> str {\n  w = W(task)\n  return w\n}\n"
    )
    many = folder / "many"
    many.mkdir()
    (many / "a.agent").write_text(warned.read_text())
    (many / "b.agent").write_text(Path(GOOD).read_text())
    data = folder / "tasks.jsonl"
    rows = [{"inputs": {"task": f"task {i}"}, "expected": "fjord"} for i in range(3)]
    data.write_text("\n".join(json.dumps(row) for row in rows))
    return {
        "DATA": str(data),
        "STORE": str(folder / "search.sqlite"),
        "OUT": str(folder / "front"),
        "BROKEN": str(broken),
        "WARNED": str(warned),
        "MANY": str(many),
        "TMP": str(folder),
        "MISSING": str(folder / "missing.agent"),
    }


# (arguments, stdin) that fast.py takes
FAST = [
    (["check", GOOD], None),
    (["check", "BROKEN"], None),
    (["check", "--json", "BROKEN"], None),
    (["check", "BROKEN", "--strict", "--cost"], None),
    (["check", "WARNED"], None),
    (["check", "--strict", "WARNED"], None),
    (["check", "--json", "WARNED", GOOD], None),
    (["check", GOOD, "--cost"], None),
    (["check", "MANY"], None),
    (["check", "MISSING"], None),
    (["check", "--root", "TMP", GOOD], None),
    (["check", f"--root={ROOT}", GOOD], None),
    (["check", "-"], "agent A(q: str) -> str {\n  return q\n}\n"),
    (["check", "-"], "agent A(q: str) -> str {\n  return\n"),
    (["run", GOOD, "--model", "mock", "-i", INPUT, "-q", "--no-store"], None),
    (["run", GOOD, "SelfRefine", "-m", "mock", "--input", INPUT, "--quiet", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", "not json", "-q", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", "[1]", "-q", "--no-store"], None),
    (["run", GOOD, "NoSuchAgent", "-m", "mock", "-i", INPUT, "-q", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", "{}", "-q", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "--events", "xml", "--no-store"], None),
    (["run", GOOD, "-m", "mock:latency=inf", "-i", INPUT, "-q", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--param", "bad"], None),
    (
        [
            *["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--api-base", "http://x"],
            *["--param", "temperature=0", "--param", "max_tokens=50"],
        ],
        None,
    ),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--budget", "calls=1"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--budget", "bogus"], None),
    (["run", "BROKEN", "-m", "mock", "-i", INPUT, "-q", "--no-store"], None),
    (["run", "MISSING", "-m", "mock", "-q", "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--resume", "r1"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--trace", "TMP"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "--no-store"], None),
    (["run", GOOD, "-m", "mock", "-i", INPUT, "--events", "jsonl", "--no-store"], None),
    (["search", GOOD, "--data", "DATA", "-m", "mock", "-n", "3", "-q", "--store", "STORE"], None),
    (
        [
            *["search", GOOD, "SelfRefine", "-d", "DATA", "--model", "mock", "--seeds", "2"],
            *["--evaluations", "4", "--seed", "7", "--optimizer", "evolve", "-o", "OUT"],
            *["--store", "STORE", "--quiet", "--param", "temperature=0"],
        ],
        None,
    ),
    (["search", GOOD, "-d", "DATA", "-n", "3", "--store", "STORE", "--optimizer", "mcts"], None),
    (
        ["search", GOOD, "-d", "DATA", "-n", "3", "--store", "STORE", "-v", "--score", "contains"],
        None,
    ),
    (
        ["search", GOOD, "-d", "DATA", "-n", "3", "--store", "STORE", "-q", "--budget", "calls=40"],
        None,
    ),
    (
        ["search", GOOD, "-d", "DATA", "-n", "2", "--store", "STORE", "--concurrency", "2", "-q"],
        None,
    ),
    (["search", GOOD, "-d", "DATA", "-n", "0", "--store", "STORE", "-q"], None),
    (["search", GOOD, "-d", "DATA", "-n", "2", "--store", "STORE", "--optimizer", "bogus"], None),
    (["search", GOOD, "-d", "DATA", "-n", "2", "--store", "STORE", "--budget", "bogus"], None),
    (["search", GOOD, "NoSuchAgent", "-d", "DATA", "-n", "2", "--store", "STORE", "-q"], None),
    (["search", GOOD, "-n", "2", "--store", "STORE"], None),
    (["search", "BROKEN", "-d", "DATA", "-n", "2", "--store", "STORE"], None),
    (["search", "MISSING", "-d", "DATA", "-n", "2", "--store", "STORE"], None),
    (["search", GOOD, "-d", "MISSING", "-n", "2", "--store", "STORE"], None),
]

# ... and that typer reads
TYPER = [
    ["check"],
    ["check", "--bogus", GOOD],
    ["check", "--json=yes", GOOD],
    ["check", GOOD, "--", "BROKEN"],
    ["check", "--json", "--json", GOOD],
    ["check", "--root", GOOD],
    ["check", ""],
    ["check", "--help"],
    ["run"],
    ["run", "--help"],
    ["run", GOOD, "A", "B", "-m", "mock"],
    ["run", GOOD, "-qm", "mock", "-i", INPUT, "--no-store"],
    ["run", GOOD, "-m"],
    ["run", GOOD, "-m", "mock", "-m", "mock", "-q", "--no-store"],
    ["run", GOOD, "-i=x", "-m", "mock"],
    ["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--timeout", "5"],
    ["run", GOOD, "-m", "mock", "-i", INPUT, "-q", "--no-store", "--concurrency", "x"],
    ["run", GOOD, "-m", "-mock"],
    ["search"],
    ["search", "--help"],
    ["search", GOOD, "-d", "DATA", "-n", "x", "--store", "STORE"],
    ["search", GOOD, "-d", "DATA", "-n", "-1", "--store", "STORE"],
    ["search", GOOD, "-d", "DATA", "-n", "+2", "--store", "STORE", "-q"],
    ["search", GOOD, "-d", "DATA", "-n2", "--store", "STORE", "-q"],
    ["search", GOOD, "-d", "DATA", "-n", "2", "--store", "STORE", "-q", "--timeout", "5"],
    ["search", GOOD, "-d", "DATA", "-n", "2", "-n", "3", "--store", "STORE", "-q"],
    ["search", GOOD, "A", "B", "-d", "DATA"],
    # (found in review: more digits than Python converts, `sys.get_int_max_str_digits`)
    ["search", GOOD, "-d", "DATA", "-n", "9" * 5000, "--store", "STORE", "-q"],
]


def _run(way: str, args: list[str], stdin: str | None, probe: Path) -> tuple:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, way, json.dumps(args)],
        input=stdin or "",
        capture_output=True,
        text=True,
        timeout=120,
        cwd=probe.parent,
        env={**os.environ, "PROBE": str(probe), "COLUMNS": "100"},
    )
    return done.returncode, done.stdout, done.stderr, probe.read_text() == "True"


def _masked(text: str) -> str:
    """Without its numbers, and the spaces and rules a table pads them with: a run's own
    timings (`12 ms`, `0.01 s`) may differ, and the width of a table's column with them."""
    return re.sub(r"[\s─━]+", "", re.sub(r"\d+(\.\d+)?", "N", text))


def _compare(args: list[str], stdin: str | None, tmp_path: Path, *, fast: bool) -> None:
    files = _files(tmp_path)
    args = [files.get(a, a) for a in args]
    if "--trace" in args:
        args[args.index("--trace") + 1] = str(tmp_path / "trace.jsonl")
    timed = "-q" not in args and "--quiet" not in args
    status, out, err, typer_loaded = _run("main", args, stdin, tmp_path / "probe")
    (tmp_path / "trace.jsonl").unlink(missing_ok=True)
    for made in tmp_path.glob("search.sqlite*"):  # (a search's store: the oracle starts anew)
        made.unlink()
    shutil.rmtree(tmp_path / "front", ignore_errors=True)
    oracle = _run("typer", args, stdin, tmp_path / "probe")
    assert oracle[3]  # (typer ran it)
    assert status == oracle[0], (args, err, oracle[2])
    if timed:
        assert _masked(out) == _masked(oracle[1]), args
        assert _masked(err) == _masked(oracle[2]), args
    else:
        assert out == oracle[1], args
        assert err == oracle[2], args
    assert typer_loaded is not fast, args


def _named(value: object) -> str:
    return " ".join(value) if isinstance(value, list) else "stdin" if value else ""


@pytest.mark.parametrize("args, stdin", FAST, ids=_named)
def test_the_fast_way_prints_what_typer_prints(args, stdin, tmp_path):
    _compare(args, stdin, tmp_path, fast=True)


@pytest.mark.parametrize("args", TYPER, ids=" ".join)
def test_what_the_fast_way_does_not_take_goes_to_typer(args, tmp_path):
    _compare(args, None, tmp_path, fast=False)


def test_the_plain_forms_read_as_click_reads_them():
    from rolegraph.cli.fast import _CHECK, _run_form, read_arguments

    _RUN = _run_form()
    assert read_arguments(_CHECK, ["a", "--json", "b", "--root=r"]) == (
        ["a", "b"],
        {"as_json": True, "root": "r"},
    )
    assert read_arguments(_RUN, ["f", "-q", "A", "--param", "x=1", "--param", "y=2"]) == (
        ["f", "A"],
        {"quiet": True, "param": ["x=1", "y=2"]},
    )
    assert read_arguments(_RUN, ["f", "-"]) == (["f", "-"], {})
    for refused in (["f", "-qm", "mock"], ["f", "--quiet=1"], ["f", "-m", ""], ["f", "--"]):
        assert read_arguments(_RUN, refused) is None, refused
    assert read_arguments(_RUN, []) is None and read_arguments(_RUN, ["a", "b", "c"]) is None


# -- one record of `run`'s options (rolegraph/cli/run_options.py) ----------------------------


def _typer_run_command():
    import typer.main

    from rolegraph.cli.run import commands

    return typer.main.get_command(commands).commands["run"]  # type: ignore[attr-defined]


def test_typer_declares_the_options_of_the_record():
    """run.py's parameters are RunOptions' fields, name for name and type for type; each
    option the fast path reads has the forms typer declares, and reads as typer does."""
    import typing

    from rolegraph.cli.run import run_command
    from rolegraph.cli.run_options import RunOptions, option_forms

    params = {p.name: p for p in _typer_run_command().params}
    assert list(params) == [f.name for f in fields(RunOptions)]
    declared = typing.get_type_hints(run_command)
    recorded = typing.get_type_hints(RunOptions)
    _declared_as_recorded(params, declared, recorded, option_forms(), typer_reads={int, float})


def _declared_as_recorded(params, declared, recorded, forms, typer_reads) -> None:
    """Each of typer's `params` has the type the record has; each option the fast path
    reads (`forms`) has the forms typer declares and reads as typer does; those it does
    not are of a type in `typer_reads` (numbers typer converts)."""
    import typing

    for name, param in params.items():
        assert declared[name] == recorded[name], name
        kinds = set(typing.get_args(recorded[name])) or {recorded[name]}
        if param.param_type_name == "argument":
            assert name not in forms
        elif name not in forms:  # (typer reads it: it converts its text to a number)
            assert kinds & typer_reads, name
        else:
            kind, flags = forms[name]
            assert set(flags) == set(param.opts), name
            assert (kind == "flag") == bool(param.is_flag) == (bool in kinds), name
            assert (kind == "values") == param.multiple, name
            assert (kind == "path") == (Path in kinds), name
            assert (kind == "number") == (int in kinds), name


FAST_RUNS = [
    ["f.agent"],
    ["f.agent", "A", "-m", "mock", "-i", INPUT, "-q", "--no-store"],
    ["f.agent", "--trace", "t.jsonl", "--store", "s.sqlite", "--root", "r", "--resume", "x"],
    ["f.agent", "--events", "jsonl", "--budget", "calls=1", "--api-base", "http://x"],
    ["f.agent", "--param", "a=1", "--param", "b=2", "--model=mock", "--input={}"],
]


def _both_ways(module, command: str, hand_on: str, form, record, args, monkeypatch) -> None:
    """The record typer's `command` of `module` hands on to `hand_on`, and the record
    the fast path makes of the same command line (`form`): the same."""
    from typer.testing import CliRunner

    from rolegraph.cli.fast import read_arguments

    made: list = []
    monkeypatch.setattr(module, hand_on, made.append)
    result = CliRunner().invoke(module.commands, [command, *args])
    assert result.exit_code == 0, result.output
    read = read_arguments(form, args)
    assert read is not None
    (file, *agent), given = read
    assert record.from_text(file, agent[0] if agent else None, given) == made[0]


@pytest.mark.parametrize("args", FAST_RUNS, ids=" ".join)
def test_the_fast_way_makes_the_record_typer_makes(args, monkeypatch):
    """The oracle: typer's own reading of the same command line, caught where run.py
    hands it on."""
    import rolegraph.cli.run as run_module
    from rolegraph.cli.fast import _run_form
    from rolegraph.cli.run_options import RunOptions

    _both_ways(run_module, "run", "run_file_command", _run_form(), RunOptions, args, monkeypatch)


# -- one record of `search`'s options (rolegraph/cli/search_options.py) ---------------------


def test_typer_declares_the_options_of_the_search_record():
    """search.py's parameters are SearchOptions' fields, name for name, type for type and
    default for default; each option the fast path reads has the forms typer declares."""
    import inspect
    import typing

    import typer.main

    from rolegraph.cli.search import commands, search_command
    from rolegraph.cli.search_options import SearchOptions, option_forms

    command = typer.main.get_command(commands).commands["search"]  # type: ignore[attr-defined]
    params = {p.name: p for p in command.params}
    assert list(params) == [f.name for f in fields(SearchOptions)]
    declared = typing.get_type_hints(search_command)
    recorded = typing.get_type_hints(SearchOptions)
    defaults = {f.name: f.default for f in fields(SearchOptions)}
    for name, parameter in inspect.signature(search_command).parameters.items():
        if parameter.default is not inspect.Parameter.empty:
            assert defaults[name] == parameter.default, name
    _declared_as_recorded(params, declared, recorded, option_forms(), typer_reads={float})


FAST_SEARCHES = [
    ["f.agent"],
    ["f.agent", "A", "-d", "t.jsonl", "-m", "mock", "-n", "40", "--seeds", "2", "-q"],
    ["f.agent", "--seed", "007", "--store", "s.sqlite", "-o", "out", "--plot", "p.svg"],
    ["f.agent", "--optimizer", "llm", "--proposer", "mock", "--proposal", "text", "-v"],
    ["f.agent", "--param", "a=1", "--param", "b=2", "--allow-tool", "m:f", "--root", "r"],
    ["f.agent", "--allow-import", "std.*", "--held-out", "h.jsonl", "--budget", "calls=3"],
    ["f.agent", "--evaluations=5", "--concurrency", "3", "--api-base", "http://x"],
    ["f.agent", "--score", "contains", "--cost", "calls", "--backend", "local", "--data=t.jsonl"],
]


@pytest.mark.parametrize("args", FAST_SEARCHES, ids=" ".join)
def test_the_fast_way_makes_the_search_record_typer_makes(args, monkeypatch):
    """The oracle: typer's own reading of the same command line, caught where search.py
    hands it on."""
    import rolegraph.cli.search as search_module
    from rolegraph.cli.fast import _search_form
    from rolegraph.cli.search_options import SearchOptions

    form = _search_form()
    _both_ways(
        search_module, "search", "search_file_command", form, SearchOptions, args, monkeypatch
    )


def test_whole_numbers_in_digits_alone_are_read_plainly():
    from rolegraph.cli.fast import _search_form, read_arguments

    form = _search_form()
    assert read_arguments(form, ["f", "-n", "12", "--seeds=3"]) == (
        ["f"],
        {"evaluations": "12", "seeds": "3"},
    )
    for refused in (["f", "-n", "+1"], ["f", "-n", "1_0"], ["f", "-n", " 1"], ["f", "-n", "x"]):
        assert read_arguments(form, refused) is None, refused
    assert read_arguments(form, ["f", "--timeout", "5"]) is None  # (a decimal: typer's)


# -- typer's help without rich's Markdown and Traceback (rolegraph/cli/rich_help.py) ------

# Run `rolegraph ARGS` through typer, with rich's modules as `main()` has them, or with
# typer.rich_utils imported first, whole (the oracle); print which of rich's were loaded.
_HELP = """
import atexit, json, sys
way, sys.argv = sys.argv[1], ["rolegraph", *json.loads(sys.argv[2])]
if way == "whole":
    import typer.rich_utils
loaded = lambda: [m for m in ("rich.markdown", "rich.traceback") if m in sys.modules]
atexit.register(lambda: print(json.dumps(loaded()), file=sys.stderr))
from rolegraph.cli import main
main()
"""

HELP = [
    [],
    ["--help"],
    ["--version"],
    ["check", "--help"],
    ["run", "--help"],
    ["search", "--help"],
    ["mcp", "--help"],
    ["mcp", "serve", "--help"],
    ["bogus"],
    ["check"],
    ["run", GOOD, "--timeout", "soon"],
    ["fmt", "--bogus"],
]


@pytest.mark.parametrize("color", ["", "1"], ids=["plain", "color"])
@pytest.mark.parametrize("args", HELP, ids=" ".join)
def test_help_and_usage_errors_are_typers_without_markdown(args, color):
    env = {**os.environ, "COLUMNS": "90", "FORCE_COLOR": color}
    ways = {}
    for way in ("hooked", "whole"):
        done = subprocess.run(
            [sys.executable, "-c", _HELP, way, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
        )
        *err, loaded = done.stderr.splitlines(keepends=True)
        ways[way] = (done.returncode, done.stdout, "".join(err), json.loads(loaded))
    assert ways["hooked"][:3] == ways["whole"][:3]
    assert ways["hooked"][3] == [] and ways["whole"][3] == ["rich.markdown", "rich.traceback"]


def test_the_stand_ins_defer_to_rich():
    code = (
        "import sys, typer.rich_utils as r, rich.markdown\n"
        "assert r.Markdown is not rich.markdown.Markdown\n"
        "assert type(r.Markdown('x', style='bold')) is rich.markdown.Markdown\n"
        "assert r.Traceback.from_exception == __import__('rich.traceback').traceback"
        ".Traceback.from_exception\n"
        "hooks = [type(f).__module__ for f in sys.meta_path]\n"
        "assert 'rolegraph.cli.rich_help' not in hooks, hooks\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", "import rolegraph.cli.root\n" + code],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr


def test_a_program_calling_the_app_gets_the_exit_code_back():
    # Found in review: command bodies end with SystemExit (shared with the fast path),
    # which typer lets through under standalone_mode=False, ending the caller's program.
    from rolegraph.cli import app

    example = str(ROOT / "examples" / "self_refine.agent")
    assert app(["check", example], standalone_mode=False) == 0
    assert app(["check", example + ".missing"], standalone_mode=False) != 0
