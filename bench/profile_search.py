"""Where a search's time goes, on the mock model: `rolegraph search` run in this process.

The command (typer's runner): random search, 40 candidates of examples/self_refine.agent,
5 examples x 2 seeds, `--model mock`, a new store, `-o` (the front and search.json
written). The split, in CPU time of this process (what other load on the machine does not
change), measured by wrappers around two functions:

- runs: inside the backend's `run` (`search/run.py`: `run_candidate`, the executor, the
  mock, the response cache). The evaluator is held to one run at a time for this (its
  `concurrency`), so that the time inside a run is that run's alone; on the mock a run
  never waits, so this changes no total;
- test-block runs: inside `runtime.testblocks.run_test`, the candidates' `test` blocks
  run on their mocks by the test pass (search/tests_kept.py): runs too, of other inputs;
- checking: inside `compiler.check.check_module` (the editor's checks of edited programs,
  each candidate's IR, the test pass), outside runs;
- other: the rest, the search's own work (drawing edits, fingerprints, the store, the
  report, printing, the event loop).

The share in runs is their CPU time over the whole command's, given two ways: the runs
of the evaluations alone, and those plus the test-block runs (runs of the candidates'
own agents, on the mocks their `test` blocks script: work a search with tests must do).

A search of 40 candidates runs first, so that imports and one-time set-up (the grammar,
the standard patterns the `apply_pattern` operator offers, parsed on its first draw) are
not counted.

With `--baseline DIR` (another tree laid out as the installed package), each round is a
process of this tree and then one of DIR's (on PYTHONPATH), alternating, `--rounds`
times; each process measures the command `--repeat` times. The figures are medians over
every measurement of a tree, with their ranges.

The cyclic collector's pauses land in whichever part allocated last (a full collection
walks every object of the process: tens of milliseconds, once every few searches): the
table gives their sum and the part outside runs without them, so that a collection that
happened to land there is seen apart from the work.

With `--detail`, the time outside runs is split further, each part's own time exclusive
of the parts inside it (`DETAIL`: checking, parsing, the store, the editor's sites,
drawing edits, the evaluator, the test pass, the trail; the rest is the CLI's).

With `--detail --checks`, the checks are split by the part that asked for them (the part
on the stack when the check began: the editor's, inside "drawing edits"; the test pass's;
the evaluator's IRs; the proven `ensure`s'; the CLI's check of the start file).

With `--process`, the command as a user runs it (`python -m rolegraph search ...`), a
process each time, `--rounds` x `--repeat` times a tree, alternating: CPU and wall time,
start-up and exit included (what in-process measurements cannot show: the collector's
work on what start-up made, `rolegraph/cli/exits.py` `keep_until_exit`).

With `--main`, the command is given as `main()` gives it (`rolegraph/cli/fast.py` takes
`search`'s plain forms without typer, where the tree has that path; else typer's runner,
as without `--main`), its output to the null device: the in-process figures of the
command as a user runs it, the CLI's part included.

With `--calls`, counts that do not depend on the machine's load: cProfile's count of the
function calls each search makes outside runs (the profiler off inside the backend's `run`
and `run_test`, the evaluator at one run at a time), split into those inside the checks
(`check_module`) and the rest; `--repeat` searches a process after the warm-up search.

With `--detail --calls`, the split of `--detail` counted in function calls (Python's and
C's, as `sys.setprofile` sees them) instead of CPU time: each part's own calls, exclusive
of the parts inside it; the load does not move them.

With `--detail --fine`, the parts of `FINE` split out too (an edit applied, admitted, the
check session around the check, printing, a run's bookkeeping and scoring, runs' keys, the
store's transactions, the front's table, search.json, the kept parse's load, a candidate
archived): each wrapper costs a clock reading on entry and exit (~1 µs), so the parts
called ~400 times a search (a run's) read ~0.5-1 ms high; counted (`--calls`), the
wrappers' own calls are counted too (~17,000 more outside runs in all).

With `--top N`, the same command again under cProfile: the top N functions by own time.

    python bench/profile_search.py [--top 25]
    python bench/profile_search.py --baseline /tmp/before/pkg --rounds 5
    python bench/profile_search.py --main --baseline /tmp/before/pkg --rounds 5
    python bench/profile_search.py --detail --baseline /tmp/before/pkg --rounds 3
    python bench/profile_search.py --detail --checks --main --rounds 1
    python bench/profile_search.py --process --baseline /tmp/before/pkg --rounds 4 --repeat 2
    python bench/profile_search.py --calls --main --baseline /tmp/before/pkg --rounds 1
    python bench/profile_search.py --detail --calls --main --rounds 1
    python bench/profile_search.py --detail --fine --main --rounds 1 --repeat 5
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

SOURCE = HERE.parent / "examples" / "self_refine.agent"


def search_command(folder: Path, candidates: int) -> list[str]:
    data = folder / "tasks.jsonl"
    rows = [{"inputs": {"task": f"task {i}"}, "expected": "fjord"} for i in range(5)]
    data.write_text("\n".join(json.dumps(row) for row in rows))
    return [
        "search", str(SOURCE), "--data", str(data), "--model", "mock", "--seeds", "2",
        "--evaluations", str(candidates), "--store", str(folder / "s.sqlite"),
        "-o", str(folder / "out"), "--quiet",
    ]  # fmt: skip


# how the command is given: typer's runner (`app`), or, with `--main`, the way `main()`
# gives it (fast.py's plain forms without typer, where the tree has them; else `app`)
WAY = {"main": False}
# `--checks`: the checks (`check_module`) of `--detail` split by the part that asked
# (the part on the stack when the check began: the editor's draws, the test pass...)
BY_CALLER = {"on": False}
# `--calls`: counts of function calls, not times
COUNTS = {"on": False}
# `--fine`: `--detail` with the parts of `FINE` too
FINER = {"on": False}
CHECKING = "checking (`check_module`)"


def invoke(args: list[str]) -> tuple[int, str]:
    """Run `rolegraph ARGS` in this process, the way `WAY` says: its exit code and output."""
    if WAY["main"]:
        import contextlib
        import io

        from rolegraph.cli.fast import run_fast

        # (a text file, as a process's stderr is: what the command prints goes as it would)
        with open(os.devnull, "w") as sink:
            assert isinstance(sink, io.TextIOWrapper)
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                try:
                    taken = run_fast(args)
                except SystemExit as ended:
                    return int(ended.code or 0), ""
        assert not taken  # (it ends with `SystemExit` when it takes the command)
    from typer.testing import CliRunner

    from rolegraph.cli import app

    answer = CliRunner().invoke(app, args)
    return answer.exit_code, answer.output


@contextmanager
def wrapped_search(begin: Callable[[str], Any], end: Callable[[str, Any], None]) -> Iterator[None]:
    """A search whose runs, test-block runs and checks (`check_module`, in every module
    that holds it) each call `begin(part)` before and `end(part, what begin gave)` after,
    the part "runs", "tests" or "checking", the evaluator held to one run at a time; all
    restored after."""
    import rolegraph.compiler.check as check
    import rolegraph.search.evaluate as evaluate
    import rolegraph.search.tests_kept as tests_kept
    from rolegraph.search.run import LocalBackend

    original_run, original_check = LocalBackend.run, check.check_module
    original_init = evaluate.Evaluator.__init__
    original_test = tests_kept.run_test

    async def run(self: Any, *args: Any) -> Any:
        began = begin("runs")
        try:
            return await original_run(self, *args)
        finally:
            end("runs", began)

    async def run_test(*args: Any) -> Any:
        began = begin("tests")
        try:
            return await original_test(*args)
        finally:
            end("tests", began)

    @functools.wraps(original_check)
    def check_module(*args: Any, **options: Any) -> Any:
        began = begin("checking")
        try:
            return original_check(*args, **options)
        finally:
            end("checking", began)

    def init(self: Any, *args: Any, **options: Any) -> None:
        original_init(self, *args, **{**options, "concurrency": 1})

    LocalBackend.run = run  # type: ignore[method-assign]
    evaluate.Evaluator.__init__ = init  # type: ignore[method-assign]
    tests_kept.run_test = run_test  # type: ignore[assignment]
    modules = [
        m for m in sys.modules.values() if getattr(m, "check_module", None) is original_check
    ]
    for module in modules:
        module.check_module = check_module  # type: ignore[attr-defined]
    try:
        yield
    finally:
        LocalBackend.run = original_run  # type: ignore[method-assign]
        evaluate.Evaluator.__init__ = original_init  # type: ignore[method-assign]
        tests_kept.run_test = original_test  # type: ignore[assignment]
        for module in modules:
            module.check_module = original_check  # type: ignore[attr-defined]


def split(candidates: int) -> dict[str, float]:
    spent = {"runs": 0.0, "tests": 0.0, "checking": 0.0}
    depth = {"runs": 0, "tests": 0, "checking": 0}  # (a check may call a check)
    # where the cyclic collector ran (its pauses land in whichever part allocated last)
    inside: list[str] = []
    collecting = {"began": 0.0}
    for name in PARTS:
        spent["gc " + name] = 0.0

    def collector(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            collecting["began"] = time.process_time()
        else:
            name = inside[-1] if inside else "other"
            spent["gc " + name] += time.process_time() - collecting["began"]

    def begin(part: str) -> float:
        depth[part] += 1
        inside.append(part)
        return time.process_time()

    def end(part: str, began: float) -> None:
        inside.pop()
        depth[part] -= 1
        if not depth[part]:  # (the outermost: time spent once)
            spent[part] += time.process_time() - began

    gc.callbacks.append(collector)
    try:
        with wrapped_search(begin, end), tempfile.TemporaryDirectory() as folder:
            began = time.process_time()
            code, output = invoke(search_command(Path(folder), candidates))
            spent["whole"] = time.process_time() - began
            assert code == 0, output
    finally:
        gc.callbacks.remove(collector)
    return spent


def counted(candidates: int) -> dict[str, float]:
    """One search's function calls outside runs (cProfile's count, the profiler off inside
    the backend's `run` and `run_test`): those inside the checks (`check_module`, however
    nested) and the rest."""
    rest, checks = cProfile.Profile(), cProfile.Profile()
    stack: list[cProfile.Profile | None] = []  # (the profiler on: the last; None: none)

    def enter(part: str) -> None:
        # (runs and test-block runs: no profiler on; checks: `checks`; the rest: `rest`)
        profile = checks if part == "checking" else rest if part == "rest" else None
        if stack and stack[-1] is not None:
            stack[-1].disable()
        stack.append(profile)
        if profile is not None:
            profile.enable()

    def leave(part: str, _: Any = None) -> None:
        profile = stack.pop()
        if profile is not None:
            profile.disable()
        if stack and stack[-1] is not None:
            stack[-1].enable()

    with wrapped_search(enter, leave), tempfile.TemporaryDirectory() as folder:
        command = search_command(Path(folder), candidates)
        enter("rest")
        try:
            code, output = invoke(command)
        finally:
            leave("rest")
        assert code == 0, output

    def calls(profile: cProfile.Profile) -> int:
        profile.create_stats()
        return sum(int(row[1]) for row in profile.stats.values())  # type: ignore[attr-defined]

    inside, other = calls(checks), calls(rest)
    return {"outside runs": inside + other, "inside the checks": inside, "the rest": other}


def calls_table(trees: list[tuple[str, list[dict[str, float]]]]) -> str:
    """The median (and range) of each count, per tree."""
    lines = ["| function calls a search | " + " | ".join(name for name, _ in trees) + " |"]
    lines.append("|---" * (len(trees) + 1) + "|")
    for key in ("outside runs", "inside the checks", "the rest"):
        cells = []
        for _, found in trees:
            values = [m[key] for m in found]
            low, high = min(values), max(values)
            cells.append(f"{statistics.median(values):,.0f} ({low:,.0f}-{high:,.0f})")
        lines.append(f"| {key} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- where the time outside runs goes: `--detail` -------------------------------------------

# (label, module, attribute path): each part's CPU time is its own, exclusive of the parts
# called inside it (an innermost-first split, on one stack: the search runs one chain of
# calls at a time outside runs, the evaluator being held to one run at a time as above)
DETAIL = (
    ("runs", "rolegraph.search.run", "LocalBackend.run"),
    ("test-block runs", "rolegraph.search.tests_kept", "run_test"),
    (CHECKING, "rolegraph.compiler.check", "check_module"),
    ("parsing (the start file)", "rolegraph.grammar", "parse_module"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.__init__"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.runs"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.put_runs"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.put_candidate"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.test_verdicts"),
    ("the store (SQLite, JSON)", "rolegraph.search.store", "SearchStore.put_test_verdicts"),
    ("the editor's sites of a new parent", "rolegraph.compiler.edits.editor", "Editor.sites"),
    ("drawing edits: applying, fingerprints", "rolegraph.search.random_search", "_new_child"),
    ("the evaluator around runs", "rolegraph.search.evaluate", "Evaluator.evaluate"),
    ("the test pass around its runs", "rolegraph.search.tests_kept", "keep_tests"),
    ("proven `ensure`s, besides checks", "rolegraph.search.candidates", "unchanged_runs"),
    ("the trail: a candidate's visit", "rolegraph.search.candidates", "Trail.visit"),
    ("the search loop", "rolegraph.search", "random_search"),
)
CLI = "the CLI around the search: typer, options, report, front"

# (`--fine`: parts inside those of `DETAIL`, none of them one of its functions)
FINE = (
    ("drawing: an edit applied (`Trail._made`)", "rolegraph.search.candidates", "Trail._made"),
    ("drawing: an edit admitted, but its check", "rolegraph.compiler.edits.editor", "Editor.admit"),
    ("the check session around the check", "rolegraph.compiler.incremental", "CheckSession.check"),
    ("printing (`to_source`, for every caller)", "rolegraph.compiler.printer", "to_source"),
    ("the evaluator: a run's bookkeeping", "rolegraph.search.evaluate", "Evaluator._record"),
    ("the evaluator: a run scored (`_outcome`)", "rolegraph.search.evaluate", "Evaluator._outcome"),
    ("runs' keys (`runs_fingerprint`)", "rolegraph.search.sharing", "runs_fingerprint"),
    ("a candidate archived (`score_candidate`)", "rolegraph.search.candidates", "score_candidate"),
    ("the store's transactions", "rolegraph.search.store", "SearchStore._insert_all"),
    ("the CLI: the front's table (`print_front`)", "rolegraph.cli.render", "print_front"),
    ("the CLI: search.json (`write_report`)", "rolegraph.search.report", "write_report"),
    ("the CLI: the kept parse's load", "rolegraph.cli.kept_parse", "load"),
)  # fmt: skip


def detail_parts() -> tuple[tuple[str, str, str], ...]:
    """The parts `--detail` splits the time into: `DETAIL`, and `FINE` with `--fine`."""
    return DETAIL + FINE if FINER["on"] else DETAIL


def detail(candidates: int) -> dict[str, float]:
    """One search, its CPU time split into the parts of `DETAIL` (the rest: `CLI`)."""
    import asyncio
    import importlib

    import rolegraph.search.evaluate as evaluate

    spent: dict[str, float] = {}
    stack = [CLI]
    read = _calls_made if COUNTS["on"] else time.process_time
    clock = {"last": read()}

    def switch(to: str | None) -> None:  # (the time since the last switch: the top's)
        now = read()
        spent[stack[-1]] = spent.get(stack[-1], 0.0) + now - clock["last"]
        clock["last"] = now
        if to is None:
            stack.pop()
        else:
            stack.append(to)

    def wrapped(label: str, function: Any) -> Any:
        if label == CHECKING and BY_CALLER["on"]:

            @functools.wraps(function)
            def check(*args: Any, **options: Any) -> Any:
                asked = stack[-1].removeprefix(CHECKING + ", asked by: ")
                switch(f"{CHECKING}, asked by: {asked}")
                try:
                    return function(*args, **options)
                finally:
                    switch(None)

            return check
        if asyncio.iscoroutinefunction(function):

            @functools.wraps(function)
            async def part(*args: Any, **options: Any) -> Any:
                switch(label)
                try:
                    return await function(*args, **options)
                finally:
                    switch(None)

            return part

        @functools.wraps(function)
        def plain(*args: Any, **options: Any) -> Any:
            switch(label)
            try:
                return function(*args, **options)
            finally:
                switch(None)

        return plain

    undo = []
    for label, module_name, path in detail_parts():
        owner: Any = importlib.import_module(module_name)
        *outer, name = path.split(".")
        for attribute in outer:
            owner = getattr(owner, attribute)
        original = getattr(owner, name, None)
        if original is None:
            continue  # (a tree without it: its time stays with the part around it)
        # every module that imported the function by name calls it there
        holders = [owner] + [
            m
            for m in list(sys.modules.values())
            if not outer and m is not owner and getattr(m, name, None) is original
        ]
        replacement = wrapped(label, original)
        for holder in holders:
            setattr(holder, name, replacement)
            undo.append((holder, name, original))
    original_init = evaluate.Evaluator.__init__

    def init(self: Any, *args: Any, **options: Any) -> None:
        original_init(self, *args, **{**options, "concurrency": 1})

    evaluate.Evaluator.__init__ = init  # type: ignore[method-assign]
    try:
        with tempfile.TemporaryDirectory() as folder, _calls_counted(COUNTS["on"]):
            began = read()
            clock["last"] = began
            code, output = invoke(search_command(Path(folder), candidates))
            switch(None)
            spent["whole"] = read() - began
            assert code == 0, output
    finally:
        evaluate.Evaluator.__init__ = original_init  # type: ignore[method-assign]
        for holder, name, original in reversed(undo):
            setattr(holder, name, original)
    return spent


# `--detail --calls`: the calls made since the hook went on (`_calls_counted`)
_CALLS = [0]


def _calls_made() -> float:
    return float(_CALLS[0])


def _count_call(frame: Any, event: str, arg: Any) -> None:
    if event == "call" or event == "c_call":
        _CALLS[0] += 1


@contextmanager
def _calls_counted(on: bool) -> Iterator[None]:
    """Every function call counted (`_calls_made`) while inside, when `on`."""
    if not on:
        yield
        return
    sys.setprofile(_count_call)
    threading.setprofile(_count_call)  # (the evaluator's workers, if it has any)
    try:
        yield
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]


def detail_table(trees: list[tuple[str, list[dict[str, float]]]]) -> str:
    """The median (and range) of each part outside runs, per tree, largest first."""
    labels = list(dict.fromkeys([label for label, _, _ in detail_parts()[2:]] + [CLI]))
    asked = {k for _, found in trees for m in found for k in m if k.startswith(CHECKING + ",")}
    if asked:  # (`--checks`: the checks' rows by the part that asked)
        labels = [label for label in labels if label != CHECKING] + sorted(asked)
    first = trees[-1][1]
    labels.sort(key=lambda label: -statistics.median(m.get(label, 0.0) for m in first))
    unit = "function calls" if COUNTS["on"] else "s CPU"
    head = f"| part, {unit} | " + " | ".join(name for name, _ in trees) + " |"
    lines = [head, "|---" * (len(trees) + 1) + "|"]

    def cell(values: list[float]) -> str:
        if COUNTS["on"]:
            return f"{statistics.median(values):,.0f} ({min(values):,.0f}-{max(values):,.0f})"
        return f"{statistics.median(values):.4f} ({min(values):.4f}-{max(values):.4f})"

    def outside(m: dict[str, float]) -> float:
        return sum(v for k, v in m.items() if k not in ("runs", "test-block runs", "whole"))

    for label in [*labels, None]:
        row = [
            cell([m.get(label, 0.0) if label else outside(m) for m in found]) for _, found in trees
        ]
        lines.append(f"| {label or '**outside runs, in all**'} | " + " | ".join(row) + " |")
    return "\n".join(lines)


PARTS = ("runs", "tests", "checking", "other")
LABELS = {
    "runs": "runs (inside the backend's `run`)",
    "tests": "test-block runs (`run_test`)",
    "checking": "checking (`check_module`), outside runs",
    "other": "other (the search's own work)",
}


def measure(candidates: int, repeat: int, parts: bool = False) -> list[dict[str, float]]:
    """`repeat` splits of the command, after a search that sets up what is set up once
    (`parts`: the split of `detail`)."""
    with tempfile.TemporaryDirectory() as folder:  # (imports, the grammar: not counted)
        invoke(search_command(Path(folder), candidates))
    found = []
    for _ in range(repeat):
        if parts:  # (with `COUNTS`, in calls)
            found.append(detail(candidates))
            continue
        if COUNTS["on"]:
            found.append(counted(candidates))
            continue
        spent = split(candidates)
        spent["other"] = spent["whole"] - spent["runs"] - spent["tests"] - spent["checking"]
        found.append(spent)
    return found


def child(
    candidates: int, repeat: int, tree: str | None, parts: bool = False
) -> list[dict[str, float]]:
    """`measure` in a new process of this tree, or of `tree` (on PYTHONPATH)."""
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = tree
    command = [sys.executable, __file__, "--child", "--candidates", str(candidates)]
    if parts:
        command.append("--detail")
    if WAY["main"]:
        command.append("--main")
    if BY_CALLER["on"]:
        command.append("--checks")
    if COUNTS["on"]:
        command.append("--calls")
    if FINER["on"]:
        command.append("--fine")
    answer = subprocess.run(
        [*command, "--repeat", str(repeat)],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    found: list[dict[str, float]] = json.loads(answer.stdout.strip().splitlines()[-1])
    return found


def process(candidates: int, tree: str | None) -> dict[str, float]:
    """The command as a user runs it, `python -m rolegraph search ...`, in a process of
    its own (of this tree, or of `tree` on PYTHONPATH): its CPU time (user and system),
    start-up and exit included, and its wall time."""
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = tree
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "rolegraph", *search_command(Path(folder), candidates)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        began = time.perf_counter()
        # (run in the temporary folder: the repository's own `rolegraph/` folder in the
        # working directory would shadow the tree on PYTHONPATH)
        subprocess.run(command, env=environment, cwd=folder, check=True, capture_output=True)
        wall = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"cpu": cpu, "wall": wall}


def process_table(trees: list[tuple[str, list[dict[str, float]]]]) -> str:
    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    lines = ["| figure | " + " | ".join(name for name, _ in trees) + " |"]
    lines.append("|---" * (len(trees) + 1) + "|")
    for key, label in (("cpu", "the command's process, s CPU"), ("wall", "its wall time, s")):
        lines.append(
            f"| {label} | " + " | ".join(cell([m[key] for m in found]) for _, found in trees) + " |"
        )
    return "\n".join(lines)


def table(trees: list[tuple[str, list[dict[str, float]]]]) -> str:
    """The median (and range) of each part and share, per tree."""

    def cell(values: list[float], unit: str = "s") -> str:
        if unit == "%":
            return f"{statistics.median(values):.0%} ({min(values):.0%}-{max(values):.0%})"
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    head = "| part | " + " | ".join(f"{name}: s CPU (range)" for name, _ in trees) + " |"
    lines = [head, "|---" * (len(trees) + 1) + "|"]
    for part in PARTS:
        row = [cell([m[part] for m in found]) for _, found in trees]
        lines.append(f"| {LABELS[part]} | " + " | ".join(row) + " |")
    row = [cell([m["whole"] for m in found]) for _, found in trees]
    lines.append("| the whole command | " + " | ".join(row) + " |")
    if all("gc other" in m for _, found in trees for m in found):
        collected: tuple[tuple[str, tuple[str, ...]], ...] = (
            ("of which garbage collection, in all", PARTS),
            ("of which garbage collection that landed outside runs", ("checking", "other")),
        )
        for label, parts in collected:
            row = [cell([sum(m["gc " + p] for p in parts) for m in found]) for _, found in trees]
            lines.append(f"| {label} | " + " | ".join(row) + " |")
        row = [
            cell([m["checking"] + m["other"] - m["gc checking"] - m["gc other"] for m in found])
            for _, found in trees
        ]
        lines.append("| outside runs, garbage collection left out | " + " | ".join(row) + " |")
    shares: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("share in runs: the evaluations' runs ÷ the whole", ("runs",)),
        ("share in runs: the evaluations' and the test-block runs ÷ the whole", ("runs", "tests")),
        ("share outside runs: checking + other ÷ the whole", ("checking", "other")),
    )
    for label, parts in shares:
        row = [
            cell([sum(m[p] for p in parts) / m["whole"] for m in found], "%") for _, found in trees
        ]
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    if all("gc other" in m for _, found in trees for m in found):

        def without_collection(m: dict[str, float]) -> float:
            ran = m["runs"] + m["tests"] - m["gc runs"] - m["gc tests"]
            return ran / (m["whole"] - sum(m["gc " + p] for p in PARTS))

        label = "the same with the test-block runs, garbage collection left out of every part"
        row = [cell([without_collection(m) for m in found], "%") for _, found in trees]
        lines.append(f"| {label} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=0, help="the top N functions by own time")
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=3, help="measurements per process")
    parser.add_argument("--baseline", help="another tree, laid out as the installed package")
    parser.add_argument("--baseline-name", default="before", help="what to call it")
    parser.add_argument("--rounds", type=int, default=3, help="processes per tree")
    parser.add_argument(
        "--detail", action="store_true", help="split the time outside runs into its parts"
    )
    parser.add_argument(
        "--process",
        action="store_true",
        help="time the whole command in processes of its own (rounds x repeat a tree)",
    )
    parser.add_argument(
        "--main",
        action="store_true",
        help="give the command as main() does (fast.py where it takes it), not typer's runner",
    )
    parser.add_argument(
        "--checks",
        action="store_true",
        help="with --detail: the checks split by the part that asked for them",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="count the function calls outside runs (cProfile's), not the time",
    )
    parser.add_argument(
        "--fine", action="store_true", help="with --detail: the parts of FINE split out too"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    WAY["main"] = args.main
    BY_CALLER["on"] = args.checks
    COUNTS["on"] = args.calls
    FINER["on"] = args.fine
    if args.child:
        print(json.dumps(measure(args.candidates, args.repeat, args.detail)))
        return
    if args.process:
        trees: list[tuple[str, list[dict[str, float]]]] = [("this tree", [])]
        if args.baseline:
            trees = [(args.baseline_name, []), ("after", [])]
        for _ in range(args.rounds * args.repeat):
            trees[-1][1].append(process(args.candidates, None))
            if args.baseline:
                trees[0][1].append(process(args.candidates, args.baseline))
        print(process_table(trees))
        return
    show = detail_table if args.detail else calls_table if args.calls else table
    if args.baseline:
        after: list[dict[str, float]] = []
        before: list[dict[str, float]] = []
        for _ in range(args.rounds):
            after += child(args.candidates, args.repeat, None, args.detail)
            before += child(args.candidates, args.repeat, args.baseline, args.detail)
        print(show([(args.baseline_name, before), ("after", after)]))
    else:
        print(show([("this tree", measure(args.candidates, args.repeat, args.detail))]))
    if args.top:
        with tempfile.TemporaryDirectory() as folder:
            profile = cProfile.Profile()
            profile.enable()
            invoke(search_command(Path(folder), args.candidates))
            profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
