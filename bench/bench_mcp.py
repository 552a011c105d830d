"""What a tool of an MCP server costs a run, against the same tool in Python.

The server is tests/mcp_server.py (the SDK's FastMCP, on stdio), started by each run.
In interleaved rounds, each of these runs on the mock model, and the figures are
medians over the rounds:

- a run of one tool node calling `add` of the server: the server's start, the session's
  opening, one call, and the server's stop;
- a run of `--calls` tool nodes calling `add` one after another (a chain): the start
  paid once, then the cost of each call;
- the same chain with the same function called as a Python tool
  (`tests.mcp_server:add`), for the difference.

    python bench/bench_mcp.py                 # print and record the figures
    python bench/bench_mcp.py --rounds 3 --no-write
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from bench_frontend import record  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import run_agent  # noqa: E402
from tests.mcp_agents import source  # noqa: E402


def chain(tool: str, calls: int) -> str:
    lines = ["agent Chain(a: int) -> int {", f"  n0 = {tool}(a, 1)"]
    lines += [f"  n{i} = {tool}(n{i - 1}, 1)" for i in range(1, calls)]
    lines += [f"  return n{calls - 1}", "}"]
    return "\n".join(lines) + "\n"


def build(calls: int) -> dict[str, object]:
    python_tool = 'tool padd(a: int, b: int) -> int = "tests.mcp_server:add"\n'
    return {
        "one call": rolegraph.load_agent("b.agent", text=source(chain("add", 1))),
        "chain of MCP calls": rolegraph.load_agent("b.agent", text=source(chain("add", calls))),
        "chain of Python calls": rolegraph.load_agent(
            "b.agent", text=source(python_tool + chain("padd", calls))
        ),
    }


def timed(ir: object) -> float:
    started = time.perf_counter()
    outcome = asyncio.run(run_agent(ir, {"a": 0}, model="mock"))
    elapsed = time.perf_counter() - started
    assert outcome.result is not None
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--no-write", action="store_true")
    options = parser.parse_args()
    irs = build(options.calls)
    timings: dict[str, list[float]] = {name: [] for name in irs}
    for round_ in range(options.rounds):
        names = list(irs)
        names = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in names:
            timings[name].append(timed(irs[name]))
    one = statistics.median(timings["one call"])
    mcp = statistics.median(timings["chain of MCP calls"])
    python = statistics.median(timings["chain of Python calls"])
    per_call = (mcp - one) / (options.calls - 1)
    per_python = python / options.calls
    import mcp as sdk

    version = getattr(sdk, "__version__", None) or _version()
    rows = [
        ("a run with one MCP call (start, session, call, stop)", f"{one * 1000:.0f} ms"),
        (f"a run of {options.calls} chained MCP calls", f"{mcp * 1000:.0f} ms"),
        (f"a run of {options.calls} chained Python calls", f"{python * 1000:.0f} ms"),
        ("each further MCP call (from the two MCP runs)", f"{per_call * 1000:.2f} ms"),
        ("each Python call (a thread of the pool)", f"{per_python * 1000:.2f} ms"),
    ]
    report = (
        f"Server: tests/mcp_server.py (FastMCP, stdio), mcp {version}; the mock model.\n"
        f"Machine: {platform.machine()}, Python {platform.python_version()}; "
        f"median of {options.rounds} interleaved rounds.\n\n"
        "| run | median |\n|---|---|\n" + "".join(f"| {a} | {b} |\n" for a, b in rows)
    )
    print(report)
    if not options.no_write:
        record(
            report,
            "python bench/bench_mcp.py",
            key="mcp",
            title="MCP tools: a server's start, and each call",
        )


def _version() -> str:
    from importlib.metadata import version

    return version("mcp")


if __name__ == "__main__":
    main()
