"""Where a firing's time goes: the chain, loop and fan-out workloads of `async def` tool
nodes and of `@nonblocking` plain functions (and the chain of plain functions, in worker
threads), under cProfile, its own time summed by part of the system.

    python bench/profile_firing.py            # print, and record in bench/RESULTS.md

cProfile slows every Python call alike, so the shares, not the microseconds, are what to
read; bench/bench_runtime.py has the unprofiled figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_frontend import record  # noqa: E402
from bench_runtime import chain_agent, fanout_agent, ir_of, loop_agent  # noqa: E402

from rolegraph.runtime import run_agent  # noqa: E402

RUNS = 50

# (workload, kind of node, its agent, firings per run)
WORKLOADS = [
    ("chain", "`async def`", chain_agent(100, "astep"), 100),
    ("chain", "`@nonblocking`", chain_agent(100, "nstep"), 100),
    ("chain", "plain (thread)", chain_agent(100, "step"), 100),
    ("loop", "`async def`", loop_agent("astep"), 50),
    ("loop", "`@nonblocking`", loop_agent("nstep"), 50),
    ("fan-out", "`async def`", fanout_agent(16, "astep", "atotal", "astep"), 18),
    ("fan-out", "`@nonblocking`", fanout_agent(16, "nstep", "ntotal", "nstep"), 18),
]
TOP = 15  # functions listed, for the chains of `async def` and `@nonblocking` nodes

NOTE = """
What remains of a trivial firing is Python, with no waiting: the scheduler's bookkeeping
(the firing's record and key, the in-flight tables that joins and returns consult, the
output's queues, the join or route that starts the next firing) is half of it or more;
the firing's own inputs and call (its arguments, their coercion to the declared types
and the result's, the tool's import scope `beside`) a tenth to a third (an inline
firing binds and types its arguments in runtime/scheduler.py's `fire_inline`, so for
`@nonblocking` nodes that share is counted with the executor's). asyncio's own
share is small: a firing's task carries the next one (chain, loop), a `@nonblocking`
firing has none, and what is left is the fan-out's 16 branches, each with a task so
that none holds back another (task creation is C, counted with the built-ins). No
single part is a large cut: fewer µs would take fewer steps in each of these, 2-5%
apiece. A plain function's firing is the hand-off to a worker thread and back (waiting
on the loop's poll and the thread's lock), by design (DESIGN §3.6). Under cProfile the
shares move by several points from run to run on this shared machine."""

# (what the file name contains, the part it is counted in), first match wins
PARTS = [
    ("bench_nodes", "the tool's own body"),
    ("runtime/scheduler.py", "the executor: scheduling, joins, records (runtime/scheduler.py)"),
    ("runtime/firing.py", "the executor: a firing's inputs and call (runtime/firing.py)"),
    ("runtime/role_calls.py", "the executor: a firing's inputs and call (runtime/firing.py)"),
    ("runtime/keys.py", "the executor: scheduling, joins, records (runtime/scheduler.py)"),
    ("compiler/semantics.py", "the executor: scheduling, joins, records (runtime/scheduler.py)"),
    ("runtime/tools.py", "hand-off to a worker thread (runtime/tools.py, concurrent, threading)"),
    ("pyimport.py", "the tool's import scope (`beside`, compiler/pyimport.py)"),
    ("concurrent/", "hand-off to a worker thread (runtime/tools.py, concurrent, threading)"),
    ("threading.py", "hand-off to a worker thread (runtime/tools.py, concurrent, threading)"),
    ("queue.py", "hand-off to a worker thread (runtime/tools.py, concurrent, threading)"),
    ("asyncio/", "asyncio: tasks, futures, the event loop"),
    ("selectors.py", "asyncio: tasks, futures, the event loop"),
    ("runtime/values.py", "typed values: coercion of arguments and results"),
    ("runtime/", "the rest of the runtime (events, trace, run set-up)"),
    ("compiler/", "the compiler's shared parts (expressions, import scope, reachability)"),
]


def part_of(filename: str, function: str) -> str:
    for needle, part in PARTS:
        if needle in filename:
            return part
    if filename == "~":
        if "select" in function or "poll" in function or "acquire" in function:
            return "waiting: the event loop's poll, a thread's lock (C)"
        return "built-in functions (C) called from the parts above"
    return "other Python"


def profile(text: str) -> tuple[Counter, float, Counter]:
    ir = ir_of(text)

    async def runs() -> None:
        for _ in range(RUNS):
            await run_agent(ir, {"seed": 0})

    asyncio.run(runs())  # warm up
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(runs())
    profiler.disable()
    parts: Counter = Counter()
    functions: Counter = Counter()
    for (filename, line, function), row in pstats.Stats(profiler).stats.items():  # type: ignore[attr-defined]
        parts[part_of(filename, function)] += row[2]
        where = "/".join(Path(filename).parts[-2:]) if filename != "~" else ""
        functions[f"{where}:{line} {function}" if where else function] += row[2]
    return parts, sum(parts.values()), functions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    lines = [
        f"{RUNS} runs of each workload under cProfile; each part's own time (tottime) as a "
        "share of the whole, and per firing (profiled µs: inflated alike). Parts under 2% "
        "are left out.",
        "",
        "| workload | tool nodes | part | share | profiled µs per firing |",
        "|---|---|---|---|---|",
    ]
    tops: list[str] = []
    for workload, kind, text, firings in WORKLOADS:
        parts, whole, functions = profile(text)
        if workload == "chain" and kind != "plain (thread)":
            tops += [
                "",
                f"The {TOP} functions with the most own time, chain of {kind} tool nodes:",
                "",
                "| function | share | profiled µs per firing |",
                "|---|---|---|",
                *(
                    f"| {name} | {seconds / whole:.1%} | {seconds / (RUNS * firings) * 1e6:.2f} |"
                    for name, seconds in functions.most_common(TOP)
                ),
            ]
        for part, seconds in parts.most_common():
            if seconds / whole < 0.02:
                continue
            lines.append(
                f"| {workload} | {kind} | {part} | {seconds / whole:.0%} | "
                f"{seconds / (RUNS * firings) * 1e6:.1f} |"
            )
    report = "\n".join(lines + tops) + "\n" + NOTE
    print(report)
    if not args.no_write:
        record(
            report,
            "python bench/profile_firing.py",
            key="runtime-profile",
            title="Runtime: where a firing's time goes (cProfile)",
        )


if __name__ == "__main__":
    main()
