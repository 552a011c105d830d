"""A run's fixed cost and a firing's, apart, in machine instructions (valgrind's callgrind,
as bench/count_firing_ir.py counts them): runs of chains and fan-outs of `async def`
tools of several sizes, each counted per run (30 runs less 10, after 5), then

- a chain firing: the slope between a chain of 1 node and one of 100;
- a run's fixed cost: the chain of 1 node less that firing;
- a fan-out branch: the slope between 8 branches and 24 (a join of that many; under
  `CARRY` firings in a row, so no turn of the loop in between).

count_firing_ir.py divides a run's whole count by its firings, so a workload of few
firings (the fan-out's 18) carries more of the run's fixed cost a firing than the
chain's 100: this says how much.

    python bench/count_run_ir.py [--baseline /tmp/base/pkg --baseline-name main]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from count_firing_ir import (  # (callgrind's count; bench/ is the script's folder)
    COUNTED_RUNS,
    FEW,
    MANY,
    instructions,
)

_PROBE = """
import asyncio, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
import rolegraph
from rolegraph.runtime import run_agent
from bench_runtime import TOOLS, chain_agent, fanout_agent
kind, size, runs_counted = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if kind == "chain":
    text = chain_agent(size, "astep")
else:
    text = fanout_agent(size, "astep", "atotal", "astep")
"""


def collected(kind: str, size: int, pythonpath: str | None, runs: int) -> int:
    return instructions(_PROBE + COUNTED_RUNS, [kind, str(size), str(runs)], pythonpath)


def per_run(kind: str, size: int, pythonpath: str | None) -> float:
    many = collected(kind, size, pythonpath, MANY)
    few = collected(kind, size, pythonpath, FEW)
    return (many - few) / (MANY - FEW)


def costs(pythonpath: str | None) -> dict[str, float]:
    chain_1, chain_100 = (per_run("chain", n, pythonpath) for n in (1, 100))
    fan_8, fan_24 = (per_run("fan-out", n, pythonpath) for n in (8, 24))
    firing = (chain_100 - chain_1) / 99
    return {
        "a run's fixed cost": chain_1 - firing,
        "a chain firing": firing,
        "a fan-out branch": (fan_24 - fan_8) / 16,
        "a run of the 16-way fan-out (18 firings), a firing": per_run("fan-out", 16, pythonpath)
        / 18,
        "a run of the 100-node chain, a firing": chain_100 / 100,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind (callgrind) is not installed")
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees["this tree"] = None
    counted = {name: costs(path) for name, path in trees.items()}
    print(f"| machine instructions | {' | '.join(trees)} |")
    print(f"|---|{'---|' * len(trees)}")
    for row in next(iter(counted.values())):
        print(f"| {row} | {' | '.join(f'{c[row]:,.0f}' for c in counted.values())} |")


if __name__ == "__main__":
    main()
