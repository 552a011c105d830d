"""Per-firing CPU time of tool nodes on the mock — `async def`, plain functions (a
worker thread each) and `@nonblocking` plain functions (inline, on the loop) — A/B
between this tree and another (issue 15 item 3, issue 17: the runtime split).

    python bench/bench_firing_ab.py --baseline /tmp/base   # another tree, laid out as installed

Each sample is a new process for one tree that runs a workload (a 100-node chain, a
50-iteration loop, a 16-way fan-out and its join) repeatedly for about 0.3 s of CPU
after a warm-up, and reports CPU µs per firing; the trees alternate within each round.
bench/bench_runtime.py has the same workloads beside other frameworks, in one process.
A tree from before `@nonblocking` runs the marked functions as plain ones, in threads
(bench/bench_nodes.py).
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
import asyncio, json, sys, tempfile, time
sys.path.insert(0, sys.argv[1])
import rolegraph
from rolegraph.runtime import Store, run_agent
from bench_runtime import TOOLS, chain_agent, fanout_agent, loop_agent
workload, body = sys.argv[2], sys.argv[3]
join = {"astep": "atotal", "nstep": "ntotal"}.get(body, "total")
text, firings = {
    "chain": (chain_agent(100, body), 100),
    "chain+store": (chain_agent(100, body), 100),
    "loop": (loop_agent(body), 50),
    "fan-out": (fanout_agent(16, body, join, body), 18),
}[workload]
ir = rolegraph.load_agent("bench.agent", text=TOOLS + text)
# (the store's own file, opened once as a server or a search keeps it)
store = Store(tempfile.mkdtemp() + "/bench.sqlite") if workload == "chain+store" else None

async def runs(n):
    for _ in range(n):
        await run_agent(ir, {"seed": 0}, store=store)

asyncio.run(runs(20))  # warm-up: imports, the plan, the tools
n, began = 0, time.process_time()
while time.process_time() - began < 0.3:
    asyncio.run(runs(10))
    n += 10
print(json.dumps((time.process_time() - began) / (n * firings) * 1e6))
"""

NOTE = """
A baseline tree is a commit laid out as installed: `git archive COMMIT | tar -x -C
/tmp/base/src`, `mkdir -p /tmp/base/pkg/rolegraph && cp -r /tmp/base/src/rolegraph/*
/tmp/base/pkg/rolegraph/`, `for d in grammar compiler runtime stdlib search lsp; do cp
-r /tmp/base/src/$d /tmp/base/pkg/rolegraph/$d; done`, then `--baseline /tmp/base/pkg`
(the command above names the tree measured). A tree
from before `@nonblocking` runs the marked functions as plain ones, in worker threads
(bench/bench_nodes.py falls back to an unmarked function). The fan-out workload's
source node is of the same kind as its branches (so no thread hand-off in the `async
def` and `@nonblocking` rows); its join sums the 16 branches. Where the remaining µs go:
the "Runtime: where a firing's time goes" section (bench/profile_firing.py)."""

WORKLOADS = [
    (workload, body)
    for body in ("astep", "nstep", "step")
    for workload in ("chain", "loop", "fan-out")
] + [("chain+store", "astep")]  # the chain of `async def` tools with the SQLite store
#: the store's ratio, with ÷ without: `--only chain:astep chain+store:astep`
STORE_PAIR = [("chain", "astep"), ("chain+store", "astep")]


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
    parser.add_argument(
        "--only", nargs="+", metavar="WORKLOAD:BODY", help="e.g. loop:nstep chain+store:astep"
    )
    args = parser.parse_args()
    trees: dict[str, str | None] = {}
    if args.baseline is not None:
        trees[args.baseline_name] = str(args.baseline.resolve())
    trees[args.label] = None
    found: dict[tuple[str, str, str], list[float]] = {}
    load_before = os.getloadavg()[0]
    chosen = [w for w in WORKLOADS if not args.only or ":".join(w) in args.only]
    for round_ in range(args.rounds):
        order = list(trees.items())
        if round_ % 2:
            order.reverse()
        for workload, body in chosen:
            for tree, path in order:
                found.setdefault((workload, body, tree), []).append(sample(workload, body, path))
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; {args.rounds} interleaved rounds, each sample a new "
        "process; CPU µs per firing, median (min-max). Load average (1 min) "
        f"{load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| workload | node | tree | µs per firing | ÷ first tree |",
        "|---|---|---|---|---|",
    ]
    kinds = {
        "astep": "`async def` tool",
        "nstep": "`@nonblocking` plain function (inline)",
        "step": "plain function (worker thread)",
    }
    for workload, body in chosen:
        first = statistics.median(found[(workload, body, next(iter(trees)))])
        for tree in trees:
            values = found[(workload, body, tree)]
            lines.append(
                f"| {workload} | {kinds[body]} | {tree} | {statistics.median(values):.1f} "
                f"({min(values):.1f}-{max(values):.1f}) | "
                f"{statistics.median(values) / first:.2f}x |"
            )
    if ("chain", "astep") in chosen and ("chain+store", "astep") in chosen:
        lines += [
            "",
            "| the store, with ÷ without, per round (chain, `async def`) | tree |",
            "|---|---|",
        ]
        for tree in trees:
            ratios = [
                a / b
                for a, b in zip(
                    found[("chain+store", "astep", tree)],
                    found[("chain", "astep", tree)],
                    strict=True,
                )
            ]
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            lines.append(f"| {statistics.median(ratios):.2f}x ({spread}) | {tree} |")
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
        if args.rounds != 5:
            command += f" --rounds {args.rounds}"
        if args.only:
            command += " --only " + " ".join(args.only)
        if sorted(chosen) == sorted(STORE_PAIR):  # (the store alone: a section of its own)
            record(report, command, key="firing-ab-store", title="Runtime: the store, A/B")
        else:
            record(report, command, key="firing-ab", title="Runtime: CPU per firing, A/B")


if __name__ == "__main__":
    main()
