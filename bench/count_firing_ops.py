"""The work of a firing counted, not timed: bytecode instructions (`sys.settrace` opcode
events), Python calls (coroutine steps included) and C calls (`sys.setprofile`) a firing,
on bench/bench_runtime.py's workloads of `async def` and `@nonblocking` tool nodes, for
this tree and, with `--baseline`, another (laid out as installed, as bench_firing_ab.py
takes it). The counts do not depend on the host's load, so a change of 1-2%, which CPU
timings on a shared 2-core host do not resolve, shows; they are not time (an instruction
is not a fixed cost, and C work inside a call is not counted).

    python bench/count_firing_ops.py --baseline /tmp/base/pkg [--by-function]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_PROBE = """
import asyncio, collections, json, sys
sys.path.insert(0, sys.argv[1])
import rolegraph
from rolegraph.runtime import run_agent
from bench_runtime import TOOLS, chain_agent, fanout_agent, loop_agent
workload, by_function = sys.argv[2], sys.argv[3] == "1"
text, firings = {
    "chain:astep": (chain_agent(100, "astep"), 100),
    "loop:astep": (loop_agent("astep"), 50),
    "fan-out:astep": (fanout_agent(16, "astep", "atotal", "astep"), 18),
    "chain:nstep": (chain_agent(100, "nstep"), 100),
    "loop:nstep": (loop_agent("nstep"), 50),
    "fan-out:nstep": (fanout_agent(16, "nstep", "ntotal", "nstep"), 18),
}[workload]
ir = rolegraph.load_agent("bench.agent", text=TOOLS + text)

async def runs(n):
    for _ in range(n):
        await run_agent(ir, {"seed": 0})

asyncio.run(runs(5))  # (imports, the plan, the tools' calls found)
counts = collections.Counter()
ops = calls = c_calls = 0

def trace(frame, event, arg):
    global ops, calls
    frame.f_trace_opcodes = True
    if event == "opcode":
        ops += 1
        if by_function:
            code = frame.f_code
            counts[f"{code.co_filename.rsplit('/', 1)[-1]}:{code.co_name}"] += 1
    elif event == "call":
        calls += 1
    return trace

def profile(frame, event, arg):
    global c_calls
    if event == "c_call":
        c_calls += 1

RUNS = 3
loop = asyncio.new_event_loop()
sys.settrace(trace)
sys.setprofile(profile)
loop.run_until_complete(runs(RUNS))
sys.setprofile(None)
sys.settrace(None)
n = RUNS * firings
print(json.dumps({
    "ops": ops / n, "calls": calls / n, "c_calls": c_calls / n,
    "by_function": {k: v / n for k, v in counts.most_common(20)},
}))
"""

WORKLOADS = [
    "chain:astep",
    "loop:astep",
    "fan-out:astep",
    "chain:nstep",
    "loop:nstep",
    "fan-out:nstep",
]


def count(workload: str, pythonpath: str | None, by_function: bool) -> dict:
    env = dict(os.environ, PYTHONHASHSEED="0")
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(HERE), workload, "1" if by_function else "0"],
        env=env,
        cwd="/tmp",
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD:BODY", help="e.g. chain:astep")
    parser.add_argument("--by-function", action="store_true", help="instructions by function")
    args = parser.parse_args()
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees["this tree"] = None
    print("| workload | tree | instructions | Python calls | C calls |")
    print("|---|---|---|---|---|")
    functions = []
    for workload in args.only or WORKLOADS:
        for tree, path in trees.items():
            found = count(workload, path, args.by_function)
            print(
                f"| {workload} | {tree} | {found['ops']:.1f} | {found['calls']:.1f} | "
                f"{found['c_calls']:.1f} |"
            )
            functions.append((workload, tree, found["by_function"]))
    for workload, tree, by in functions if args.by_function else ():
        print(f"\n{workload}, {tree}: instructions a firing by function")
        for name, value in by.items():
            print(f"  {value:7.1f}  {name}")


if __name__ == "__main__":
    main()
