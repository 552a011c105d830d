"""What a run's checkpoint row costs to write, by its encoding (issue 15 item 3): a 100-firing
chain of `async def` tools run with stores that differ only in how their flush encodes a
run's firings, in one process, interleaved round by round; CPU µs per run, medians, of the
flush's encoding and of its statements (the run's end: its batch and its outcome).

    python bench/bench_store_row.py --rounds 25

Encodings:
- `format 3`: the store's own (`_row`: the keys, one a line, then the JSON list of the
  outputs);
- `format 2`: the JSON object from each key to its output (main at 87c4cad);
- `format 2, 2 bytes`: format 2's encoding, its text cut to 2 bytes before it is written
  (what the row's bytes cost SQLite: the statements with next to no row).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_runtime import TOOLS, chain_agent  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import Store, run_agent  # noqa: E402
from rolegraph.runtime import store as store_module  # noqa: E402


def format_2(records: list[Any]) -> str:
    return store_module._rows_json({record.key: record.output for record in records})


ENCODINGS: dict[str, Callable[[list[Any]], str]] = {
    "format 3": store_module._row,
    "format 2": format_2,
    "format 2, 2 bytes": lambda records: format_2(records)[:2],
}


class Timed(Store):
    """The store, its flush's encoding replaced and timed apart from its statements."""

    def __init__(self, path: str, encode: Callable[[list[Any]], str]):
        super().__init__(path)
        self.encode, self.spent = encode, [0, 0]

    def flush(self) -> None:
        listed, updates = self._saves, self._updates
        if listed or updates:
            began = time.process_time_ns()
            rows = [(saves.run, self.encode(saves)) for saves in listed.values() if saves]
            encoded = time.process_time_ns()
            if len(rows) == 1 and not updates:
                self._db.execute(store_module._INSERT_BATCH, rows[0])
            else:
                self._write(rows, updates)
            self.spent[0] += encoded - began
            self.spent[1] += time.process_time_ns() - encoded
            for saves in listed.values():
                del saves[:]
                saves.due = store_module.UNLISTED
            listed.clear()
            updates.clear()
        self._flushed = time.perf_counter()
        self._due = self._flushed + store_module.FLUSH_SECONDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--runs", type=int, default=100, help="runs per sample")
    args = parser.parse_args()
    ir = rolegraph.load_agent("bench.agent", text=TOOLS + chain_agent(100, "astep"))
    folder = tempfile.mkdtemp()
    stores = {
        name: Timed(f"{folder}/{index}.sqlite", encode)
        for index, (name, encode) in enumerate(ENCODINGS.items())
    }

    async def runs(count: int, store: Store) -> None:
        for _ in range(count):
            await run_agent(ir, {"seed": 0}, store=store)

    for store in stores.values():  # warm-up: the plan, the tools, the files
        asyncio.run(runs(50, store))
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in stores}
    load = os.getloadavg()[0]
    for _ in range(args.rounds):
        for name, store in stores.items():
            store.spent = [0, 0]
            asyncio.run(runs(args.runs, store))
            samples[name][0].append(store.spent[0] / args.runs / 1000)
            samples[name][1].append(store.spent[1] / args.runs / 1000)
    print(
        f"{args.rounds} interleaved rounds of {args.runs} runs each; CPU µs per run, median "
        f"(min-max). Load average (1 min) {load:.1f} at the start, {os.getloadavg()[0]:.1f} "
        "at the end.\n"
    )
    print("| encoding | its encoding | its statements | both |\n|---|---|---|---|")
    for name, (encoding, statements) in samples.items():
        both = [a + b for a, b in zip(encoding, statements, strict=True)]
        print(
            f"| {name} | {statistics.median(encoding):.1f} ({min(encoding):.1f}-"
            f"{max(encoding):.1f}) | {statistics.median(statements):.1f} ({min(statements):.1f}-"
            f"{max(statements):.1f}) | {statistics.median(both):.1f} |"
        )


if __name__ == "__main__":
    main()
