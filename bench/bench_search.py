"""Search on the mock model: what the harness costs around the runs, and resuming.

A random search of 40 candidates from examples/self_refine.agent, 5 examples x 2 seeds
each (so up to 400 agent runs), with a new SQLite store; then the same search again on
that store, which must make no model call. The mock answers at once, so the figures are
the cost of rolegraph itself: edits and checks, runs, the store.

    python bench/bench_search.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", help="record as `search-LABEL` (another tree's figures)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.sqlite"
        fresh_seconds, fresh_cpu, fresh = timed_search(path)
        again_seconds, _, again = timed_search(path)
    runs = sum(len(s.evaluation.runs) for s in fresh.evaluated)
    bare_seconds, bare_cpu = bare_runs(runs)
    firings_calls = sum(s.evaluation.calls for s in fresh.evaluated)
    report = "\n".join(
        [
            f"{len(fresh.evaluated)} candidates x 10 runs (5 examples x 2 seeds) of "
            f"`examples/self_refine.agent` on the mock model, random search, seed 0. "
            "Bare runs: as many runs of the start program, ten at a time, with no search "
            "around them; the share in runs is their CPU time over the search's.",
            "",
            "| figure | value |",
            "|---|---|",
            f"| search with a new store | {fresh_seconds:.2f} s wall, {fresh_cpu:.2f} s CPU: "
            f"{runs} runs, {firings_calls:,} model calls, "
            f"{len(fresh.evaluated) / fresh_cpu:.1f} candidates/s, {runs / fresh_cpu:.0f} "
            "runs/s (CPU) |",
            f"| bare runs | {bare_seconds:.2f} s wall, {bare_cpu:.2f} s CPU: "
            f"{runs / bare_cpu:.0f} runs/s (CPU) |",
            f"| share of the search's CPU time in runs | {bare_cpu / fresh_cpu:.0%} |",
            f"| the same search again on that store (resume) | {again_seconds:.2f} s, "
            f"{again.calls} model calls |",
            f"| best score (start) | {fresh.best.evaluation.score:.2f} "
            f"({fresh.start.evaluation.score:.2f}); the front holds {len(fresh.front)} |",
        ]
    )
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
