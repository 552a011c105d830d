"""Search on the mock model: what the harness costs around the runs, and resuming.

A random search of 40 candidates from examples/self_refine.agent, 5 examples x 2 seeds
each (so up to 400 agent runs), with a new SQLite store; then the same search again on
that store, which must make no model call. The mock answers at once, so the figures are
the cost of rolegraph itself: edits and checks, runs, the store.

    python bench/bench_search.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_frontend import record  # noqa: E402

import rolegraph  # noqa: E402
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
    objective = Objective(
        [Example({"task": f"task {i}"}, "fjord") for i in range(5)], contains, seeds=(0, 1)
    )
    evaluator = Evaluator(objective, store=SearchStore(path), filename=str(SOURCE))
    module = rolegraph.parse_file(SOURCE)
    began = time.perf_counter()
    result = asyncio.run(random_search(module, evaluator, evaluations=CANDIDATES, seed=0))
    return time.perf_counter() - began, result


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "search.sqlite"
        fresh_seconds, fresh = one_search(path)
        again_seconds, again = one_search(path)
    runs = sum(len(s.evaluation.runs) for s in fresh.evaluated)
    firings_calls = sum(s.evaluation.calls for s in fresh.evaluated)
    report = "\n".join(
        [
            f"{len(fresh.evaluated)} candidates x 10 runs (5 examples x 2 seeds) of "
            f"`examples/self_refine.agent` on the mock model, random search, seed 0.",
            "",
            "| figure | value |",
            "|---|---|",
            f"| search with a new store | {fresh_seconds:.2f} s: {runs} runs, "
            f"{firings_calls:,} model calls, {len(fresh.evaluated) / fresh_seconds:.1f} "
            f"candidates/s, {runs / fresh_seconds:.0f} runs/s |",
            f"| the same search again on that store (resume) | {again_seconds:.2f} s, "
            f"{again.calls} model calls |",
            f"| best score (start) | {fresh.best.evaluation.score:.2f} "
            f"({fresh.start.evaluation.score:.2f}); the front holds {len(fresh.front)} |",
        ]
    )
    print(report)
    record(report, "python bench/bench_search.py", key="search", title="Search on the mock model")


if __name__ == "__main__":
    main()
