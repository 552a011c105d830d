"""Start-up loads only what a command needs (issue 15): `import rolegraph`, `rolegraph
check` and a run on the mock never import litellm or networkx, `rolegraph --help` loads
none of the compiler's libraries, and a command imports its own module of
`rolegraph/cli/` and none of the others'. Each case runs in a fresh interpreter and reads
its `sys.modules` as it exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import EXAMPLES

HEAVY = ("litellm", "networkx")

# Run a command's `main()` in this interpreter and print the modules loaded when it
# exits (whatever its exit status).
_PROBE = """
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(sys.modules))))
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
main()
"""

COMMAND_MODULES = {
    "rolegraph.cli." + name
    for name in ("check", "run", "human", "compile", "edit", "search", "serve", "mcp")
}


@pytest.fixture(scope="module", autouse=True)
def _own_cache_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The module's commands keep their caches in a folder of their own, where a
    command's kept check is there only when a test keeps it (`_modules_loaded_by`); the
    parser and the AST's schemas are kept there first, as a former command keeps them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
        _modules_loaded_by("parse", _example("self_refine.agent"))
        yield


def _modules_loaded_by(*args: str, kept: bool = False) -> set[str]:
    """The modules a command loaded: checking its file afresh, or (`kept`) loading the
    check an earlier process kept (rolegraph/cli/kept_checks.py)."""
    if not kept:
        for file in (Path(os.environ["XDG_CACHE_HOME"]) / "rolegraph").glob("check-*"):
            file.unlink()
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _loaded_by(*args: str) -> set[str]:
    """The top-level packages loaded."""
    return {name.split(".")[0] for name in _modules_loaded_by(*args)}


def _example(name: str) -> str:
    return str(next(p for p in EXAMPLES if p.name == name))


def test_import_rolegraph_loads_neither_litellm_nor_networkx():
    code = (
        "import json, sys, rolegraph, rolegraph.cli, rolegraph.runtime\n"
        "from rolegraph.compiler.check import check_module\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert not loaded & set(HEAVY)


def test_check_loads_neither_litellm_nor_networkx():
    loaded = _loaded_by("check", _example("self_refine.agent"))
    assert "rolegraph" in loaded
    assert not loaded & set(HEAVY)


def test_a_run_on_the_mock_loads_neither_litellm_nor_networkx_nor_tenacity():
    """(tenacity retries the calls that leave the process: a mock's calls never do.)"""
    loaded = _loaded_by(
        "run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}', "-q",
        "--no-store",
    )  # fmt: skip
    assert "asyncio" in loaded  # (it ran)
    assert not loaded & {*HEAVY, "tenacity"}


def test_check_and_a_run_run_neither_lark_s_builders_nor_the_python_tool_readers():
    """lark's `regex` and `interegular` build parsers (ours is loaded whole: in the
    command's process their code runs on first use, rolegraph/cli/on_first_use.py); a
    Python tool's source readers load with the first Python tool (compiler/check_tools.py).
    self_refine.agent declares none."""
    for args in (
        ("check", _example("self_refine.agent")),
        (
            "run",
            _example("self_refine.agent"),
            "--model",
            "mock",
            "-i",
            '{"task": "x"}',
            "-q",
            "--no-store",
        ),
    ):
        loaded = _modules_loaded_by(*args)
        assert "rolegraph.compiler.check_tools" in loaded  # (it checked)
        assert {"regex", "interegular"} <= loaded  # (imported by lark, as before)
        ran = {m for m in loaded if m.startswith(("regex.", "interegular."))}
        assert not ran, (args, sorted(ran))
        assert not loaded & {"rolegraph.compiler.pysource", "rolegraph.compiler.pysignature"}


#: What only checking a file afresh loads: the front end, lark, the checker's passes.
_FRONT_END = ("lark", "rolegraph.grammar")
_CHECKER = {
    f"rolegraph.compiler.{name}"
    for name in ("check", "resolve", "typecheck", "check_agents", "check_decls", "check_tools",
                 "lower", "analyses", "paths", "printer", "memo", "reads")
}  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("check", _example("self_refine.agent")),
        ("run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}',
         "--no-store"),
        ("run", _example("react.agent"), "--model", "mock", "-i", '{"task": "x"}', "-q"),
    ],
)  # fmt: skip
def test_a_kept_check_loads_neither_the_front_end_nor_the_checker(args):
    """A check kept by an earlier process is loaded with neither lark, the grammar's
    modules nor the checker's passes (rolegraph/cli/kept_checks.py); the first process,
    which checks the file afresh, loads them all as before."""
    fresh = _modules_loaded_by(*args)
    assert {"lark", "rolegraph.grammar.parser", "rolegraph.compiler.typecheck"} <= fresh
    assert _CHECKER - {"rolegraph.compiler.printer", "rolegraph.compiler.paths"} <= fresh
    kept = _modules_loaded_by(*args, kept=True)
    assert "rolegraph.cli.kept_checks" in kept and ("rolegraph.cli.running" in kept) == (
        args[0] == "run"
    )
    assert not {m for m in kept if m.startswith(_FRONT_END)}, sorted(kept)
    assert not kept & (_CHECKER - {"rolegraph.compiler.printer"})  # (the runtime's)


def test_a_run_not_told_as_events_loads_neither_the_events_nor_the_stream():
    """(runtime/events.py, runtime/streaming.py: loaded by a run told as events, or by
    the first who asks the runtime for their names. `Context` and `run_agent` name the
    sink, which runtime/sink.py defines apart: tests/test_type_hints.py.)"""
    args = ("run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}')
    quiet = _modules_loaded_by(*args, "-q", "--no-store")
    assert "rolegraph.runtime.scheduler" in quiet  # (it ran)
    assert not quiet & {"rolegraph.runtime.events", "rolegraph.runtime.streaming"}
    told = _modules_loaded_by(*args, "--events", "jsonl", "--no-store")
    assert {"rolegraph.runtime.events", "rolegraph.runtime.streaming"} <= told


def test_a_run_not_drawn_live_prints_its_summary_without_the_live_view(monkeypatch):
    """(rolegraph/run_summary.py: the table as plain text where its stream takes no colour,
    else rich's table and console; rolegraph/run_view.py with rich's live display only for
    a run drawn on a terminal. The table's text has no emoji codes: tests/test_run_summary.py.)"""
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    args = ("run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}')
    loaded = _modules_loaded_by(*args, "--no-store")  # (stderr is a pipe: not drawn live)
    assert "rolegraph.run_summary" in loaded  # (it printed the summary)
    assert not {m for m in loaded if m.split(".")[0] == "rich"}  # (plain text: no rich)
    assert "rolegraph.run_view" not in loaded
    monkeypatch.setenv("FORCE_COLOR", "1")  # (in colour: rich's table, not its live view)
    loaded = _modules_loaded_by(*args, "--no-store")
    assert {"rich.console", "rich.table"} <= loaded
    assert not loaded & {"rolegraph.run_view", "rich.live", "rich.spinner", "rich._emoji_codes"}


def test_the_runtime_s_names_are_their_modules_own():
    import importlib

    import rolegraph.runtime

    for name in rolegraph.runtime.__all__:
        assert getattr(rolegraph.runtime, name) is not None, name
    for name, module in rolegraph.runtime._ON_FIRST_USE.items():
        defining = importlib.import_module(f"rolegraph.runtime.{module}")
        assert getattr(rolegraph.runtime, name) is getattr(defining, name), name
    for name in ("RunEnded", "RunFailed", "RunPaused"):  # (importable, not in `__all__`)
        exec(f"from rolegraph.runtime import {name}", {})


def test_help_loads_none_of_the_compilers_libraries():
    loaded = _loaded_by("--help")
    assert not loaded & {"pydantic", "jinja2", "lark", *HEAVY}


def test_help_loads_nothing_of_rolegraph_but_the_commands():
    loaded = _modules_loaded_by("--help")
    assert loaded >= COMMAND_MODULES  # (it lists them all)
    ours = {m for m in loaded if m.startswith("rolegraph.")}
    assert all(m.startswith("rolegraph.cli") for m in ours), sorted(ours)


def test_check_loads_no_command_module_and_no_typer():
    """`check FILE` goes the fast way (rolegraph/cli/fast.py): no typer, no click, no
    command module, no rich, no runtime, no search."""
    loaded = _modules_loaded_by("check", _example("self_refine.agent"))
    assert "rolegraph.cli.checking" in loaded  # (it checked)
    assert not loaded & COMMAND_MODULES
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "click", "rich")}
    assert "rolegraph.cli.root" not in loaded
    assert not {m for m in loaded if m.startswith(("rolegraph.runtime", "rolegraph.search"))}


def test_a_run_on_the_mock_loads_no_command_module_and_no_typer():
    loaded = _modules_loaded_by(
        "run", _example("self_refine.agent"), "--model", "mock", "-i", '{"task": "x"}', "-q",
        "--no-store",
    )  # fmt: skip
    assert "rolegraph.cli.running" in loaded  # (it ran)
    assert not loaded & COMMAND_MODULES
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "click", "rich")}
    assert not {m for m in loaded if m.startswith("rolegraph.search")}


def test_check_through_typer_loads_its_own_command_module_only():
    loaded = _modules_loaded_by("check", "--strict", "--strict", _example("self_refine.agent"))
    assert "rolegraph.cli.check" in loaded  # (an option twice: typer reads the arguments)
    assert not loaded & (COMMAND_MODULES - {"rolegraph.cli.check"})
    assert "rich" not in loaded and "typer.rich_utils" not in loaded  # (no table, no help)
    assert not {m for m in loaded if m.startswith(("rolegraph.runtime", "rolegraph.search"))}


def test_the_other_commands_load_their_own_module_only():
    for args, module in [
        (("explain", "E0101"), "check"),
        (("check", "--help"), "check"),
        (("run", "--help"), "run"),
        (("compile", "--help"), "compile"),
        (("edit", "--help"), "edit"),
        (("search", "--help"), "search"),
        (("serve", "--help"), "serve"),
        (("runs", "--help"), "human"),
        (("mcp", "serve", "--help"), "mcp"),
    ]:
        loaded = _modules_loaded_by(*args) & COMMAND_MODULES
        assert loaded == {f"rolegraph.cli.{module}"}, args


def test_the_public_names_still_import():
    import rolegraph

    for name in rolegraph.__all__:
        assert getattr(rolegraph, name) is not None, name


def test_the_runtime_loads_neither_the_type_checker_nor_the_resolver():
    """Running a compiled IR needs the IR, the semantics, the LTL monitor and expressions;
    not the checker's passes (issue 17 item 9)."""
    code = (
        "import json, sys, rolegraph.runtime\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('rolegraph.'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout))
    assert "rolegraph.runtime.scheduler" in loaded  # (the probe saw the runtime load)
    assert not loaded & {"rolegraph.compiler.typecheck", "rolegraph.compiler.resolve"}
    assert not {
        m for m in loaded if m.startswith(("rolegraph.compiler.typecheck", "rolegraph.grammar"))
    }


# -- the parser kept whole across processes (grammar/lexer.py) -------------------------------

# Parse every example and stdlib file, and broken variants of each (syntax errors and
# their recovery), in a fresh interpreter with its own cache folder; print the ASTs and
# diagnostics as JSON, and how the parser was made. `fresh` never reads the pickle,
# `pickled` must (building would raise).
_PARSE_ALL = """
import json, sys
from rolegraph.grammar import lexer
from rolegraph.grammar.parser import parse_module
mode, paths = sys.argv[1], json.loads(sys.argv[2])
if mode == "fresh":
    lexer._built_path = lambda: None
if mode == "pickled":
    def refuse():
        raise AssertionError("built again instead of loaded")
    lexer._build = refuse
texts = []
for path in paths:
    text = open(path, encoding="utf-8").read()
    texts += [text, text[: len(text) // 2], text.replace("->", "=>", 1), text.replace("}", "", 1)]
results = []
for text in texts:
    parsed = parse_module(text, "x.agent")
    results.append([
        parsed.module.model_dump(mode="json") if parsed.module else None,
        [d.model_dump(mode="json") for d in parsed.diagnostics],
    ])
print(json.dumps(results))
"""


def _parse_all(mode: str, cache: Path) -> list:
    from .conftest import STDLIB

    paths = json.dumps([str(p) for p in [*EXAMPLES, *STDLIB]])
    done = subprocess.run(
        [sys.executable, "-c", _PARSE_ALL, mode, paths],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)},
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_parser_loaded_whole_parses_like_the_one_lark_builds(tmp_path):
    built = _parse_all("built", tmp_path)  # builds it, and keeps it for the next process
    assert list(tmp_path.rglob("*.parser.pickle"))
    assert _parse_all("pickled", tmp_path) == built
    assert _parse_all("fresh", tmp_path) == built
    assert any(diagnostics for _, diagnostics in built)  # (the broken variants are there)


def test_a_damaged_kept_parser_is_built_again(tmp_path):
    _parse_all("built", tmp_path)
    (kept,) = tmp_path.rglob("*.parser.pickle")
    kept.write_bytes(kept.read_bytes()[:1000])
    assert _parse_all("built", tmp_path) == _parse_all("fresh", tmp_path)
    assert kept.stat().st_size > 1000  # (written again, whole)


# -- the garbage collector, paused for start-up only (rolegraph/cli/exits.py) -----------------


def collecting(x: int) -> bool:
    """A tool: whether the cyclic garbage collector runs while the agent runs."""
    import gc

    return gc.isenabled()


def test_an_agent_runs_with_the_garbage_collector_on_and_it_stays_on(tmp_path):
    import gc

    from typer.testing import CliRunner

    from rolegraph.cli import app

    path = tmp_path / "gc.agent"
    path.write_text(
        'tool collecting(x: int) -> bool = "tests.test_startup_imports:collecting"\n'
        "agent A(x: int) -> bool {\n  c = collecting(x)\n  return c\n}\n"
    )
    for args in (["check", str(path)], ["run", str(path), "-i", '{"x": 1}', "-q", "--no-store"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        assert gc.isenabled()
    assert result.stdout.strip() == "true"


class _Finalized:
    """An object in a reference cycle, which says when it is collected."""

    def __init__(self, path: str):
        self.path, self.me = path, self

    def __del__(self) -> None:
        Path(self.path).write_text("collected")


def leave_a_cycle(path: str) -> bool:
    """A tool: leaves garbage only the cyclic collector can free; whether it is on."""
    import gc

    _Finalized(path)
    return gc.isenabled()


# Run `rolegraph ARGS` (`main()`) and print, as it exits, whether the collector is on
# and how many objects are frozen.
_GC_PROBE = """
import atexit, gc, json, sys
atexit.register(lambda: print(json.dumps([gc.isenabled(), gc.get_freeze_count()])))
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
main()
"""


def _gc_at_exit(*args: str) -> tuple[str, bool, int]:
    from .conftest import ROOT

    done = subprocess.run(
        [sys.executable, "-c", _GC_PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,  # (the tool's module: tests.test_startup_imports)
    )
    assert done.returncode == 0, done.stderr
    *result, last = done.stdout.strip().splitlines()
    enabled, count = json.loads(last)
    return "\n".join(result), enabled, count


def test_a_command_keeps_what_it_made_out_of_the_last_collection():
    """`rolegraph check` (and --help) freezes what it made as it ends, so the collection
    Python makes at exit does not walk it (rolegraph/cli/exits.py `keep_until_exit`)."""
    for args in (["check", _example("self_refine.agent")], ["--help"]):
        _, enabled, count = _gc_at_exit(*args)
        assert enabled and count > 10_000, args


def test_a_run_freezes_its_start_up_only(tmp_path):
    """A run freezes what its start-up made, before the agent runs; what the agent and its
    tools make is collected as always, at exit too: a tool's cyclic garbage is finalized."""
    path = tmp_path / "gc.agent"
    path.write_text(
        'tool leave_a_cycle(path: str) -> bool = "tests.test_startup_imports:leave_a_cycle"\n'
        "agent A(path: str) -> bool {\n  c = leave_a_cycle(path)\n  return c\n}\n"
    )
    # (the fast way, with its events, and through typer: `--` is not a plain form)
    for number, args in enumerate((["-q"], ["-q", "--events", "jsonl"], ["-q", "--", "A"])):
        marker = tmp_path / f"collected-{number}"
        inputs = json.dumps({"path": str(marker)})
        out, enabled, count = _gc_at_exit("run", str(path), "-i", inputs, "--no-store", *args)
        result = json.loads(out.splitlines()[-1])  # (the result, or the last event)
        assert (result if isinstance(result, bool) else result["result"]) is True, out
        assert enabled and count > 10_000, args
        assert marker.read_text() == "collected", args


# Run `rolegraph ARGS` (`main()`) and print how many collections had started when the
# collector was first paused and when what start-up made was frozen.
_PAUSE_PROBE = """
import atexit, gc, json, sys
started, marks = [], {}
gc.callbacks.append(lambda phase, info: started.append(1) if phase == "start" else None)
for name in ("disable", "freeze"):
    def wrapped(real=getattr(gc, name), name=name):
        marks.setdefault(name, len(started))
        real()
    setattr(gc, name, wrapped)
atexit.register(lambda: print(json.dumps(marks)))
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
main()
"""


@pytest.mark.parametrize("command", ["check", "run"])
def test_start_up_is_not_collected_before_it_is_frozen(command):
    """From the moment `check` or `run` (read the fast way) pauses the collector to the
    moment it freezes what start-up made, no collection starts: one would walk every
    object made while it was paused, only for them to be frozen after."""
    from .conftest import ROOT

    args = [command, _example("self_refine.agent")]
    if command == "run":
        args += ["-m", "mock", "-i", '{"task": "x"}', "-q", "--no-store"]
    done = subprocess.run(
        [sys.executable, "-c", _PAUSE_PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    marks = json.loads(done.stdout.strip().splitlines()[-1])
    assert marks["freeze"] == marks["disable"], marks


def test_calling_the_commands_in_a_program_freezes_nothing(monkeypatch):
    """Through typer's `CliRunner`, or `main()` called from a program's own code (not its
    `__main__`), a command leaves the caller's collector as it was."""
    import gc

    from typer.testing import CliRunner

    from rolegraph.cli import app, main

    before = gc.get_freeze_count()
    for args in (["check", _example("self_refine.agent")], ["--help"]):
        assert CliRunner().invoke(app, args).exit_code == 0
        monkeypatch.setattr(sys, "argv", ["rolegraph", *args])
        try:
            main()
        except SystemExit as exited:
            assert exited.code in (0, None)
    assert gc.get_freeze_count() == before


# A program's `__main__` that runs `rolegraph ARGS` (`main()`), goes on after it ends,
# and prints whether its collector is on and how many objects are frozen.
_GOES_ON_PROBE = """
import gc, json, sys
sys.argv = ["rolegraph", *json.loads(sys.argv[1])]
from rolegraph.cli import main
try:
    main()
except SystemExit as exited:
    code = exited.code
print(json.dumps([code, gc.isenabled()]))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["-i", "not json"],  # (a usage error)
        ["-i", "{}", "--budget", "nonsense"],
        ["-i", "{}", "--resume", "r-1", "--no-store"],
    ],
)
def test_a_run_that_ends_before_its_agent_runs_leaves_the_collector_on(args):
    """`run` read the fast way pauses the collector for its start-up; when the command
    ends before the agent runs (a usage error), the program that called `main()` goes on
    with its collector on."""
    from .conftest import ROOT

    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _GOES_ON_PROBE,
            json.dumps(["run", _example("self_refine.agent"), *args]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    code, enabled = json.loads(done.stdout.strip().splitlines()[-1])
    assert code == 2 and enabled, done.stderr


def test_a_search_imports_its_scorer_with_the_collector_on(tmp_path):
    """Found in review: `search` read the fast way paused the collector until just before
    the search ran, but imported the user's scorer module (its code runs) before that, with
    the collector off, and then froze what the import made, its cyclic garbage included:
    never collected. Through typer the scorer's import ran with the collector on."""
    from .conftest import ROOT

    agent = tmp_path / "self_refine.agent"
    agent.write_text((ROOT / "examples" / "self_refine.agent").read_text())
    marker = tmp_path / "collected"
    (tmp_path / "gc_scorer.py").write_text(
        "import gc, pathlib\n"
        f"pathlib.Path({str(tmp_path / 'at-import')!r}).write_text(str(gc.isenabled()))\n"
        "class Finalized:\n"
        "    def __init__(self):\n"
        "        self.me = self\n"
        "    def __del__(self):\n"
        f"        pathlib.Path({str(marker)!r}).write_text('collected')\n"
        "Finalized()\n"
        "def score(result, example):\n"
        "    return 1.0\n"
    )
    data = tmp_path / "tasks.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "x"}, "expected": "y"}))
    args = ["search", str(agent), "-d", str(data), "-n", "1", "-q"]
    args += ["--store", str(tmp_path / "s.sqlite"), "--score", "gc_scorer:score"]
    _, enabled, _ = _gc_at_exit(*args)
    assert enabled
    assert (tmp_path / "at-import").read_text() == "True"
    assert marker.read_text() == "collected"
