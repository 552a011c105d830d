"""The work of a firing counted in machine instructions (valgrind's callgrind, `Ir`), on
bench/count_firing_ops.py's workloads, for this tree and, with `--baseline`, another.

count_firing_ops.py counts bytecode instructions; what a firing costs is mostly the C
work under them (objects made and freed, dict look-ups, frames, exceptions), which it
does not see: a `StopIteration` made and caught is one instruction there, ~900 machine
instructions here. These counts do not depend on the host's load either (callgrind runs
the process on a simulated CPU): each is the difference between 30 and 10 runs made
after 5 (imports, the plan, the tools' calls found), over 20 runs' firings, with
instrumentation on only around the runs (`callgrind_control -i`). They repeat to ~0.01%
for the workloads without the store; the store's is left out (its writes are batched by
the clock, so its counts move with the speed of the simulated run).

    python bench/count_firing_ir.py --baseline /tmp/base/pkg [--only chain:astep]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from count_firing_ops import WORKLOADS  # (the same workloads; bench/ is the script's folder)

HERE = Path(__file__).resolve().parent

_PROBE = """
import asyncio, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
import rolegraph
from rolegraph.runtime import run_agent
from bench_runtime import TOOLS, chain_agent, fanout_agent, loop_agent
workload, runs_counted = sys.argv[2], int(sys.argv[3])
text = {
    "chain:astep": chain_agent(100, "astep"),
    "loop:astep": loop_agent("astep"),
    "fan-out:astep": fanout_agent(16, "astep", "atotal", "astep"),
    "chain:nstep": chain_agent(100, "nstep"),
    "loop:nstep": loop_agent("nstep"),
    "fan-out:nstep": fanout_agent(16, "nstep", "ntotal", "nstep"),
}[workload]
"""

# (the probes' end: `text`'s agent run 5 times, then `runs_counted` times counted)
COUNTED_RUNS = """
ir = rolegraph.load_agent("bench.agent", text=TOOLS + text)

async def runs(n):
    for _ in range(n):
        await run_agent(ir, {"seed": 0})

loop = asyncio.new_event_loop()
loop.run_until_complete(runs(5))
subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True)
loop.run_until_complete(runs(runs_counted))
subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True)
"""

FIRINGS = {"chain": 100, "loop": 50, "fan-out": 18}
FEW, MANY = 10, 30


def instructions(probe: str, arguments: list[str], pythonpath: str | None) -> int:
    """The machine instructions callgrind counts while `probe` (Python source, given
    bench/ and `arguments`) has its instrumentation on."""
    env = dict(os.environ, PYTHONHASHSEED="0")
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            "-c",
            probe,
            str(HERE),
            *arguments,
        ],
        env=env,
        cwd="/tmp",  # (not a checkout's root: `rolegraph` is the tree named, or installed)
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    assert found is not None, done.stderr[-2000:]
    return int(found.group(1))


def collected(workload: str, pythonpath: str | None, runs: int) -> int:
    """The machine instructions of `runs` runs of `workload` (and of the two calls that
    turn the instrumentation on and off, the same for every count: they cancel out)."""
    return instructions(_PROBE + COUNTED_RUNS, [workload, str(runs)], pythonpath)


def per_firing(workload: str, pythonpath: str | None) -> float:
    many = collected(workload, pythonpath, MANY)
    few = collected(workload, pythonpath, FEW)
    return (many - few) / (MANY - FEW) / FIRINGS[workload.split(":")[0]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD:BODY", help="e.g. chain:astep")
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        sys.exit("valgrind (callgrind) is not installed")
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees["this tree"] = None
    names = list(trees)
    print(f"| workload | {' | '.join(names)} | ÷ {names[0]} |")
    print(f"|---|{'---|' * len(names)}---|")
    for workload in args.only or WORKLOADS:
        counts = [per_firing(workload, path) for path in trees.values()]
        cells = " | ".join(f"{count:,.0f}" for count in counts)
        print(f"| {workload} | {cells} | {counts[-1] / counts[0]:.3f} |", flush=True)


if __name__ == "__main__":
    main()
