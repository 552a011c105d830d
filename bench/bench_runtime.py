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

With `--processes SECONDS`, each sample is a new process that makes one contender, warms
it up (20 runs) and runs it for SECONDS: the rounds interleave processes, not runs in one
heap. In one process the samples share a heap, the cyclic collector's state and the
caches of every framework loaded (LangGraph's fan-out is ~25% slower there than in a
process of its own, and a sample of 5 ms takes a collection whole), so its medians move
between runs; a process a sample is slower to measure and steadier. `--kinds async` keeps
the like-for-like rows only, `--no-latency` leaves out the 10 ms cases. The table also
gives the ratio round by round (two samples close in time), which load that drifts
during a run moves less than the ratio of the medians.

    pip install -e ".[bench]" && python bench/bench_runtime.py
    python bench/bench_runtime.py --rounds 9 --processes 0.3 --kinds async nonblocking --no-latency
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
    # what makes each contender, by "framework, kind of node" (made when it is measured:
    # a process of `--processes` makes only its own)
    contenders: dict[str, Callable[[], Contender]]
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
                "rolegraph, async": lambda: _rolegraph(ir_of(chain_agent(100, "astep"))),
                "rolegraph, plain": lambda: _rolegraph(ir_of(chain)),
                "rolegraph, nonblocking": lambda: _rolegraph(ir_of(chain_agent(100, "nstep"))),
                "LangGraph, async": lambda: _langgraph(langgraph_chain(100, True), {"value": 0}),
                "LangGraph, plain": lambda: _langgraph(langgraph_chain(100), {"value": 0}),
                "pydantic-graph, async": lambda: _pydantic_graph(pydantic_graph_chain(100)),
                "floor, async": lambda: floor_chain(100, True),
                "floor, plain": lambda: floor_chain(100, False),
            },
        ),
        Workload(
            "50-iteration loop",
            50,
            {
                "rolegraph, async": lambda: _rolegraph(ir_of(loop_agent("astep"))),
                "rolegraph, plain": lambda: _rolegraph(ir_of(loop)),
                "rolegraph, nonblocking": lambda: _rolegraph(ir_of(loop_agent("nstep"))),
                "LangGraph, async": lambda: _langgraph(langgraph_loop(True), {"value": 0}),
                "LangGraph, plain": lambda: _langgraph(langgraph_loop(), {"value": 0}),
                "pydantic-graph, async": lambda: _pydantic_graph(pydantic_graph_loop()),
                "floor, async": lambda: floor_loop(True),
                "floor, plain": lambda: floor_loop(False),
            },
        ),
        Workload(
            "16-way fan-out + join",
            18,
            {
                "rolegraph, async": lambda: _rolegraph(
                    ir_of(fanout_agent(16, "astep", "atotal", "astep"))
                ),
                "rolegraph, plain": lambda: _rolegraph(ir_of(fan)),
                "rolegraph, nonblocking": lambda: _rolegraph(
                    ir_of(fanout_agent(16, "nstep", "ntotal", "nstep"))
                ),
                "LangGraph, async": lambda: _langgraph(
                    langgraph_fanout(16, False, True), fan_state
                ),
                "LangGraph, plain": lambda: _langgraph(langgraph_fanout(16, False), fan_state),
                # (its join is a reducer, not a node: 17 steps)
                "pydantic-graph, async": lambda: _pydantic_graph(pydantic_graph_fanout(16)),
                "floor, async": lambda: floor_fanout(16, coroutines=True),
                "floor, plain": lambda: floor_fanout(16),
            },
        ),
    ]
    latency = [
        Workload(
            "16 branches each awaiting 10 ms",
            1,
            {
                "rolegraph": lambda: _rolegraph(ir_of(fanout_agent(16, "sleep10"))),
                "LangGraph": lambda: _langgraph(langgraph_fanout(16, True), fan_state),
                "pydantic-graph": lambda: _pydantic_graph(pydantic_graph_fanout(16, sleeping=True)),
                "floor": lambda: floor_fanout(16, body=sleep10),
            },
            minimum=0.0,
        ),
        Workload(
            "three 10 ms nodes ∥ one 30 ms node",
            1,
            {
                "rolegraph": lambda: _rolegraph(ir_of(UNEQUAL)),
                "LangGraph": lambda: _langgraph(langgraph_unequal(), fan_state),
                "pydantic-graph": lambda: _pydantic_graph(pydantic_graph_unequal()),
                "floor": lambda: floor_unequal,
            },
            minimum=0.0,
        ),
    ]
    return per_firing + latency


async def measure(all_workloads: list[Workload], rounds: int) -> None:
    """Every contender of every workload once a round, the order rotating, in this
    process: `rounds` samples each."""
    made: dict[tuple[str, str], Contender] = {}
    for workload in all_workloads:
        for name, make in workload.contenders.items():
            run = made[workload.name, name] = make()
            await run()  # warm up: imports, caches, compiled graphs
            workload.samples[name] = []
    for round_ in range(rounds):
        for workload in all_workloads:
            for name in _rotated(list(workload.contenders), round_):
                sample = await _sample(made[workload.name, name], workload.minimum)
                workload.samples[name].append(sample)


def _rotated(names: list[str], round_: int) -> list[str]:
    shift = round_ % len(names)
    return names[shift:] + names[:shift]


def measure_in_processes(all_workloads: list[Workload], rounds: int, seconds: float) -> None:
    """The same rounds, each sample a new process (`--sample`) that makes one contender,
    warms it up and runs it for `seconds` of wall time: no sample shares a heap, a
    collector's state or a warm cache with another contender's."""
    for workload in all_workloads:
        workload.samples = {name: [] for name in workload.contenders}
    for round_ in range(rounds):
        for workload in all_workloads:
            for name in _rotated(list(workload.contenders), round_):
                workload.samples[name].append(_sample_process(workload.name, name, seconds))


def _sample_process(workload: str, contender: str, seconds: float) -> tuple[float, float]:
    import json
    import subprocess

    command = [sys.executable, __file__, "--sample", workload, contender, "--seconds", str(seconds)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    cpu, wall = json.loads(out.splitlines()[-1])
    return float(cpu), float(wall)


def sample_here(workload: str, contender: str, seconds: float) -> None:
    """`--sample`: one contender of one workload, made in this process alone, warmed up
    (20 runs), then run for `seconds`: prints its (CPU, wall) seconds a run as JSON."""
    import json

    opened: list[Store] = []
    with tempfile.TemporaryDirectory() as folder:
        found = {w.name: w for w in [*workloads(), store_workload(Path(folder), opened)]}
        run = found[workload].contenders[contender]()

        async def go() -> tuple[float, float]:
            for _ in range(20):
                await run()
            return await _sample(run, seconds)

        print(json.dumps(asyncio.run(go())))
        for store in opened:
            store.close()


def report(
    all_workloads: list[Workload], store_runs: Workload, rounds: int, how: str = "one process"
) -> list[str]:
    """The tables of the contenders measured (those of a kind not measured left out)."""
    per_firing = [w for w in all_workloads if w.firings > 1]
    latency = [w for w in all_workloads if w.firings == 1]
    lines = [
        f"Trivial nodes, {how}, {rounds} interleaved rounds; per firing, median "
        "(min-max over the rounds). CPU: the process's time (worker threads included).",
    ]

    def cpu(w: Workload, name: str) -> list[float]:
        return [s[0] / w.firings for s in w.samples[name]]

    def wall(w: Workload, name: str) -> list[float]:
        return [s[1] / w.firings for s in w.samples[name]]

    def per_round(w: Workload, theirs: str, ours: str) -> str:
        """Their ÷ ours, round by round (the two samples of a round: close in time)."""
        ratios = [a / b for a, b in zip(cpu(w, theirs), cpu(w, ours), strict=True)]
        return _figure(ratios, 1, "x")

    like = [w for w in per_firing if "rolegraph, async" in w.contenders]
    if like:
        lines += [
            "",
            "Like for like: `async def` nodes everywhere (the floor awaits the same coroutine "
            "in a loop, or gathers it). ÷ rolegraph: of the medians, and round by round.",
            "",
            "| workload | contender | CPU per firing | wall per firing | ÷ rolegraph (CPU) "
            "| ÷ rolegraph, per round |",
            "|---|---|---|---|---|---|",
        ]
    for w in like:
        ours = statistics.median(cpu(w, "rolegraph, async"))
        for name in (
            "rolegraph, async",
            "LangGraph, async",
            "pydantic-graph, async",
            "floor, async",
        ):
            if name not in w.contenders:
                continue
            ratio = statistics.median(cpu(w, name)) / ours
            lines.append(
                f"| {w.name} | {name} | {_figure(cpu(w, name), 1e6, 'µs')} | "
                f"{_figure(wall(w, name), 1e6, 'µs')} | {ratio:.2f}x | "
                f"{per_round(w, name, 'rolegraph, async')} |"
            )
    lines += [
        "",
        "Best for each: each framework's fastest kind of node on that workload (by median "
        "CPU), of the kinds measured; rolegraph's plain functions run in its worker threads, "
        "those marked `@nonblocking` on the loop, inline.",
        "",
        "| workload | contender (its best kind) | CPU per firing | wall per firing |",
        "|---|---|---|---|",
    ]
    for w in per_firing:
        for framework in ("rolegraph", "LangGraph", "pydantic-graph", "floor"):
            kinds = [n for n in w.contenders if n.startswith(framework + ",")]
            if not kinds:
                continue
            best = min(kinds, key=lambda n: statistics.median(cpu(w, n)))
            lines.append(
                f"| {w.name} | {best} | {_figure(cpu(w, best), 1e6, 'µs')} | "
                f"{_figure(wall(w, best), 1e6, 'µs')} |"
            )
    by_kind = [
        w
        for w in per_firing
        if {"rolegraph, async", "rolegraph, nonblocking", "rolegraph, plain"}
        | {"LangGraph, async", "LangGraph, plain"}
        <= set(w.contenders)
    ]
    if by_kind:
        lines += [
            "",
            "rolegraph by kind of tool node: a plain function runs in a worker thread (the "
            "hand-off to the thread and back is most of its cost), an `async def` on the "
            "loop, a plain function marked `@nonblocking` on the loop, inline (no task).",
            "",
            "| workload | rolegraph, async | rolegraph, `@nonblocking` | rolegraph, plain "
            "(thread) | LangGraph, async ÷ rolegraph, async | LangGraph, plain ÷ rolegraph, "
            "`@nonblocking` |",
            "|---|---|---|---|---|---|",
        ]

    def times(w: Workload, theirs: str, ours: str) -> str:
        return f"{statistics.median(cpu(w, theirs)) / statistics.median(cpu(w, ours)):.1f}x"

    for w in by_kind:
        lines.append(
            f"| {w.name} | {_figure(cpu(w, 'rolegraph, async'), 1e6, 'µs')} | "
            f"{_figure(cpu(w, 'rolegraph, nonblocking'), 1e6, 'µs')} | "
            f"{_figure(cpu(w, 'rolegraph, plain'), 1e6, 'µs')} | "
            f"{times(w, 'LangGraph, async', 'rolegraph, async')} | "
            f"{times(w, 'LangGraph, plain', 'rolegraph, nonblocking')} |"
        )
    if latency:
        lines += [
            "",
            "| latency case (wall per run) | contender | wall | CPU |",
            "|---|---|---|---|",
        ]
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


def store_workload(folder: Path, opened: list[Store]) -> Workload:
    """A 100-node chain of `async def` tools with the SQLite store (a file in `folder`,
    opened once, as a server or a search keeps it, and added to `opened`) and without."""
    chain = chain_agent(100, "astep")

    def with_store() -> Contender:
        opened.append(Store(folder / "bench.sqlite"))
        return _rolegraph(ir_of(chain), opened[-1])

    return Workload(
        "store", 100, {"with the store": with_store, "without": lambda: _rolegraph(ir_of(chain))}
    )


def chosen(kinds: list[str] | None, latency: bool) -> list[Workload]:
    """The workloads, their per-firing contenders those of `kinds` (all when None), the
    latency cases when `latency`."""
    found = [w for w in workloads() if latency or w.firings > 1]
    if kinds is not None:
        for w in found:
            if w.firings > 1:
                w.contenders = {n: m for n, m in w.contenders.items() if n.split(", ")[1] in kinds}
    return found


def measured(
    rounds: int, store_only: bool, kinds: list[str] | None, latency: bool, seconds: float | None
) -> list[str]:
    """The report's lines: in this process, or (`seconds`) each sample a process."""
    opened: list[Store] = []
    with tempfile.TemporaryDirectory() as folder:
        store_runs = store_workload(Path(folder), opened)
        all_workloads = [*([] if store_only else chosen(kinds, latency)), store_runs]
        if seconds is None:
            asyncio.run(measure(all_workloads, rounds))
        else:
            measure_in_processes(all_workloads, rounds, seconds)
        for store in opened:
            store.close()
    how = (
        "one process"
        if seconds is None
        else f"each sample a new process running one contender for {seconds:g} s after 20 "
        "warm-up runs"
    )
    if store_only:
        return [
            f"The store's rows alone, {how}, {rounds} interleaved rounds; per run, "
            "median (min-max over the rounds), CPU.",
            "",
            *store_report(store_runs),
        ]
    return report(all_workloads[:-1], store_runs, rounds, how)


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
    parser.add_argument(
        "--processes",
        type=float,
        metavar="SECONDS",
        help="each sample a new process that runs one contender for SECONDS (after 20 "
        "warm-up runs), recorded as its own section (`runtime-processes`)",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=("async", "plain", "nonblocking"),
        help="only these kinds of node in the per-firing workloads (default: all)",
    )
    parser.add_argument("--no-latency", action="store_true", help="leave the latency cases out")
    parser.add_argument(
        "--sample", nargs=2, metavar=("WORKLOAD", "CONTENDER"), help=argparse.SUPPRESS
    )
    parser.add_argument("--seconds", type=float, default=0.3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sample:
        sample_here(*args.sample, args.seconds)
        return
    lines = measured(args.rounds, args.store_only, args.kinds, not args.no_latency, args.processes)
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        title = "Runtime: overhead and latency, beside LangGraph, pydantic-graph and the floor"
        command = f"python bench/bench_runtime.py --rounds {args.rounds}"
        key = "runtime"
        if args.store_only:
            title, key = "Runtime: the SQLite store, with ÷ without", "runtime-store"
            command += " --store-only"
        if args.processes is not None:
            title += ", a process a sample"
            key += "-processes"
            command += f" --processes {args.processes:g}"
        if args.kinds:
            command += " --kinds " + " ".join(args.kinds)
        if args.no_latency:
            command += " --no-latency"
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
