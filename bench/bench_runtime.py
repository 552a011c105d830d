"""Runtime overhead, side by side with LangGraph, in one process.

Trivial nodes (tool nodes in rolegraph, plain functions in LangGraph): per-firing
overhead on a 3-node chain, a 100-node chain, a 50-iteration loop and a 16-way
fan-out/join; 16 branches each awaiting a 10 ms sleep; a chain of three 10 ms nodes in
parallel with one 30 ms node (the no-barrier case); checkpointing overhead; import time
and peak memory of `import rolegraph`.

    pip install -e ".[bench]" && python bench/bench_runtime.py
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, TypedDict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_frontend import record  # noqa: E402
from bench_nodes import sleep10, sleep30, step, total  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import Store, run_agent  # noqa: E402

TOOLS = """
tool step(value: int) -> int = "bench_nodes:step"
tool total(values: list[int]) -> int = "bench_nodes:total"
tool sleep10(value: int) -> int = "bench_nodes:sleep10"
tool sleep30(value: int) -> int = "bench_nodes:sleep30"
tool astep(value: int) -> int = "bench_nodes:astep"
tool atotal(values: list[int]) -> int = "bench_nodes:atotal"
"""


def chain_agent(n: int, body: str = "step") -> str:
    lines = [f"  n0 = {body}(seed)"] + [f"  n{i} = {body}(n{i - 1})" for i in range(1, n)]
    return "agent Chain(seed: int) -> int {\n" + "\n".join(lines) + f"\n  return n{n - 1}\n}}\n"


LOOP = """agent Loop(seed: int) -> int {
  n = step(seed)
  n -> n(value: n) when n < 50 max 60
  n -> return(n) else
}
"""


def fanout_agent(width: int, body: str = "step", join: str = "total") -> str:
    lines = ["  src = step(seed)"] + [f"  b{i} = {body}(src)" for i in range(width)]
    items = ", ".join(f"b{i}" for i in range(width))
    lines += [f"  join = {join}([{items}])", "  return join"]
    return "agent Fan(seed: int) -> int {\n" + "\n".join(lines) + "\n}\n"


UNEQUAL = """agent Unequal(seed: int) -> int {
  a = sleep10(seed)
  b = sleep10(a)
  c = sleep10(b)
  d = sleep30(seed)
  join = total([c, d])
  return join
}
"""


def ir_of(text: str):
    return rolegraph.load_agent("bench.agent", text=TOOLS + text)


async def rolegraph_once(ir, store=None) -> float:
    began = time.perf_counter()
    await run_agent(ir, {"seed": 0}, store=store)
    return time.perf_counter() - began


# -- LangGraph equivalents -------------------------------------------------------------------


class ChainState(TypedDict):
    value: int


class FanState(TypedDict):
    value: int
    parts: Annotated[list, operator.add]


def langgraph_chain(n: int):
    STATE = ChainState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)
    for i in range(n):
        graph.add_node(f"n{i}", lambda s: {"value": step(s["value"])})
    graph.add_edge(START, "n0")
    for i in range(1, n):
        graph.add_edge(f"n{i - 1}", f"n{i}")
    graph.add_edge(f"n{n - 1}", END)
    return graph.compile()


def langgraph_loop():
    STATE = ChainState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)
    graph.add_node("n", lambda s: {"value": step(s["value"])})
    graph.add_edge(START, "n")
    graph.add_conditional_edges("n", lambda s: "n" if s["value"] < 50 else END)
    return graph.compile()


def langgraph_fanout(width: int, sleeping: bool):
    STATE = FanState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)
    graph.add_node("src", lambda s: {"value": step(s["value"])})

    def branch(s):
        return {"parts": [step(s["value"])]}

    async def sleeping_branch(s):
        return {"parts": [await sleep10(s["value"])]}

    names = [f"b{i}" for i in range(width)]
    for name in names:
        graph.add_node(name, sleeping_branch if sleeping else branch)
        graph.add_edge("src", name)
    graph.add_node("join", lambda s: {"value": total(s["parts"])})
    graph.add_edge(START, "src")
    graph.add_edge(names, "join")
    graph.add_edge("join", END)
    return graph.compile()


def langgraph_unequal():
    STATE = FanState

    from langgraph.graph import END, START, StateGraph

    async def ten(s):
        return {"value": await sleep10(s["value"])}

    async def thirty(s):
        return {"parts": [await sleep30(s["value"])]}

    async def last(s):
        return {"parts": [await sleep10(s["value"])]}

    graph = StateGraph(STATE)
    graph.add_node("a", ten)
    graph.add_node("b", ten)
    graph.add_node("c", last)
    graph.add_node("d", thirty)
    graph.add_node("join", lambda s: {"value": total(s["parts"])})
    graph.add_edge(START, "a")
    graph.add_edge(START, "d")
    graph.add_edge("a", "b")
    graph.add_edge("b", "c")
    graph.add_edge(["c", "d"], "join")
    graph.add_edge("join", END)
    return graph.compile()


async def langgraph_once(graph, state) -> float:
    began = time.perf_counter()
    await graph.ainvoke(state)
    return time.perf_counter() - began


async def median(make, repeat: int) -> float:
    await make()  # warm up
    return statistics.median([await make() for _ in range(repeat)])


def import_figures() -> tuple[float, float]:
    code = (
        "import time, tracemalloc; tracemalloc.start(); t = time.perf_counter(); "
        "import rolegraph; d = time.perf_counter() - t; "
        "print(d, tracemalloc.get_traced_memory()[1])"
    )
    samples = [
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
        for _ in range(7)
    ]
    return (
        statistics.median(float(s[0]) for s in samples) * 1000,
        statistics.median(float(s[1]) for s in samples) / 1024,
    )


async def main_async(repeat: int) -> list[str]:
    rows: list[tuple[str, float, float, int]] = []  # (workload, rolegraph s, langgraph s, firings)
    workloads = [
        ("3-node chain", ir_of(chain_agent(3)), langgraph_chain(3), {"value": 0}, 3),
        ("100-node chain", ir_of(chain_agent(100)), langgraph_chain(100), {"value": 0}, 100),
        ("50-iteration loop", ir_of(LOOP), langgraph_loop(), {"value": 0}, 50),
        (
            "16-way fan-out + join",
            ir_of(fanout_agent(16)),
            langgraph_fanout(16, False),
            {"value": 0, "parts": []},
            18,
        ),
    ]
    for name, ir, graph, state, firings in workloads:
        ours = await median(lambda ir=ir: rolegraph_once(ir), repeat)
        theirs = await median(lambda graph=graph, state=state: langgraph_once(graph, state), repeat)
        rows.append((name, ours, theirs, firings))
    sleepy = ir_of(fanout_agent(16, "sleep10"))
    sleepy_ours = await median(lambda: rolegraph_once(sleepy), repeat)
    sleepy_theirs = await median(
        lambda: langgraph_once(langgraph_fanout(16, True), {"value": 0, "parts": []}), repeat
    )
    unequal = ir_of(UNEQUAL)
    unequal_ours = await median(lambda: rolegraph_once(unequal), repeat)
    unequal_graph = langgraph_unequal()
    unequal_theirs = await median(
        lambda: langgraph_once(unequal_graph, {"value": 0, "parts": []}), repeat
    )
    kinds = []  # (workload, plain-function tools s, async tools s, firings)
    for name, plain, coroutine, firings in [
        ("100-node chain", chain_agent(100), chain_agent(100, "astep"), 100),
        ("16-way fan-out + join", fanout_agent(16), fanout_agent(16, "astep", "atotal"), 18),
    ]:
        plain_ir, coroutine_ir = ir_of(plain), ir_of(coroutine)
        kinds.append(
            (
                name,
                await median(lambda ir=plain_ir: rolegraph_once(ir), repeat),
                await median(lambda ir=coroutine_ir: rolegraph_once(ir), repeat),
                firings,
            )
        )
    # (the store's cost on `async def` tools: worker-thread handoffs would drown it)
    chain = ir_of(chain_agent(100, "astep"))
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.sqlite")
        with_store = await median(lambda: rolegraph_once(chain, store), repeat)
        store.close()
    without_store = kinds[0][2]
    import_ms, peak_kib = import_figures()

    lines = [
        "Trivial nodes: rolegraph tool nodes vs LangGraph functions, in one process; "
        f"median of {repeat} runs after a warm-up.",
        "",
        "| workload | rolegraph per run | LangGraph per run | rolegraph per firing | "
        "LangGraph per firing | LangGraph / rolegraph |",
        "|---|---|---|---|---|---|",
    ]
    for name, ours, theirs, firings in rows:
        lines.append(
            f"| {name} | {ours * 1000:.2f} ms | {theirs * 1000:.2f} ms | "
            f"{ours / firings * 1e6:.0f} µs | {theirs / firings * 1e6:.0f} µs | "
            f"{theirs / ours:.1f}x |"
        )
    lines += [
        "",
        "rolegraph's tool nodes by kind: a plain function runs in a worker thread (it never "
        "holds the event loop), an `async def` on the loop.",
        "",
        "| workload | plain functions per firing | `async def` per firing |",
        "|---|---|---|",
    ]
    for name, plain, coroutine, firings in kinds:
        lines.append(
            f"| {name} | {plain / firings * 1e6:.0f} µs | {coroutine / firings * 1e6:.0f} µs |"
        )
    lines += [
        "",
        "| latency case | rolegraph | LangGraph | target |",
        "|---|---|---|---|",
        f"| 16 branches each awaiting 10 ms | {sleepy_ours * 1000:.1f} ms | "
        f"{sleepy_theirs * 1000:.1f} ms | ≤ 12 ms |",
        f"| three 10 ms nodes ∥ one 30 ms node | {unequal_ours * 1000:.1f} ms | "
        f"{unequal_theirs * 1000:.1f} ms | ≤ 35 ms |",
        "",
        "| other | figure | target |",
        "|---|---|---|",
        f"| 100-node chain (`async def` tools) with the SQLite store (cache + checkpoints) "
        "/ without | "
        f"{with_store / without_store:.2f}x ({with_store * 1000:.1f} ms / "
        f"{without_store * 1000:.1f} ms) | ≤ 1.5x |",
        f"| `import rolegraph` (new process, median of 7) | {import_ms:.1f} ms, peak "
        f"{peak_kib:.0f} KiB traced | < 150 ms |",
    ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    report = "\n".join(asyncio.run(main_async(args.repeat)))
    print(report)
    if not args.no_write:
        record(
            report,
            f"python bench/bench_runtime.py --repeat {args.repeat}",
            key="runtime",
            title="Runtime: overhead and latency, side by side with LangGraph",
        )


if __name__ == "__main__":
    main()
