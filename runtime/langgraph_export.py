"""An agent's IR as a LangGraph `StateGraph`, for people who deploy on LangGraph.

    graph = to_langgraph(rolegraph.load_agent("examples/self_refine.agent"), model="mock")
    state = await graph.ainvoke({"params": {"task": "..."}})
    state["result"]

Each IR node becomes a LangGraph node whose function makes the same firing the rolegraph
executor makes (the same prompts, model calls, structured-output repair, tool loops,
sub-agents), so on a deterministic model the result is the same. What LangGraph has no
word for is carried in the graph's state and decided inside the node functions, since
LangGraph's routers cannot write state:

- AND-joins: each node counts its outputs (`versions`); a node runs when every node its
  arguments read has an output it has not consumed (`seen`).
- Explicit edges: guards are evaluated on the firing's output, `max` bounds are counted
  in `taken`, `else` is taken when no `when` edge was; bound ports wait in `ports`.
- Returns: the first return taken sets `result` and `done`; later firings do nothing.

LangGraph runs in supersteps (a barrier between steps), so this graph is not eager the
way rolegraph's executor is; that changes when things run, not what they compute.
`langgraph` is an optional dependency (`pip install rolegraph[langgraph]`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from rolegraph.compiler.ir import AgentIR

from .errors import RunError
from .executor import AgentRun, Context
from .expressions import evaluate
from .trace import FiringRecord
from .values import coerce


def _merge(left: dict | None, right: dict | None) -> dict:
    return {**(left or {}), **(right or {})}


def _add(left: dict | None, right: dict | None) -> dict:
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged[key] = merged.get(key, 0) + value
    return merged


def _first(left: Any, right: Any) -> Any:
    return left if left is not None else right


class State(TypedDict, total=False):
    params: dict[str, Any]
    outputs: Annotated[dict[str, Any], _merge]  # the latest output of each node
    versions: Annotated[dict[str, int], _add]  # how many outputs each node has given
    seen: Annotated[dict[str, dict[str, int]], _merge]  # per node: the versions it consumed
    taken: Annotated[dict[int, int], _add]  # how often each explicit edge was taken
    ports: Annotated[dict[str, dict[str, Any]], _merge]  # values bound by edges, per target
    route: Annotated[dict[str, list[str]], _merge]  # where each node's last firing goes
    result: Annotated[Any, _first]
    done: Annotated[bool, operator.or_]


def to_langgraph(ir: AgentIR, *, model: Any = "mock") -> Any:
    """A compiled LangGraph graph that runs `ir`; `model` as in `rolegraph.run`."""
    try:
        from langgraph.graph import END, START, StateGraph
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise RunError(
            "the LangGraph export needs langgraph: pip install 'rolegraph[langgraph]'"
        ) from error
    from . import model_router

    context = Context(model_for=model_router(model))
    graph = StateGraph(State)
    dependents = {
        name: [n for n, node in ir.nodes.items() if name in node.deps] for name in ir.nodes
    }
    returns_of = {
        name: [i for i, ret in enumerate(ir.returns_) if name in ret.deps] for name in ir.nodes
    }

    def make(name: str) -> Any:
        node = ir.nodes[name]
        out_edges = sorted(
            (e for e in ir.edges if e.source == name and e.kind in ("control", "return")),
            key=lambda e: e.index,
        )

        async def fire(state: State) -> dict[str, Any]:
            if state.get("done"):
                return {"route": {name: []}}
            params = state.get("params", {})
            engine = AgentRun(ir, params, context)
            env = {**engine.params, **state.get("outputs", {})}
            bindings = state.get("ports", {}).get(name, {})
            record = FiringRecord(node=name, time=0, key=name, status="running")
            args = engine.arguments(node, env, bindings)
            output = await engine.call(node, args, env, record)
            env = {**env, name: output}
            versions = dict(state.get("versions", {}))
            versions[name] = versions.get(name, 0) + 1
            seen = {name: {dep: versions.get(dep, 0) for dep in node.deps}}
            update: dict[str, Any] = {
                "outputs": {name: output},
                "versions": {name: 1},
                "seen": seen,
                "ports": {name: {}},
            }
            # the explicit edges, as the executor takes them
            taken = state.get("taken", {})
            live = [e for e in out_edges if e.max is None or taken.get(e.index, 0) < e.max]
            when = [e for e in live if e.condition == "when" and evaluate(e.guard, env)]
            chosen = when + [e for e in live if e.condition == "always"]
            if not when:
                chosen += [e for e in live if e.condition == "else"]
            targets: list[str] = []
            update["taken"] = {e.index: 1 for e in chosen}
            for edge in chosen:
                if edge.kind == "return":
                    update["result"] = coerce(ir.return_type, evaluate(edge.value, env))
                    update["done"] = True
                    return {**update, "route": {name: []}}
                ports = {p: evaluate(expr, env) for p, expr in edge.ports.items()}
                update["ports"] = {**update["ports"], edge.target: ports}
                targets.append(edge.target)
            # returns that this output completes
            all_seen = {**state.get("seen", {}), **seen}
            for index in returns_of[name]:
                ret = ir.returns_[index]
                if all(versions.get(dep, 0) > 0 for dep in ret.deps):
                    update["result"] = coerce(ir.return_type, evaluate(ret.value, env))
                    update["done"] = True
                    return {**update, "route": {name: []}}
            # AND-joins this output completes
            for dependent in dependents[name]:
                consumed = all_seen.get(dependent, {})
                ready = all(
                    versions.get(dep, 0) > consumed.get(dep, 0) for dep in ir.nodes[dependent].deps
                )
                if ready and dependent not in targets:
                    targets.append(dependent)
            return {**update, "route": {name: targets}}

        return fire

    for name in ir.nodes:
        graph.add_node(name, make(name))
        graph.add_conditional_edges(
            name, lambda state, n=name: state.get("route", {}).get(n) or [END]
        )
    entries = [name for name, node in ir.nodes.items() if node.entry]
    for name in entries:
        graph.add_edge(START, name)
    if not entries:  # pragma: no cover - the checker refuses an agent that never starts
        raise RunError(f"agent `{ir.name}` has no entry node")
    return graph.compile()


async def run_langgraph(graph: Any, inputs: Mapping[str, Any]) -> Any:
    """Invoke an exported graph and return the agent's result (or raise `RunError`)."""
    state = await graph.ainvoke({"params": dict(inputs)}, {"recursion_limit": 10_000})
    if not state.get("done"):
        raise RunError("the exported graph ended without a return")
    return state.get("result")
