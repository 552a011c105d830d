"""Per-firing CPU time of `async def` and plain-function tool nodes on the mock, A/B
between this tree and another (issue 15 item 3, issue 17: the runtime split).

    python bench/bench_firing_ab.py --baseline /tmp/base   # another tree, laid out as installed

Each sample is a new process for one tree that runs a workload (a 100-node chain, a
50-iteration loop) repeatedly for about 0.3 s of CPU after a warm-up, and reports CPU
µs per firing; the trees alternate within each round. bench/bench_runtime.py has the
same workloads beside other frameworks, in one process.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

_PROBE = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
import rolegraph
from rolegraph.runtime import run_agent
from bench_runtime import TOOLS, chain_agent, loop_agent
workload, body = sys.argv[2], sys.argv[3]
text = chain_agent(100, body) if workload == "chain" else loop_agent(body)
firings = 100 if workload == "chain" else 50
ir = rolegraph.load_agent("bench.agent", text=TOOLS + text)

async def runs(n):
    for _ in range(n):
        await run_agent(ir, {"seed": 0})

asyncio.run(runs(20))  # warm-up: imports, the plan, the tools
n, began = 0, time.process_time()
while time.process_time() - began < 0.3:
    asyncio.run(runs(10))
    n += 10
print(json.dumps((time.process_time() - began) / (n * firings) * 1e6))
"""

NOTE = """
The baseline tree is built as bench/bench_runtime_import.py says. The runtime's work per
firing of an `async def` tool node is one asyncio task (the firing) and one loop
iteration; a bare asyncio chain of tasks costs ~5 µs a step on this machine, the rest is
the scheduler (start, record, join, route). Issue 15's target for these nodes is 15 µs.
The fast paths of issue 17 (no coroutine for the inputs of a firing that reads nothing
beyond what it joined, a single call made directly, routing in one pass, no empty
settle rounds) take 12-15% off in the same rounds; the absolute figures move with the
machine's load (this run: load average ~5 on 2 cores; this tree alone, `--rounds 3
--no-write`, under lighter load: the chain measured 13.9 µs and the loop 16.5 µs). Met
for the chain under light load, not for the loop. Fewer tasks per firing would need
eager tasks (Python 3.12's `eager_task_factory`); the project supports 3.11."""

WORKLOADS = [("chain", "astep"), ("loop", "astep"), ("chain", "step")]


def sample(workload: str, body: str, pythonpath: str | None) -> float:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(HERE), workload, body],
        env=env,
        cwd="/tmp",
        capture_output=True,
        text=True,
        check=True,
    )
    return float(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--baseline", type=Path)
    parser.add_argument("--baseline-name", default="baseline")
    parser.add_argument("--label", default="this tree")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees[args.label] = None
    found: dict[tuple[str, str, str], list[float]] = {}
    for round_ in range(args.rounds):
        order = list(trees.items())
        if round_ % 2:
            order.reverse()
        for workload, body in WORKLOADS:
            for tree, path in order:
                found.setdefault((workload, body, tree), []).append(sample(workload, body, path))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rounds} interleaved rounds, each sample a new "
        "process; CPU µs per firing, median (min-max).",
        "",
        "| workload | node | tree | µs per firing |",
        "|---|---|---|---|",
    ]
    kinds = {"astep": "`async def` tool", "step": "plain-function tool (worker thread)"}
    for workload, body in WORKLOADS:
        for tree in trees:
            values = found[(workload, body, tree)]
            lines.append(
                f"| {workload} | {kinds[body]} | {tree} | {statistics.median(values):.1f} "
                f"({min(values):.1f}-{max(values):.1f}) |"
            )
    report = "\n".join(lines) + "\n" + NOTE
    print(report)
    if not args.no_write:
        from bench_frontend import record

        command = "python bench/bench_firing_ab.py" + (
            f" --baseline {args.baseline} --baseline-name '{args.baseline_name}'"
            if args.baseline is not None
            else ""
        )
        if args.label != "this tree":
            command += f" --label '{args.label}'"
        record(report, command, key="firing-ab", title="Runtime: CPU per firing, A/B")


if __name__ == "__main__":
    main()
