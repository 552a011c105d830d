"""Where the SQLite store's cost per run goes (issue 15 item 3): a 100-firing chain of
`async def` tools run without a store, with one, and with stores that leave out one part
of the store's work each, in one process, interleaved round by round, CPU time.

    python bench/bench_store_parts.py --rounds 9

Variants (each a `Store` on its own file, opened once, as a server or a search keeps it):
- `without`: no store;
- `store`: the store as it is;
- `no checkpoints`: the run's row written and finished, but no firing checkpointed (the
  per-firing append kept; the batch's dict, its JSON and its row left out);
- `no SQL`: every Python-side step of the store (the run's id, its inputs' JSON, the
  per-firing append, the batch's and the result's JSON), no statement run.

The difference of each variant to `without` is what that part costs a run; `store` minus
`no SQL` is SQLite's own work (the library and the kernel's writes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_runtime import TOOLS, chain_agent  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import Store, run_agent  # noqa: E402
from rolegraph.runtime.store import FLUSH_SECONDS, UNLISTED, Saves, _batches  # noqa: E402


class NoCheckpoints(Store):
    """The run's row, and no checkpoint: the run's list is never due and never listed, so
    the scheduler appends to it as to a store's (no call per firing) and nothing of it is
    written."""

    def checkpointer(self, run: str) -> Any:
        saves = Saves(self, run)
        saves.due, saves.batch = float("inf"), sys.maxsize
        return saves


class NoSQL(Store):
    """The store's Python-side steps, and no statement."""

    def new_run(self, file: str, fingerprint: str, agent: str, inputs: Any, *rest: Any) -> str:
        run = os.urandom(6).hex()
        json.dumps(inputs)
        time.time()
        return run

    def flush(self) -> None:
        _batches(self._saves.values())
        for saves in self._saves.values():
            del saves[:]
            saves.due = UNLISTED
        self._saves.clear()
        self._updates.clear()
        self._flushed = time.perf_counter()
        self._due = self._flushed + FLUSH_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--runs", type=int, default=200, help="runs per sample")
    args = parser.parse_args()
    ir = rolegraph.load_agent("bench.agent", text=TOOLS + chain_agent(100, "astep"))
    folder = tempfile.mkdtemp()
    variants: dict[str, Store | None] = {
        "without": None,
        "store": Store(f"{folder}/store.sqlite"),
        "no checkpoints": NoCheckpoints(f"{folder}/no-checkpoints.sqlite"),
        "no SQL": NoSQL(f"{folder}/no-sql.sqlite"),
    }

    async def runs(count: int, store: Store | None) -> float:
        began = time.process_time()
        for _ in range(count):
            await run_agent(ir, {"seed": 0}, store=store)
        return (time.process_time() - began) / count * 1e6

    for store in variants.values():  # warm-up: imports, the plan, the tools, the files
        asyncio.run(runs(50, store))
    samples: dict[str, list[float]] = {name: [] for name in variants}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, store in variants.items():
            samples[name].append(asyncio.run(runs(args.runs, store)))
    base = statistics.median(samples["without"])
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rounds} interleaved rounds of {args.runs} runs "
        f"each; CPU µs per run, median (min-max). Load average (1 min) {load:.1f} at the "
        f"start, {os.getloadavg()[0]:.1f} at the end.\n"
    )
    print("| variant | µs per run | over without | ÷ without |\n|---|---|---|---|")
    for name, values in samples.items():
        median = statistics.median(values)
        print(
            f"| {name} | {median:.0f} ({min(values):.0f}-{max(values):.0f}) | "
            f"{median - base:+.0f} | {median / base:.2f}x |"
        )


if __name__ == "__main__":
    main()
