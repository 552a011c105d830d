"""Search on the mock model: what the harness costs around the runs, and resuming.

A random search of 40 candidates from examples/self_refine.agent, 5 examples x 2 seeds
each (so up to 400 agent runs), with a new SQLite store; then the same search again on
that store, which must make no model call. The mock answers at once, so the figures are
the cost of rolegraph itself: edits and checks, runs, the store.

The share here is a strict one: the CPU time of as many bare runs of the start program
(no search around them: the same IR every run, no response cache) over the search's.
bench/profile_search.py measures the time inside the search's own runs instead.

With `--baseline DIR` (another tree laid out as the installed package), `--rounds`
processes per tree, alternating (this tree, then DIR on PYTHONPATH), each one fresh
search, the same search again on its store, and the bare runs: medians with ranges.

    python bench/bench_search.py
    python bench/bench_search.py --baseline /tmp/before/pkg --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_frontend import record  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import run_agent  # noqa: E402
from rolegraph.search import (  # noqa: E402
    Evaluator,
    Example,
    Objective,
    SearchStore,
    contains,
    random_search,
)

SOURCE = HERE.parent / "examples" / "self_refine.agent"
CANDIDATES = 40


def one_search(path: Path) -> tuple[float, object]:
    seconds, _, result = timed_search(path)
    return seconds, result


def timed_search(path: Path) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, the result) of one search."""
    objective = Objective(
        [Example({"task": f"task {i}"}, "fjord") for i in range(5)], contains, seeds=(0, 1)
    )
    evaluator = Evaluator(objective, store=SearchStore(path), filename=str(SOURCE))
    module = rolegraph.parse_file(SOURCE)
    began, cpu = time.perf_counter(), time.process_time()
    result = asyncio.run(random_search(module, evaluator, evaluations=CANDIDATES, seed=0))
    return time.perf_counter() - began, time.process_time() - cpu, result


def bare_runs(runs: int) -> tuple[float, float]:
    """(wall, CPU seconds) of `runs` runs of the start program's agent on the mock, ten
    at a time (as the evaluator runs a candidate's examples and seeds), with no search
    around them: what the search's runs alone would cost."""
    ir = rolegraph.load_agent(SOURCE)

    async def all_runs() -> None:
        for batch in range(runs // 10):
            await asyncio.gather(
                *(
                    run_agent(ir, {"task": f"task {i}"}, model="mock", params={"seed": batch})
                    for i in range(10)
                )
            )

    began, cpu = time.perf_counter(), time.process_time()
    asyncio.run(all_runs())
    return time.perf_counter() - began, time.process_time() - cpu


def measure() -> dict[str, float]:
    """One fresh search, the same again on its store, and as many bare runs: the figures."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.sqlite"
        fresh_seconds, fresh_cpu, fresh = timed_search(path)
        again_seconds, again_cpu, again = timed_search(path)
    runs = sum(len(s.evaluation.runs) for s in fresh.evaluated)  # type: ignore[attr-defined]
    bare_seconds, bare_cpu = bare_runs(runs)
    return {
        "candidates": len(fresh.evaluated),  # type: ignore[attr-defined]
        "runs": runs,
        "calls": sum(s.evaluation.calls for s in fresh.evaluated),  # type: ignore[attr-defined]
        "fresh_wall": fresh_seconds,
        "fresh_cpu": fresh_cpu,
        "again_wall": again_seconds,
        "again_cpu": again_cpu,
        "again_calls": again.calls,  # type: ignore[attr-defined]
        "bare_wall": bare_seconds,
        "bare_cpu": bare_cpu,
        "best": fresh.best.evaluation.score,  # type: ignore[attr-defined]
        "start": fresh.start.evaluation.score,  # type: ignore[attr-defined]
        "front": len(fresh.front),  # type: ignore[attr-defined]
    }


def report_one(m: dict[str, float]) -> str:
    return "\n".join(
        [
            f"{m['candidates']:.0f} candidates x 10 runs (5 examples x 2 seeds) of "
            f"`examples/self_refine.agent` on the mock model, random search, seed 0. "
            "Bare runs: as many runs of the start program, ten at a time, with no search "
            "around them; the share in runs is their CPU time over the search's.",
            "",
            "| figure | value |",
            "|---|---|",
            f"| search with a new store | {m['fresh_wall']:.2f} s wall, {m['fresh_cpu']:.2f} s "
            f"CPU: {m['runs']:.0f} runs, {m['calls']:,.0f} model calls, "
            f"{m['candidates'] / m['fresh_cpu']:.1f} candidates/s, "
            f"{m['runs'] / m['fresh_cpu']:.0f} runs/s (CPU) |",
            f"| bare runs | {m['bare_wall']:.2f} s wall, {m['bare_cpu']:.2f} s CPU: "
            f"{m['runs'] / m['bare_cpu']:.0f} runs/s (CPU) |",
            f"| share of the search's CPU time in runs | {m['bare_cpu'] / m['fresh_cpu']:.0%} |",
            f"| the same search again on that store (resume) | {m['again_wall']:.2f} s, "
            f"{m['again_calls']:.0f} model calls |",
            f"| best score (start) | {m['best']:.2f} ({m['start']:.2f}); the front holds "
            f"{m['front']:.0f} |",
        ]
    )


def child(tree: str | None) -> dict[str, float]:
    """`measure` in a new process of this tree, or of `tree` (on PYTHONPATH)."""
    environment = dict(os.environ)
    if tree is not None:
        environment["PYTHONPATH"] = tree
    answer = subprocess.run(
        [sys.executable, __file__, "--child"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = json.loads(answer.stdout.strip().splitlines()[-1])
    return found


def report_ab(before: list[dict[str, float]], after: list[dict[str, float]], name: str) -> str:
    """Medians (ranges) per tree, from processes alternating between the trees."""

    def cell(found: list[dict[str, float]], figure: Any, percent: bool = False) -> str:
        values = sorted(figure(m) for m in found)
        if percent:
            return f"{statistics.median(values):.0%} ({values[0]:.0%}-{values[-1]:.0%})"
        return f"{statistics.median(values):.3f} ({values[0]:.3f}-{values[-1]:.3f})"

    rows = [
        ("search with a new store, s CPU", lambda m: m["fresh_cpu"], False),
        ("search with a new store, s wall", lambda m: m["fresh_wall"], False),
        ("bare runs (as many), s CPU", lambda m: m["bare_cpu"], False),
        ("share: bare runs' CPU ÷ the search's", lambda m: m["bare_cpu"] / m["fresh_cpu"], True),
        ("the same search again on its store (resume), s CPU", lambda m: m["again_cpu"], False),
        ("the same search again on its store (resume), s wall", lambda m: m["again_wall"], False),
    ]
    m = after[0]
    lines = [
        f"{m['candidates']:.0f} candidates x 10 runs (5 examples x 2 seeds) of "
        f"`examples/self_refine.agent` on the mock model, random search, seed 0: "
        f"{m['runs']:.0f} runs, {m['calls']:,.0f} model calls, best score {m['best']:.2f} "
        f"(start {m['start']:.2f}), the same in both trees: "
        + ("yes" if all(_same(b, m) for b in before) else "NO")
        + f". {len(after)} processes per tree, alternating.",
        "",
        f"| figure | {name} | after |",
        "|---|---|---|",
    ]
    for label, figure, percent in rows:
        lines.append(
            f"| {label} | {cell(before, figure, percent)} | {cell(after, figure, percent)} |"
        )
    return "\n".join(lines)


def _same(a: dict[str, float], b: dict[str, float]) -> bool:
    keys = ("candidates", "runs", "calls", "best", "start", "front", "again_calls")
    return all(a[k] == b[k] for k in keys)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="record as `search-LABEL` (another tree's figures)")
    parser.add_argument("--baseline", help="another tree, laid out as the installed package")
    parser.add_argument("--baseline-name", default="before", help="what to call it")
    parser.add_argument("--rounds", type=int, default=5, help="processes per tree")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure()))
        return
    if args.baseline:
        before: list[dict[str, float]] = []
        after: list[dict[str, float]] = []
        for _ in range(args.rounds):
            after.append(child(None))
            before.append(child(args.baseline))
        report = report_ab(before, after, args.baseline_name)
        print(report)
        command = (
            f"python bench/bench_search.py --baseline {args.baseline} "
            f"--baseline-name '{args.baseline_name}' --rounds {args.rounds}"
        )
        record(report, command, key="search-ab", title="Search on the mock model, A/B")
        return
    report = report_one(measure())
    print(report)
    command = "python bench/bench_search.py"
    if args.label:
        command = f"PYTHONPATH=<{args.label}> {command} --label '{args.label}'"
    record(
        report,
        command,
        key=f"search-{args.label.split()[0]}" if args.label else "search",
        title=f"Search on the mock model ({args.label})"
        if args.label
        else "Search on the mock model",
    )


if __name__ == "__main__":
    main()
