"""An agent's IR as a LangGraph `StateGraph`, for people who deploy on LangGraph.

    graph = to_langgraph(rolegraph.load_agent("examples/self_refine.agent"), model="mock")
    state = await graph.ainvoke({"params": {"task": "..."}})
    state["result"]

Each IR node becomes a LangGraph node whose function makes the same firing the rolegraph
executor makes (the same prompts, model calls, structured-output repair, tool loops,
sub-agents), so on a deterministic model the result is the same. What LangGraph has no
word for is carried in the graph's state and decided inside the node functions, since
LangGraph's routers cannot write state:

- AND-joins: a node that reads one node follows it; a node (or a return) that reads
  several waits on a LangGraph barrier for all of them.
- Explicit edges: guards are evaluated on the firing's output, `max` bounds are counted
  in `taken`, `else` is taken when no `when` edge was; bound ports wait in `ports`.
- Returns: the first return taken sets `result` and `done`; later firings do nothing.
- Human steps (docs/human.md) ask with LangGraph's `interrupt()`: the graph stops with
  the question (id, step, text, schema, deadline) in `__interrupt__`, and
  `Command(resume=answer)` continues it; the answer is validated against the step's
  type. A graph with human steps is compiled with a checkpointer (in memory unless one
  is given), and invoked with a `thread_id`.

LangGraph runs in supersteps (a barrier between steps), so this graph is not eager the
way rolegraph's executor is; that changes when things run, not what they compute.
`langgraph` is an optional dependency (`pip install rolegraph[langgraph]`).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Annotated, Any, TypedDict

from rolegraph.compiler import semantics
from rolegraph.compiler.dataflow import read_calls, read_key
from rolegraph.compiler.ir import AgentIR, IREdge

from .errors import RunError
from .executor import AgentRun, Context
from .expressions import Evaluator
from .firing import arguments
from .human import Desk, mock_answer
from .plan import plan_of
from .questions import Question
from .trace import FiringRecord
from .values import coerce


def _merge(left: dict | None, right: dict | None) -> dict:
    return {**(left or {}), **(right or {})}


def _add(left: dict | None, right: dict | None) -> dict:
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged[key] = merged.get(key, 0) + value
    return merged


def _append(left: dict | None, right: dict | None) -> dict:
    merged = {key: list(values) for key, values in (left or {}).items()}
    for key, values in (right or {}).items():
        merged.setdefault(key, []).extend(values)
    return merged


def _never(edge: IREdge) -> bool:
    return False


def _first(left: Any, right: Any) -> Any:
    return left if left is not None else right


class State(TypedDict, total=False):
    params: dict[str, Any]
    outputs: Annotated[dict[str, Any], _merge]  # the latest output of each node
    history: Annotated[dict[str, list[Any]], _append]  # every output of each node, in order
    taken: Annotated[dict[int, int], _add]  # how often each explicit edge was taken
    ports: Annotated[dict[str, dict[str, Any]], _merge]  # values bound by edges, per target
    route: Annotated[dict[str, list[str]], _merge]  # where each node's last firing goes
    result: Annotated[Any, _first]
    done: Annotated[bool, operator.or_]


class _InterruptDesk(Desk):
    """Human steps ask through LangGraph: `interrupt()` stops the graph with the question,
    and gives the answer `Command(resume=...)` brings when the graph goes on."""

    async def answer(self, question: Question, answer_type: Any) -> Any:
        from langgraph.types import interrupt

        return interrupt(question.to_json())


def _asks(ir: AgentIR) -> bool:
    return any(
        node.kind == "human" or (node.subgraph is not None and _asks(node.subgraph))
        for node in ir.nodes.values()
    )


def to_langgraph(ir: AgentIR, *, model: Any = "mock", checkpointer: Any = None) -> Any:
    """A compiled LangGraph graph that runs `ir`; `model` as in `rolegraph.run`. An agent
    with human steps gets `checkpointer` (default: LangGraph's in-memory one)."""
    try:
        from langgraph.errors import GraphBubbleUp
        from langgraph.graph import END, START, StateGraph
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise RunError(
            "the LangGraph export needs langgraph: pip install 'rolegraph[langgraph]'"
        ) from error
    from . import model_router, provider_of

    context = Context(model_for=model_router(model), provider=provider_of(model, None))
    context.human = _InterruptDesk()
    reads = {
        name: [
            call
            for expr in [*node.args.values(), node.map_source]
            if expr is not None
            for call in read_calls(expr)
        ]
        for name, node in ir.nodes.items()
    }
    graph = StateGraph(State)
    # A node that reads one node follows it by routing; one that reads several waits for
    # all of them on a LangGraph barrier (`add_edge([a, b], c)`), as an AND-join does.
    followers = {
        name: [n for n, node in ir.nodes.items() if node.deps == (name,)] for name in ir.nodes
    }
    returns_after = {
        name: [i for i, ret in enumerate(ir.returns_) if ret.deps == (name,)] for name in ir.nodes
    }

    plan = plan_of(ir)  # (the executor's: the same compiled guards, ports and returns)
    compiled = plan.edges

    def finish(value: Evaluator | None, env: Mapping[str, Any]) -> dict[str, Any]:
        assert value is not None  # (a return returns a value)
        return {"result": coerce(ir.return_type, value(env)), "done": True}

    def make(name: str) -> Any:
        node = ir.nodes[name]
        out_edges = sorted(
            (e for e in ir.edges if e.source == name and e.kind in ("control", "return")),
            key=lambda e: e.index,
        )

        async def fire(state: State) -> dict[str, Any]:
            if state.get("done"):
                return {"route": {name: []}}
            engine = AgentRun(ir, state.get("params", {}), context)
            env = {**engine.params, **state.get("outputs", {})}
            for function, read in reads[name]:  # `latest(x)` / `history(x)`
                values = state.get("history", {}).get(read, [])
                last = values[-1] if values else None
                env[read_key(function, read)] = values if function == "history" else last
            bindings = state.get("ports", {}).get(name, {})
            record = FiringRecord(node=name, time=0, key=name, status="running")
            args = arguments(plan, node, env, bindings)
            taken = state.get("taken", {})
            live = semantics.live(out_edges, taken)
            try:
                output = await engine.call(node, args, env, record)
            except GraphBubbleUp:  # an interrupt (a human step asks): LangGraph's to handle
                raise
            except Exception as error:  # a failed firing: its `on error` edges, or the end
                handlers = semantics.route(live, failed=True, holds=_never)
                if not handlers:
                    raise
                failure = {"error": f"{type(error).__name__}: {error}"}
                env = {**env, name: failure}
                update: dict[str, Any] = {"outputs": {name: failure}, "ports": {name: {}}}
                chosen = handlers
            else:
                env = {**env, name: output}
                update = {
                    "outputs": {name: output},
                    "history": {name: [output]},
                    "ports": {name: {}},
                }
                # the explicit edges, as the executor takes them (compiler/semantics.py)
                chosen = semantics.route(
                    live, failed=False, holds=lambda e: compiled[e.index].holds(env)
                )
            update["taken"] = {e.index: 1 for e in chosen}
            targets: list[str] = []
            for edge in chosen:
                if edge.kind == "return":
                    return {
                        **update,
                        **finish(compiled[edge.index].value, env),
                        "route": {name: []},
                    }
                ports = {p: port(env) for p, port in compiled[edge.index].ports}
                update["ports"] = {**update["ports"], edge.target: ports}
                targets.append(edge.target)
            if "history" not in update:  # it failed: its output goes nowhere
                return {**update, "route": {name: targets}}
            for index in returns_after[name]:  # a return that reads this node alone
                return {**update, **finish(plan.returns[index], env), "route": {name: []}}
            targets += [f for f in followers[name] if f not in targets]
            return {**update, "route": {name: targets}}

        return fire

    def make_return(index: int) -> Any:
        async def settle(state: State) -> dict[str, Any]:
            if state.get("done"):
                return {}
            params = AgentRun(ir, state.get("params", {}), context).params
            return finish(plan.returns[index], {**params, **state.get("outputs", {})})

        return settle

    for name, node in ir.nodes.items():
        graph.add_node(name, make(name))
        graph.add_conditional_edges(
            name, lambda state, n=name: state.get("route", {}).get(n) or [END]
        )
        if len(node.deps) > 1:
            graph.add_edge(list(node.deps), name)
    for index, ret in enumerate(ir.returns_):
        if len(ret.deps) == 1:
            continue
        graph.add_node(f"__return_{index}", make_return(index))
        graph.add_edge(list(ret.deps) if ret.deps else START, f"__return_{index}")
        graph.add_edge(f"__return_{index}", END)
    entries = [name for name, node in ir.nodes.items() if node.entry]
    for name in entries:
        graph.add_edge(START, name)
    if not entries and all(ret.deps for ret in ir.returns_):  # pragma: no cover
        raise RunError(f"agent `{ir.name}` has no entry node")
    if checkpointer is None and _asks(ir):
        from langgraph.checkpoint.memory import InMemorySaver

        checkpointer = InMemorySaver()
    return graph.compile(checkpointer=checkpointer)


async def run_langgraph(
    graph: Any, inputs: Mapping[str, Any], answers: Mapping[str, list[Any]] | str | None = None
) -> Any:
    """Invoke an exported graph and return the agent's result (or raise `RunError`).
    Human steps are answered from `answers` (per step, in order; "mock": as `MockDesk`
    answers), each through `Command(resume=...)`; a question without one raises
    `RunError`."""
    config: dict[str, Any] = {"recursion_limit": 10_000}
    if graph.checkpointer is not None:
        config["configurable"] = {"thread_id": "rolegraph"}
    mock = answers == "mock"
    script = {} if isinstance(answers, str) else {s: list(v) for s, v in (answers or {}).items()}
    state = await graph.ainvoke({"params": dict(inputs)}, config)
    while state.get("__interrupt__"):
        from langgraph.types import Command

        resume = {}
        for waiting in state["__interrupt__"]:
            question = waiting.value
            if mock:
                resume[waiting.id] = mock_answer(
                    question["step"], question["text"], question["schema"]
                )
                continue
            given = script.get(question["step"]) or script.get(question["step"].rsplit(".")[-1])
            if not given:
                raise RunError(f"no answer for question {question['id']}: {question['text']}")
            resume[waiting.id] = given.pop(0)
        state = await graph.ainvoke(Command(resume=resume), config)
    if not state.get("done"):
        raise RunError("the exported graph ended without a return")
    return state.get("result")
