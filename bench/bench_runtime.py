"""Runtime overhead, side by side with LangGraph, pydantic-graph and plain Python, in
one process.

Trivial nodes: per-firing overhead on a 100-node chain, a 50-iteration loop and a
16-way fan-out with a join; 16 branches each awaiting a 10 ms sleep; a chain of three
10 ms nodes in parallel with one 30 ms node (the no-barrier case); the SQLite store's
overhead. Every contender runs every workload in each round, in an order that rotates
from round to round, so load on the machine falls on all alike; a sample is one run
(repeated until it lasts ≥ 5 ms, then divided). CPU time (the process's, worker threads
included) and wall time are reported as the median and range over the rounds.

Pairings: *like for like* puts nodes of one kind side by side (`async def` nodes in
every framework; the floor awaits the same coroutine); *best for each* gives each
framework its fastest kind of node (rolegraph runs a plain function in a worker thread
so it never holds the loop, or, marked `@nonblocking`, on the loop; LangGraph runs a
plain function in its own threads too; the floor calls it directly).

    pip install -e ".[bench]" && python bench/bench_runtime.py
"""

from __future__ import annotations

import argparse
import asyncio
import operator
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, TypedDict

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_frontend import record  # noqa: E402
from bench_nodes import astep, atotal, sleep10, sleep30, step, total  # noqa: E402

import rolegraph  # noqa: E402
from rolegraph.runtime import Store, run_agent  # noqa: E402

TOOLS = """
tool step(value: int) -> int = "bench_nodes:step"
tool total(values: list[int]) -> int = "bench_nodes:total"
tool sleep10(value: int) -> int = "bench_nodes:sleep10"
tool sleep30(value: int) -> int = "bench_nodes:sleep30"
tool astep(value: int) -> int = "bench_nodes:astep"
tool nstep(value: int) -> int = "bench_nodes:nstep"
tool ntotal(values: list[int]) -> int = "bench_nodes:ntotal"
tool atotal(values: list[int]) -> int = "bench_nodes:atotal"
"""


def chain_agent(n: int, body: str = "step") -> str:
    lines = [f"  n0 = {body}(seed)"] + [f"  n{i} = {body}(n{i - 1})" for i in range(1, n)]
    return "agent Chain(seed: int) -> int {\n" + "\n".join(lines) + f"\n  return n{n - 1}\n}}\n"


def loop_agent(body: str = "step") -> str:
    return f"""agent Loop(seed: int) -> int {{
  n = {body}(seed)
  n -> n(value: n) when n < 50 max 60
  n -> return(n) else
}}
"""


LOOP = loop_agent()


def fanout_agent(width: int, body: str = "step", join: str = "total", source: str = "step") -> str:
    lines = [f"  src = {source}(seed)"] + [f"  b{i} = {body}(src)" for i in range(width)]
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


# -- LangGraph equivalents -------------------------------------------------------------------


class ChainState(TypedDict):
    value: int


class FanState(TypedDict):
    value: int
    parts: Annotated[list, operator.add]


async def _astep_node(s):
    return {"value": await astep(s["value"])}


def langgraph_chain(n: int, coroutines: bool = False):
    STATE = ChainState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)
    for i in range(n):
        graph.add_node(
            f"n{i}", _astep_node if coroutines else lambda s: {"value": step(s["value"])}
        )
    graph.add_edge(START, "n0")
    for i in range(1, n):
        graph.add_edge(f"n{i - 1}", f"n{i}")
    graph.add_edge(f"n{n - 1}", END)
    return graph.compile()


def langgraph_loop(coroutines: bool = False):
    STATE = ChainState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)
    graph.add_node("n", _astep_node if coroutines else lambda s: {"value": step(s["value"])})
    graph.add_edge(START, "n")
    graph.add_conditional_edges("n", lambda s: "n" if s["value"] < 50 else END)
    return graph.compile()


def langgraph_fanout(width: int, sleeping: bool, coroutines: bool = False):
    STATE = FanState

    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(STATE)

    def branch(s):
        return {"parts": [step(s["value"])]}

    async def async_branch(s):
        return {"parts": [await astep(s["value"])]}

    async def sleeping_branch(s):
        return {"parts": [await sleep10(s["value"])]}

    async def async_join(s):
        return {"value": await atotal(s["parts"])}

    graph.add_node("src", _astep_node if coroutines else lambda s: {"value": step(s["value"])})
    body = sleeping_branch if sleeping else async_branch if coroutines else branch
    names = [f"b{i}" for i in range(width)]
    for name in names:
        graph.add_node(name, body)
        graph.add_edge("src", name)
    graph.add_node("join", async_join if coroutines else lambda s: {"value": total(s["parts"])})
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


# -- pydantic-graph equivalents (its builder API: steps, a decision, a broadcast and a join) --


async def _pg_step(ctx) -> int:
    return await astep(ctx.inputs)


async def _pg_sleep10(ctx) -> int:
    return await sleep10(ctx.inputs)


async def _pg_sleep30(ctx) -> int:
    return await sleep30(ctx.inputs)


def _builder():
    from pydantic_graph import GraphBuilder

    return GraphBuilder(input_type=int, output_type=int, auto_instrument=False)


def pydantic_graph_chain(n: int):
    g = _builder()
    steps = [g.step(_pg_step, node_id=f"n{i}") for i in range(n)]
    g.add_edge(g.start_node, steps[0])
    for before, after in pairwise(steps):
        g.add_edge(before, after)
    g.add_edge(steps[-1], g.end_node)
    return g.build()


def pydantic_graph_loop():
    g = _builder()
    n = g.step(_pg_step, node_id="n")
    g.add_edge(g.start_node, n)
    again = g.match(int, matches=lambda v: v < 50).to(n)
    g.add(g.edge_from(n).to(g.decision().branch(again).branch(g.match(int).to(g.end_node))))
    return g.build()


def pydantic_graph_fanout(width: int, sleeping: bool = False):
    from pydantic_graph import reduce_sum

    g = _builder()
    src = g.step(_pg_step, node_id="src")
    body = _pg_sleep10 if sleeping else _pg_step
    branches = [g.step(body, node_id=f"b{i}") for i in range(width)]
    join = g.join(reduce_sum, initial=0)
    g.add_edge(g.start_node, src)
    g.add(g.edge_from(src).to(*branches))
    for branch in branches:
        g.add_edge(branch, join)
    g.add_edge(join, g.end_node)
    return g.build()


def pydantic_graph_unequal():
    from pydantic_graph import reduce_sum

    g = _builder()
    a, b, c = (g.step(_pg_sleep10, node_id=name) for name in "abc")
    d = g.step(_pg_sleep30, node_id="d")
    join = g.join(reduce_sum, initial=0)
    g.add(g.edge_from(g.start_node).to(a, d))
    g.add_edge(a, b)
    g.add_edge(b, c)
    g.add_edge(c, join)
    g.add_edge(d, join)
    g.add_edge(join, g.end_node)
    return g.build()


# -- the plain-Python floor --------------------------------------------------------------


def floor_chain(n: int, coroutines: bool):
    async def run() -> int:
        value = 0
        for _ in range(n):
            value = await astep(value) if coroutines else step(value)
        return value

    return run


def floor_loop(coroutines: bool):
    async def run() -> int:
        value = await astep(0) if coroutines else step(0)
        while value < 50:
            value = await astep(value) if coroutines else step(value)
        return value

    return run


def floor_fanout(width: int, body=None, coroutines: bool = False):
    async def run() -> int:
        value = step(0)
        if body is not None or coroutines:
            parts = await asyncio.gather(*((body or astep)(value) for _ in range(width)))
        else:
            parts = [step(value) for _ in range(width)]
        return total(parts)

    return run


async def floor_unequal() -> int:
    async def three() -> int:
        return await sleep10(await sleep10(await sleep10(0)))

    return total(await asyncio.gather(three(), sleep30(0)))


# -- measurement -----------------------------------------------------------------------------

#: Each contender: a coroutine function that makes one run.
Contender = Callable[[], Awaitable[Any]]


def _rolegraph(ir, store=None) -> Contender:
    return lambda: run_agent(ir, {"seed": 0}, store=store)


def _langgraph(graph, state: dict) -> Contender:
    return lambda: graph.ainvoke(dict(state))


def _pydantic_graph(graph) -> Contender:
    return lambda: graph.run(inputs=0)


async def _sample(run: Contender, minimum: float) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run: repeated until `minimum` seconds of wall
    time have passed, then divided."""
    count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    while True:
        await run()
        count += 1
        if time.perf_counter() - wall >= minimum:
            break
    return (time.process_time() - cpu) / count, (time.perf_counter() - wall) / count


def _figure(values: list[float], scale: float, unit: str) -> str:
    middle = statistics.median(values) * scale
    digits = 2 if middle < 1 else 1 if middle < 100 else 0
    low, mid, high = min(values) * scale, statistics.median(values) * scale, max(values) * scale
    return f"{mid:.{digits}f} {unit} ({low:.{digits}f}-{high:.{digits}f})"


@dataclass
class Workload:
    name: str
    firings: int
    contenders: dict[str, Contender]  # by "framework, kind of node"
    minimum: float = 0.005
    samples: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def workloads() -> list[Workload]:
    chain, loop, fan = chain_agent(100), loop_agent(), fanout_agent(16)
    fan_state = {"value": 0, "parts": []}
    per_firing = [
        Workload(
            "100-node chain",
            100,
            {
                "rolegraph, async": _rolegraph(ir_of(chain_agent(100, "astep"))),
                "rolegraph, plain": _rolegraph(ir_of(chain)),
                "rolegraph, nonblocking": _rolegraph(ir_of(chain_agent(100, "nstep"))),
                "LangGraph, async": _langgraph(langgraph_chain(100, True), {"value": 0}),
                "LangGraph, plain": _langgraph(langgraph_chain(100), {"value": 0}),
                "pydantic-graph, async": _pydantic_graph(pydantic_graph_chain(100)),
                "floor, async": floor_chain(100, True),
                "floor, plain": floor_chain(100, False),
            },
        ),
        Workload(
            "50-iteration loop",
            50,
            {
                "rolegraph, async": _rolegraph(ir_of(loop_agent("astep"))),
                "rolegraph, plain": _rolegraph(ir_of(loop)),
                "rolegraph, nonblocking": _rolegraph(ir_of(loop_agent("nstep"))),
                "LangGraph, async": _langgraph(langgraph_loop(True), {"value": 0}),
                "LangGraph, plain": _langgraph(langgraph_loop(), {"value": 0}),
                "pydantic-graph, async": _pydantic_graph(pydantic_graph_loop()),
                "floor, async": floor_loop(True),
                "floor, plain": floor_loop(False),
            },
        ),
        Workload(
            "16-way fan-out + join",
            18,
            {
                "rolegraph, async": _rolegraph(ir_of(fanout_agent(16, "astep", "atotal", "astep"))),
                "rolegraph, plain": _rolegraph(ir_of(fan)),
                "rolegraph, nonblocking": _rolegraph(
                    ir_of(fanout_agent(16, "nstep", "ntotal", "nstep"))
                ),
                "LangGraph, async": _langgraph(langgraph_fanout(16, False, True), fan_state),
                "LangGraph, plain": _langgraph(langgraph_fanout(16, False), fan_state),
                # (its join is a reducer, not a node: 17 steps)
                "pydantic-graph, async": _pydantic_graph(pydantic_graph_fanout(16)),
                "floor, async": floor_fanout(16, coroutines=True),
                "floor, plain": floor_fanout(16),
            },
        ),
    ]
    latency = [
        Workload(
            "16 branches each awaiting 10 ms",
            1,
            {
                "rolegraph": _rolegraph(ir_of(fanout_agent(16, "sleep10"))),
                "LangGraph": _langgraph(langgraph_fanout(16, True), fan_state),
                "pydantic-graph": _pydantic_graph(pydantic_graph_fanout(16, sleeping=True)),
                "floor": floor_fanout(16, body=sleep10),
            },
            minimum=0.0,
        ),
        Workload(
            "three 10 ms nodes ∥ one 30 ms node",
            1,
            {
                "rolegraph": _rolegraph(ir_of(UNEQUAL)),
                "LangGraph": _langgraph(langgraph_unequal(), fan_state),
                "pydantic-graph": _pydantic_graph(pydantic_graph_unequal()),
                "floor": floor_unequal,
            },
            minimum=0.0,
        ),
    ]
    return per_firing + latency


async def measure(all_workloads: list[Workload], rounds: int, store_runs: Workload) -> None:
    for workload in [*all_workloads, store_runs]:
        for name, run in workload.contenders.items():
            await run()  # warm up: imports, caches, compiled graphs
            workload.samples[name] = []
    for round_ in range(rounds):
        for workload in [*all_workloads, store_runs]:
            names = list(workload.contenders)
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                sample = await _sample(workload.contenders[name], workload.minimum)
                workload.samples[name].append(sample)


def report(all_workloads: list[Workload], store_runs: Workload, rounds: int) -> list[str]:
    per_firing = [w for w in all_workloads if w.firings > 1]
    latency = [w for w in all_workloads if w.firings == 1]
    lines = [
        f"Trivial nodes, one process, {rounds} interleaved rounds; per firing, median "
        "(min-max over the rounds). CPU: the process's time (worker threads included).",
        "",
        "Like for like: `async def` nodes everywhere (the floor awaits the same coroutine "
        "in a loop, or gathers it).",
        "",
        "| workload | contender | CPU per firing | wall per firing | ÷ rolegraph (CPU) |",
        "|---|---|---|---|---|",
    ]

    def cpu(w: Workload, name: str) -> list[float]:
        return [s[0] / w.firings for s in w.samples[name]]

    def wall(w: Workload, name: str) -> list[float]:
        return [s[1] / w.firings for s in w.samples[name]]

    for w in per_firing:
        ours = statistics.median(cpu(w, "rolegraph, async"))
        for name in (
            "rolegraph, async",
            "LangGraph, async",
            "pydantic-graph, async",
            "floor, async",
        ):
            ratio = statistics.median(cpu(w, name)) / ours
            lines.append(
                f"| {w.name} | {name} | {_figure(cpu(w, name), 1e6, 'µs')} | "
                f"{_figure(wall(w, name), 1e6, 'µs')} | {ratio:.2f}x |"
            )
    lines += [
        "",
        "Best for each: each framework's fastest kind of node on that workload (by median "
        "CPU); rolegraph's plain functions run in its worker threads, those marked "
        "`@nonblocking` on the loop, inline.",
        "",
        "| workload | contender (its best kind) | CPU per firing | wall per firing |",
        "|---|---|---|---|",
    ]
    for w in per_firing:
        for framework in ("rolegraph", "LangGraph", "pydantic-graph", "floor"):
            kinds = [n for n in w.contenders if n.startswith(framework + ",")]
            best = min(kinds, key=lambda n: statistics.median(cpu(w, n)))
            lines.append(
                f"| {w.name} | {best} | {_figure(cpu(w, best), 1e6, 'µs')} | "
                f"{_figure(wall(w, best), 1e6, 'µs')} |"
            )
    lines += [
        "",
        "rolegraph by kind of tool node: a plain function runs in a worker thread (the "
        "hand-off to the thread and back is most of its cost), an `async def` on the loop, "
        "a plain function marked `@nonblocking` on the loop, inline (no task).",
        "",
        "| workload | rolegraph, async | rolegraph, `@nonblocking` | rolegraph, plain (thread) "
        "| LangGraph, async ÷ rolegraph, async | LangGraph, plain ÷ rolegraph, `@nonblocking` |",
        "|---|---|---|---|---|---|",
    ]

    def times(w: Workload, theirs: str, ours: str) -> str:
        return f"{statistics.median(cpu(w, theirs)) / statistics.median(cpu(w, ours)):.1f}x"

    for w in per_firing:
        lines.append(
            f"| {w.name} | {_figure(cpu(w, 'rolegraph, async'), 1e6, 'µs')} | "
            f"{_figure(cpu(w, 'rolegraph, nonblocking'), 1e6, 'µs')} | "
            f"{_figure(cpu(w, 'rolegraph, plain'), 1e6, 'µs')} | "
            f"{times(w, 'LangGraph, async', 'rolegraph, async')} | "
            f"{times(w, 'LangGraph, plain', 'rolegraph, nonblocking')} |"
        )
    lines += ["", "| latency case (wall per run) | contender | wall | CPU |", "|---|---|---|---|"]
    for w in latency:
        for name in w.contenders:
            walls, cpus = [s[1] for s in w.samples[name]], [s[0] for s in w.samples[name]]
            lines.append(
                f"| {w.name} | {name} | {_figure(walls, 1e3, 'ms')} | {_figure(cpus, 1e3, 'ms')} |"
            )
    return [*lines, "", *store_report(store_runs)]


def store_report(store_runs: Workload) -> list[str]:
    """The store's rows: a run with it and without, and their ratio per round."""
    with_store = [s[0] for s in store_runs.samples["with the store"]]
    without = [s[0] for s in store_runs.samples["without"]]
    ratios = [a / b for a, b in zip(with_store, without, strict=True)]
    lines = [
        "| the SQLite store (cache + checkpoints), 100-node chain of `async def` tools | CPU |",
        "|---|---|",
        f"| with the store | {_figure(with_store, 1e3, 'ms')} |",
        f"| without | {_figure(without, 1e3, 'ms')} |",
        f"| with ÷ without, per round | {_figure(ratios, 1, 'x')} |",
    ]
    return lines


async def main_async(rounds: int, store_only: bool = False) -> list[str]:
    all_workloads = [] if store_only else workloads()
    chain = ir_of(chain_agent(100, "astep"))
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.sqlite")
        store_runs = Workload(
            "store",
            100,
            {"with the store": _rolegraph(chain, store), "without": _rolegraph(chain)},
        )
        await measure(all_workloads, rounds, store_runs)
        store.close()
    if store_only:
        return [
            f"The store's rows alone, one process, {rounds} interleaved rounds; per run, "
            "median (min-max over the rounds), CPU.",
            "",
            *store_report(store_runs),
        ]
    return report(all_workloads, store_runs, rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--label", help="record as another section (`runtime-LABEL`): another tree's figures"
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument(
        "--store-only",
        action="store_true",
        help="only the SQLite store's rows, recorded as their own section (`runtime-store`)",
    )
    args = parser.parse_args()
    text = "\n".join(asyncio.run(main_async(args.rounds, args.store_only)))
    print(text)
    if not args.no_write:
        title = "Runtime: overhead and latency, beside LangGraph, pydantic-graph and the floor"
        command = f"python bench/bench_runtime.py --rounds {args.rounds}"
        key = "runtime"
        if args.store_only:
            title, key = "Runtime: the SQLite store, with ÷ without", "runtime-store"
            command += " --store-only"
        if args.label:
            command = f"PYTHONPATH=<{args.label}> {command} --label '{args.label}'"
        record(
            text,
            command,
            key=f"{key}-{args.label.split()[0]}" if args.label else key,
            title=f"{title} ({args.label})" if args.label else title,
        )


if __name__ == "__main__":
    main()
