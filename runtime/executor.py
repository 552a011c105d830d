"""The executor: runs an agent's IR, eagerly and in parallel, with DESIGN §3's semantics.

A firing starts as soon as its inputs exist (there is no superstep barrier). Every
firing has a deterministic *key* — its logical time, its node and its cause — and the
decisions that depend on order use keys, not wall-clock arrival:

- an AND-join consumes queued outputs in key order (the i-th draft meets the i-th
  review), and waits only while an in-flight firing that can reach the producer it
  waits on has an earlier logical time (an unrelated slow branch never holds it back);
- reads of an ancestor's latest output wait the same way;
- the earliest return (by logical time, then declaration order) wins as soon as no
  in-flight firing that could still reach an earlier return remains; every other
  firing is cancelled and recorded as such.

So for deterministic models the trace is the same whatever the timing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import inspect
import json
import operator
import os
import time as clock
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any, NamedTuple

from pydantic import ValidationError

from rolegraph.compiler import ast, semantics
from rolegraph.compiler.dataflow import plain_heads, read_calls, read_key
from rolegraph.compiler.ir import RETURN, AgentIR, IREdge, IRNode, ToolSpec
from rolegraph.compiler.ltl import Monitor, proposition
from rolegraph.compiler.ltl import evaluate as evaluate_formula
from rolegraph.compiler.pyimport import beside, import_callable
from rolegraph.compiler.reach import Reachability

from . import human
from .budget import Budget, BudgetError
from .calls import Calls, make_call
from .errors import (
    ConstraintViolation,
    FiringFailed,
    ModelOutputError,
    RunError,
    Stalled,
    StoreError,
    describe_error,
)
from .events import EventSink, RunEvents
from .expressions import (
    EvaluationError,
    Evaluator,
    compiled_expression,
    evaluate,
    holds,
    references,
)
from .models import Model, ModelReply, ModelRequest
from .prompts import render_prompt
from .providers import Provider
from .repair import explain, quote, read_reply, repair_prompt
from .tools import call_in_thread, is_synchronous, tool_threads
from .trace import FiringRecord, Trace, ltl_steps
from .values import coerce, coercer, plain, result_coercer, schema

MAX_REPAIRS = 2


@dataclass
class Context:
    """What every run (nested ones included) shares: models, tools, and observers."""

    model_for: Callable[[IRNode], Model]
    on_record: Callable[[FiringRecord], None] | None = None
    # told every event of the run as it happens (runtime/events.py)
    on_event: EventSink | None = None
    tools: dict[str, Callable[..., Any]] = field(default_factory=dict)
    budget: Budget | None = None
    # which model each role's calls go to, and the parameters laid over its own
    provider: Provider = field(default_factory=Provider)
    # the response cache of the run (a store), asked before any call
    cache: Any = None
    # Resuming: outputs of the top-level run's completed firings, by firing key, and where
    # to write new checkpoints (firings of the top-level run only: their keys are unique).
    replay: dict[str, Any] = field(default_factory=dict)
    checkpoint: Callable[[FiringRecord], None] | None = None
    # Worker threads for synchronous tools (runtime/tools.py); None: the default.
    tool_threads: int | None = None
    # Where human steps get their answers (runtime/human.py); None: nowhere, they pause.
    human: Any = None
    # The MCP sessions of the run (runtime/mcp_tools.py): opened at a first call, closed
    # by `run_agent` when the run ends.
    mcp: Any = None
    _synchronous: dict[str, bool] = field(default_factory=dict, repr=False)
    _threads: int = field(default=0, repr=False)

    def synchronous(self, target: str, folder: str = "") -> bool:
        """Whether a tool is a plain function (run in a worker thread) or a coroutine
        function (run on the loop)."""
        found = self._synchronous.get(target)
        if found is None:
            found = self._synchronous[target] = is_synchronous(self.tool(target, folder))
        return found

    def tool(self, target: str, folder: str = "") -> Callable[..., Any]:
        """The callable a tool names: given in `tools`, or imported (compiler/pyimport.py:
        beside the `.agent` file in `folder`, or in the working directory, too)."""
        found = self.tools.get(target)
        if found is None:
            found = self.tools[target] = _import_tool(target, folder, os.getcwd())
        return found

    def threads(self) -> int:
        """The size of the worker pool for synchronous tools."""
        if not self._threads:
            self._threads = tool_threads(self.tool_threads)
        return self._threads


@functools.lru_cache(maxsize=1024)
def _import_tool(target: str, folder: str, working: str) -> Callable[..., Any]:
    """The callable `module:attribute` names, imported once per process and place (the
    working directory is part of the key: the module may be found there)."""
    return import_callable(target, folder)  # type: ignore[no-any-return]


class _Output(NamedTuple):
    value: Any
    time: int
    key: tuple


class _Offer(NamedTuple):
    """A return offered (compiler/semantics.py `Offer`)."""

    time: int
    order: int
    key: tuple
    value: Any


@dataclass(slots=True)
class _Inflight:
    node: str
    time: int
    key: tuple
    label: str  # the key as the trace writes it
    task: asyncio.Task | None = None
    parked: bool = False  # a human step waiting for its answer (runtime/human.py)


class AgentRun:
    """One run of one agent. `await AgentRun(ir, inputs, context).execute()`."""

    def __init__(
        self,
        ir: AgentIR,
        inputs: Mapping[str, Any],
        context: Context,
        depth: int = 0,
        events: RunEvents | None = None,
    ):
        self.ir = ir
        self.context = context
        self.depth = depth
        # what this run tells the event sink (a nested run: its parent's, under its firing)
        self.events = events
        if events is None and context.on_event is not None:
            self.events = RunEvents(context.on_event, ir.name, depth, ())
        self.params = self._inputs(inputs)
        self.trace = Trace(agent=ir.name, inputs=dict(self.params))
        self.plan = plan = _plan(ir)
        self.outputs: dict[str, list[_Output]] = {name: [] for name in ir.nodes}
        self.failures: dict[str, list[_Output]] = {name: [] for name in ir.nodes}
        # per consumer (a node, or `<return>i`), a queue of outputs per node it joins
        self.queues: dict[str, dict[str, list[_Output]]] = {
            consumer: {dep: [] for dep in deps} for consumer, deps in plan.joins
        }
        # per consumer, how many of its queues are empty: it joins at 0 (a count, not a
        # look at every queue, since a join of many nodes hears from each in turn)
        self.empty: dict[str, int] = {c: len(queues) for c, queues in self.queues.items()}
        self.inflight: dict[tuple, _Inflight] = {}
        self.inflight_times: dict[int, int] = {}  # logical time → firings in flight at it
        self.taken: dict[int, int] = {}
        self.offers: list[_Offer] = []  # the returns offered so far
        self.winning: _Offer | None = None  # the earliest of them (semantics.winner)
        self.replay = context.replay if depth == 0 else {}  # checkpointed outputs, by key
        self.out_edges, self.reach, self.consumers_of, self.reads = (
            plan.out_edges,
            plan.reach,
            plan.consumers,
            plan.reads,
        )
        self.dirty: set[str] = set()  # consumers that received an output since they joined
        self.dirty_peak = 0  # the most `dirty` held since it was last copied
        # `enforce` shields: their monitors, and the routes waiting for their logical time
        self.shields = [(c.text, Monitor(c.formula)) for c in ir.constraints if c.mode == "enforce"]
        self.deferred: list[tuple[tuple, _Inflight, dict[str, Any], bool]] = []
        self.shield_time = 0
        self.admitted: dict[int, set[str]] = {}
        self.finished = asyncio.Event()
        self.cancelled: list[asyncio.Task] = []  # to await: their calls are accounted then
        self.failure: BaseException | None = None
        self.result: Any = None
        self.returned_at: int | None = None
        # for human steps (runtime/human.py): the run that called this one as a node, the
        # keys of the firings that enclose it, the firings waiting for earlier ones (their
        # tasks → the tasks they wait for), and the agent runs of firings (key → runs)
        self.parent: AgentRun | None = None
        self.path: tuple[str, ...] = ()
        self.held: dict[Any, list[asyncio.Task]] = {}
        self.children: dict[str, list[AgentRun]] = {}

    def _inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        values = dict(self.ir.param_defaults)
        values.update(inputs)
        unknown = set(values) - set(self.ir.param_types)
        if unknown:
            raise RunError(
                f"agent `{self.ir.name}` has no parameter "
                f"`{sorted(unknown)[0]}`; it takes: {', '.join(self.ir.param_types)}"
            )
        missing = [p for p in self.ir.param_types if p not in values]
        if missing:
            raise RunError(f"agent `{self.ir.name}` needs the input `{missing[0]}`")
        try:
            return {name: coerce(self.ir.param_types[name], values[name]) for name in values}
        except ValidationError as error:
            raise RunError(f"invalid input for agent `{self.ir.name}`: {error}") from None

    # -- the run ---------------------------------------------------------------------------

    async def execute(self) -> Any:
        if self.events is not None:
            self.events.run_started(self.trace.inputs)
        for name, key in self.plan.entries:
            self.start(name, 1, key, {}, {})
        for index, ret in enumerate(self.ir.returns_):
            if not ret.deps:
                self.offer_return(1, index, _key(1, RETURN, index), ret.value, self.params)
        self.settle()
        try:
            await self.finished.wait()
        except asyncio.CancelledError:
            # cancelled from outside (a timeout, a parent firing cancelled): the firings
            # in flight are cancelled too, and awaited, so none outlives the run
            self.fail(RunError("the run was cancelled", self.trace))
            self._cancel_all()
            await asyncio.gather(*self.cancelled, return_exceptions=True)
            raise
        self.trace.returned_at = self.returned_at
        if self.failure is not None:
            self._cancel_all()
        if self.cancelled:  # let them record themselves (and charge what they spent)
            await asyncio.gather(*self.cancelled, return_exceptions=True)
        if self.failure is not None:
            raise self.failure
        self.trace.result = self.result
        self.check_constraints()
        return self.result

    def start(
        self,
        node: str,
        time: int,
        key: tuple,
        bindings: dict[str, Any],
        consumed: dict[str, _Output],
    ) -> None:
        if self.finished.is_set() or (
            self.winning is not None and not semantics.in_run(time, self.winning.time)
        ):
            self._record(FiringRecord(node=node, time=time, key=repr(key), status="skipped"))
            return
        flight = _Inflight(node, time, key, repr(key))
        self._launch(flight)
        if self.shields:
            self.admitted.setdefault(time, set()).add(node)
        flight.task = asyncio.get_running_loop().create_task(self.fire(flight, bindings, consumed))

    async def fire(
        self, flight: _Inflight, bindings: dict[str, Any], consumed: dict[str, _Output]
    ) -> None:
        node = self.ir.nodes[flight.node]
        record = self._begin(flight)
        try:
            env = await self.environment(node, flight.time, consumed)
            args = self.arguments(node, env, bindings)
            record.inputs = args
            if self.events is not None:
                self.events.firing_started(record)
            replayed, output = self._replayed(record)
            if not replayed:
                output = await self.call(node, args, env, record)
                if node.kind == "human":
                    output = await human.answers(self, flight, node, args, env, record, output)
        except asyncio.CancelledError:
            record.status = "paused" if flight.parked else "cancelled"
            self._finish_record(record)
            raise
        except (BudgetError, StoreError) as error:  # the run's fault, not the node's
            record.status, record.error = "failed", str(error)
            self._finish_record(record)
            self._land(flight.key)
            error.trace = self.trace
            self.fail(error)
            return
        except Exception as error:  # a failed firing: handled by `on error` edges, or fatal
            self.after(flight, partial(self._failed_firing, flight, node, record, error))
            return
        self.after(flight, partial(self._succeeded, flight, record, output))

    def after(self, flight: _Inflight, conclude: Callable[[], None]) -> None:
        """What follows a firing (routing, joins, returns). Whatever goes wrong there ends
        the run with an error: a task's exception must never leave the run waiting."""
        try:
            conclude()
            self.settle()
        except Exception as error:
            self.fail(
                RunError(
                    f"after `{flight.node}` fired: {type(error).__name__}: {error}", self.trace
                )
            )

    def _begin(self, flight: _Inflight) -> FiringRecord:
        return FiringRecord(
            node=flight.node,
            time=flight.time,
            key=flight.label,
            status="running",
            started=clock.perf_counter(),
        )

    def _replayed(self, record: FiringRecord) -> tuple[bool, Any]:
        """The checkpointed output of this firing, when resuming a run that had one."""
        if record.key in self.replay:
            record.notes.append("replayed from a checkpoint")
            return True, self.replay[record.key]
        return False, None

    def _failed_firing(
        self, flight: _Inflight, node: IRNode, record: FiringRecord, error: BaseException
    ) -> None:
        record.status, record.error = "failed", describe_error(error)
        self._finish_record(record)
        self._land(flight.key)
        self.failed(flight, node, error)

    def _succeeded(self, flight: _Inflight, record: FiringRecord, output: Any) -> None:
        record.status, record.output, record.ended = "ok", output, clock.perf_counter()
        self._record(record)
        self._land(flight.key)
        self.completed(flight, output)

    def _finish_record(self, record: FiringRecord) -> None:
        record.ended = clock.perf_counter()
        self._record(record)

    def _record(self, record: FiringRecord) -> None:
        self.trace.firings.append(record)
        if self.context.on_record is not None:
            self.context.on_record(record)
        if self.events is not None:
            self.events.firing_ended(record)
        if self.depth == 0 and self.context.checkpoint is not None and record.status == "ok":
            try:
                self.context.checkpoint(record)
            except StoreError as error:  # (a full disk: the run ends, saying what was kept)
                error.trace = self.trace
                self.fail(error)

    # -- inputs ------------------------------------------------------------------------------

    async def environment(
        self, node: IRNode, time: int, consumed: dict[str, _Output]
    ) -> dict[str, Any]:
        """Parameters, consumed outputs, and the latest outputs of nodes read before `time`."""
        env: dict[str, Any] = dict(self.params)
        for dep, output in consumed.items():
            env[dep] = output.value
        reads = self.reads[node.name]
        for name in sorted(reads - consumed.keys()) if reads else ():
            await self.wait_for_earlier(name, time)
            latest = sorted(
                (o for o in self.outputs[name] + self.failures[name] if o.time < time),
                key=lambda o: o.key,
            )
            env[name] = latest[-1].value if latest else None
        for function, name in self.plan.node_reads[node.name]:
            # `latest(x)` / `history(x)`: x's outputs before this firing, in key order
            # (logical time first): the same whatever the latencies
            await self.wait_for_earlier(name, time)
            before = sorted((o for o in self.outputs[name] if o.time < time), key=_BY_KEY)
            env[read_key(function, name)] = (
                [o.value for o in before]
                if function == "history"
                else (before[-1].value if before else None)
            )
        return env

    async def wait_for_earlier(self, producer: str, time: int) -> None:
        """Until no in-flight firing before `time` can still produce an output of `producer`."""
        while tasks := [
            f.task
            for f in self.inflight.values()
            if f.task and semantics.may_lead_to(f, producer, time, self.reach.reaches)
        ]:
            with human.holding(self, tasks):
                await asyncio.wait(tasks)

    def arguments(
        self, node: IRNode, env: Mapping[str, Any], bindings: Mapping[str, Any]
    ) -> dict[str, Any]:
        """What a firing passes: ports bound by the edge that fired it, else arguments
        (those that read a map's item are left to each item), else defaults."""
        args: dict[str, Any] = {}
        for name, argument, default, per_item in self.plan.arguments[node.name]:
            if name in bindings:
                args[name] = bindings[name]
            elif argument is None:
                args[name] = default
            elif not per_item:
                args[name] = argument(env)
        return args

    # -- calls --------------------------------------------------------------------------------

    async def call(
        self, node: IRNode, args: dict[str, Any], env: Mapping[str, Any], record: FiringRecord
    ) -> Any:
        """One firing: one call, `x N` calls, or one call per map item, in parallel."""
        if node.map_var is not None:
            items = evaluate(node.map_source, env) or []
            if node.map_max is not None and len(items) > node.map_max:
                record.notes.append(f"map over {len(items)} items cut to its bound {node.map_max}")
                items = items[: node.map_max]
            calls = []
            for index, item in enumerate(items):
                item_env = {**env, node.map_var: item}
                item_args = dict(args)
                for name, expr in node.args.items():
                    if _uses(expr, node.map_var):
                        item_args[name] = evaluate(expr, item_env)
                calls.append(self.call_once(node, item_args, index, record))
            return await _all(calls)
        if node.replicate:
            return await _all(self.call_once(node, args, i, record) for i in range(node.replicate))
        return await self.call_once(node, args, 0, record)

    async def call_once(
        self, node: IRNode, args: dict[str, Any], replica: int, record: FiringRecord
    ) -> Any:
        if node.kind == "tool":
            params, result = self.plan.tool_types[node.name]
            typed = {name: coerced(args.get(name)) for name, coerced in params}
            target, folder = node.target or "", node.target_folder
            return result(await self.call_tool(target, folder, typed, node.server, node.result))
        if node.kind == "agent":
            events = self.events.nested(node.subgraph.name, record.key) if self.events else None
            child = AgentRun(node.subgraph, args, self.context, self.depth + 1, events)
            try:
                with human.register_child(self, child, record.key, replica):
                    return await child.execute()
            finally:
                record.children.append(child.trace)
        if node.kind == "human":
            return await human.ask(self, node, args, replica, record)
        return await self.call_role(node, args, replica, record)

    async def call_tool(
        self,
        target: str,
        folder: str,
        args: dict[str, Any],
        server: Any = None,
        returns: Any = None,
    ) -> Any:
        """Call a tool on typed arguments: a plain function in a worker thread (so it never
        holds the loop), a coroutine function on the loop. It runs `beside` its `.agent`
        file, so its module's late imports of its neighbours work too. A tool of an MCP
        `server` is called through the run's session with it (runtime/mcp_tools.py), its
        result read for the declared type `returns`."""
        if server is not None:
            from .mcp_tools import sessions_of

            return await sessions_of(self.context).call(server, target, args, returns)
        function = self.context.tool(target, folder)
        with beside(folder):
            if not self.context.synchronous(target, folder):
                return await function(**args)  # (a coroutine function returns an awaitable)
            value = await call_in_thread(function, args, self.context.threads())
            if inspect.isawaitable(value):  # (a plain function that returns a coroutine)
                value = await value
        return value

    async def call_spec(self, spec: ToolSpec, args: dict[str, Any]) -> Any:
        """A tool called in a role's tool loop: arguments and result checked against its
        declaration."""
        typed = {name: coerce(t, args.get(name)) for name, t in spec.params}
        value = await self.call_tool(spec.target, spec.folder, typed, spec.server, spec.returns)
        return coerce(spec.returns, plain(value))

    async def call_role(
        self, node: IRNode, args: dict[str, Any], replica: int, record: FiringRecord
    ) -> Any:
        model = self.context.model_for(node)
        system = render_prompt(node.system, args, node.callee, "system") if node.system else ""
        prompt = render_prompt(node.prompt or "", args, node.callee)
        result_schema = schema(node.result)
        instructions = (
            "Reply with one JSON value that matches this JSON schema, and nothing "
            f"else:\n{json.dumps(result_schema)}"
        )
        messages: list[dict[str, Any]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": f"{prompt}\n\n{instructions}"})
        tools = tuple(_tool_schema(t) for t in node.tools)
        model_name, params = self.context.provider.resolve(node.model, node.model_params)
        problem = ""
        # the firing's place in the run: its key, under the firings of the agents that
        # enclose it (the replicas of a called agent make the same requests otherwise)
        calls = _CallCounter("/".join((*self.path, record.key)), replica)
        for attempt in range(MAX_REPAIRS + 1):
            request = ModelRequest(
                role=node.callee,
                node=node.name,
                model=model_name,
                messages=tuple(messages),
                schema=result_schema,
                params=params,
                tools=tools,
                replica=replica,
                attempt=attempt,
            )
            reply = await self.tool_loop(node, model, request, record, calls)
            try:
                value, step = read_reply(reply.content)
                if step != "strict":
                    record.notes.append(f"reply read leniently ({step})")
                return coerce(node.result, value)
            except (ValueError, ValidationError) as error:
                problem = explain(error)
                record.notes.append(f"invalid reply: {problem}")
                messages += [
                    {"role": "assistant", "content": quote(reply.content)},
                    {"role": "user", "content": repair_prompt(problem)},
                ]
        raise ModelOutputError(
            f"`{node.callee}` gave no valid `{node.result}` after {MAX_REPAIRS + 1} tries: "
            f"{problem}; its last reply: {quote(reply.content)!r}"
        )

    async def tool_loop(
        self,
        node: IRNode,
        model: Model,
        request: ModelRequest,
        record: FiringRecord,
        calls: _CallCounter,
    ) -> ModelReply:
        reply = await self._complete(model, calls.stamp(request), record)
        steps = 0
        messages = list(request.messages)
        while reply.tool_calls:
            if steps >= node.tool_steps:
                messages.append({"role": "user", "content": "No more tool calls: answer now."})
                final = ModelRequest(
                    **{**request.__dict__, "messages": tuple(messages), "tools": ()}
                )
                return await self._complete(model, calls.stamp(final), record)
            for call in reply.tool_calls:
                spec = next((t for t in node.tools if t.name == call.name), None)
                if spec is None:
                    outcome: Any = {"error": f"unknown tool {call.name!r}"}
                else:
                    try:
                        outcome = await self.call_spec(spec, call.arguments)
                    except Exception as error:  # the model sees the error and may recover
                        outcome = {"error": describe_error(error)}
                record.tool_calls.append(
                    {"tool": call.name, "arguments": call.arguments, "result": outcome}
                )
                messages.append(
                    {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [
                            {"id": call.id, "name": call.name, "arguments": call.arguments}
                        ],
                    }
                )
                messages.append(
                    {"role": "tool", "tool_call_id": call.id, "content": json.dumps(outcome)}
                )
            steps += 1
            request = ModelRequest(**{**request.__dict__, "messages": tuple(messages)})
            reply = await self._complete(model, calls.stamp(request), record)
        return reply

    async def _complete(
        self, model: Model, request: ModelRequest, record: FiringRecord
    ) -> ModelReply:
        return await make_call(
            model, request, Calls(self.context.budget, self.context.cache, self.events), record
        )

    # -- after a firing -------------------------------------------------------------------------

    def completed(self, flight: _Inflight, value: Any) -> None:
        output = _Output(value, flight.time, flight.key)
        _insert(self.outputs[flight.node], output)
        for consumer in self.consumers_of[flight.node]:
            queue = self.queues[consumer][flight.node]
            if not queue:
                self.empty[consumer] -= 1
            _insert(queue, output)
            self.dirty.add(consumer)
        if self.out_edges[flight.node]:
            env = self.latest_env(flight.node)
            env[flight.node] = value
            self.dispatch(flight, env, failed=False)

    def failed(self, flight: _Inflight, node: IRNode, error: BaseException) -> None:
        live = semantics.live(self.out_edges[flight.node], self.taken)
        if not semantics.route(live, failed=True, holds=_never):
            self.fail(FiringFailed(flight.node, error, self.trace))
            return
        failure = {"error": describe_error(error)}
        self.failures[flight.node].append(_Output(failure, flight.time, flight.key))
        env = self.latest_env(flight.node)
        env[flight.node] = failure
        self.dispatch(flight, env, failed=True)

    def latest_env(self, node: str) -> dict[str, Any]:
        """What the edges out of `node` read (their guards, ports and returns): the
        parameters, and the latest firing of each node they name — its output, or its
        failure (`x.error` reads that) when it failed last. Only the nodes they name: a
        firing's cost does not grow with the size of the agent."""
        env = dict(self.params)
        for name in self.plan.edge_reads[node]:
            outputs, failures = self.outputs[name], self.failures[name]
            if failures and (not outputs or failures[-1].key > outputs[-1].key):
                env[name] = failures[-1].value
            elif outputs:
                env[name] = outputs[-1].value
        return env

    def route(self, flight: _Inflight, env: dict[str, Any], *, failed: bool) -> None:
        """Take the explicit edges out of a finished firing (compiler/semantics.py), those
        an `enforce` shield allows: a `when` edge it blocks counts as false."""
        try:
            chosen = semantics.route(
                semantics.live(self.out_edges[flight.node], self.taken),
                failed=failed,
                holds=lambda e: bool(evaluate(e.guard, env)) and self.allowed(e, flight),
            )
        except EvaluationError as error:
            self.fail(FiringFailed(flight.node, error, self.trace))
            return
        if self.shields:
            chosen = [e for e in chosen if e.condition == "when" or self.allowed(e, flight)]
        time = semantics.after(flight.time)
        for edge in chosen:
            self.taken[edge.index] = self.taken.get(edge.index, 0) + 1
            key = _key(time, edge.target, "edge", edge.index, flight.key)
            if edge.kind == "return":
                self.offer_return(time, len(self.ir.returns_) + edge.index, key, edge.value, env)
            else:
                ports = {name: evaluate(expr, env) for name, expr in edge.ports.items()}
                self.start(edge.target, time, key, ports, {})

    def dispatch(self, flight: _Inflight, env: dict[str, Any], *, failed: bool) -> None:
        """Route now, or, under an `enforce` shield, once the firing's logical time is over."""
        if self.shields:
            self.deferred.append((flight.key, flight, env, failed))
        else:
            self.route(flight, env, failed=failed)

    def route_deferred(self) -> None:
        """Shielded agents route in logical-time order: the routes out of time t are taken,
        in key order, once no firing at t or before is still running, so that the shield
        decides on the whole trace so far, whatever the timing."""
        while self.deferred and not self.finished.is_set():
            time = min(flight.time for _, flight, _, _ in self.deferred)
            if any(f.time <= time for f in self.inflight.values()):
                return
            self.step_shields(time)
            batch = sorted((d for d in self.deferred if d[1].time == time), key=lambda d: d[0])
            self.deferred = [d for d in self.deferred if d[1].time != time]
            for _, flight, env, failed in batch:
                self.route(flight, env, failed=failed)

    def step_shields(self, upto: int) -> None:
        by_time = self._steps_by_time()
        for time in range(self.shield_time + 1, upto + 1):
            if time in by_time:
                for _, monitor in self.shields:
                    monitor.step(by_time[time])
        self.shield_time = max(self.shield_time, upto)

    def allowed(self, edge: IREdge, flight: _Inflight) -> bool:
        """Whether taking `edge` keeps every `enforce` formula satisfiable. Its target would
        fire at the next logical time, beside what was admitted there already; what its
        output will be is unknown, so conditions on it count as false."""
        if not self.shields:
            return True
        target = "return" if edge.kind == "return" else edge.target
        step = self.admitted.get(flight.time + 1, set()) | {target}
        for text, monitor in self.shields:
            trial = monitor.copy()
            trial.step(step)
            if (not trial.accepts()) if target == "return" else trial.verdict() is False:
                self._record(
                    FiringRecord(
                        node=target,
                        time=flight.time + 1,
                        key="",
                        status="skipped",
                        notes=[f"blocked by `enforce {text}`"],
                    )
                )
                return False
        return True

    def offer_return(
        self, time: int, order: int, key: tuple, expr: Any, env: Mapping[str, Any]
    ) -> None:
        try:
            value = coerce(self.ir.return_type, evaluate(expr, env))
        except (ValidationError, EvaluationError) as error:
            self.fail(
                RunError(
                    f"the return value does not fit `{self.ir.return_type}`: {explain(error)}",
                    self.trace,
                )
            )
            return
        self.offers.append(_Offer(time, order, key, value))
        self.winning = semantics.winner(self.offers)
        for flight in list(self.inflight.values()):
            if not semantics.in_run(flight.time, time) and flight.task is not None:
                flight.task.cancel()  # a later firing can only lead to a later return
                self.cancelled.append(flight.task)
                self._land(flight.key)

    def settle(self) -> None:
        """Consume what can be consumed; finish, or report a stall, when nothing is left."""
        if self.finished.is_set():
            return
        if self.shields:
            self.route_deferred()
        # Only consumers that received outputs, or were blocked by in-flight firings,
        # can join now; a consumer that cannot join stays dirty until it can.
        progress = True
        while progress:
            progress = False
            if self.shields:
                self.route_deferred()
            if len(self.dirty) < self.dirty_peak // 4:
                # a set keeps the table of its largest size: after a fan-out of thousands
                # it would cost that much to walk at every settle, so copy what is left
                self.dirty, self.dirty_peak = set(self.dirty), len(self.dirty)
            self.dirty_peak = max(self.dirty_peak, len(self.dirty))
            for consumer in sorted(self.dirty):
                if self.empty[consumer]:
                    self.dirty.discard(consumer)
                elif self.join(consumer):
                    progress = True
                    if self.empty[consumer]:
                        self.dirty.discard(consumer)
        if self.winning is not None:
            # A return at logical time T ends the run once every firing before T is done:
            # those complete (and may still offer an earlier return), those at T or after
            # are discarded — whatever the latencies, the same firings make the trace.
            time, value = self.winning.time, self.winning.value
            if semantics.return_decided(time, self.inflight_times):
                self.result, self.returned_at = value, time
                self._discard_from(time)
                self._cancel_all()
                self.finished.set()
                return
        elif not self.inflight:
            self.fail(Stalled(self.waiting(), self.trace))
            return
        human.check_paused(self)  # (all that is left waits for answers from people?)

    def join(self, consumer: str) -> bool:
        queues = self.queues[consumer]
        if not queues or self.empty[consumer]:
            return False
        if self.inflight_times:
            earliest = min(self.inflight_times)  # of the firings in flight
            for dep, queue in queues.items():
                head = queue[0].time
                if earliest < head and semantics.may_still_arrive(
                    dep, head, self.inflight.values(), self.reach.reaches
                ):
                    return False  # an earlier output of `dep` may still arrive
        consumed = semantics.join(queues)
        assert consumed is not None  # (no queue is empty)
        for queue in queues.values():
            if not queue:
                self.empty[consumer] += 1
        key = _join_key(consumer, list(consumed.values()))
        time = key[0]
        if consumer.startswith(RETURN):
            index = int(consumer[len(RETURN) :])
            env = {**self.params, **{d: o.value for d, o in consumed.items()}}
            self.offer_return(time, index, key, self.ir.returns_[index].value, env)
        else:
            self.start(consumer, time, key, {}, consumed)
        return True

    def _discard_from(self, time: int) -> None:
        """Firings at or after the winning return's time that ended before it was known
        (its branch was slow) are not part of the run."""
        for record in self.trace.firings:
            if not semantics.in_run(record.time, time) and record.status in ("ok", "failed"):
                record.status = "discarded"
                record.notes.append(f"after the return at logical time {time}")
                if self.events is not None:
                    self.events.firing_discarded(record, record.notes[-1])

    def fail(self, error: BaseException) -> None:
        if not self.finished.is_set():
            self.failure = error
            self.finished.set()

    def _cancel_all(self) -> None:
        for flight in list(self.inflight.values()):
            if flight.task is not None:
                flight.task.cancel()
                self.cancelled.append(flight.task)
        self.inflight.clear()
        self.inflight_times.clear()

    def _launch(self, flight: _Inflight) -> None:
        self.inflight[flight.key] = flight
        self.inflight_times[flight.time] = self.inflight_times.get(flight.time, 0) + 1

    def _land(self, key: tuple) -> None:
        """A firing is no longer in flight (it ended, or was cancelled)."""
        flight = self.inflight.pop(key, None)
        if flight is not None:
            left = self.inflight_times[flight.time] - 1
            if left:
                self.inflight_times[flight.time] = left
            else:
                del self.inflight_times[flight.time]

    def waiting(self) -> list[str]:
        lines = []
        for consumer, queues in self.queues.items():
            have = [d for d, q in queues.items() if q]
            missing = [d for d, q in queues.items() if not q]
            if have and missing:
                name = "the return" if consumer.startswith(RETURN) else f"`{consumer}`"
                lines.append(
                    f"{name} has {', '.join(f'`{d}`' for d in have)} and waits for "
                    f"{', '.join(f'`{d}`' for d in missing)}"
                )
        return lines

    # -- constraints ------------------------------------------------------------------------------

    def _steps_by_time(self) -> dict[int, set[str]]:
        """Completed firings grouped by logical time, with the conditions that held."""
        conditions = [
            (proposition(atom), holds(atom.expr), references(atom.expr))
            for c in self.ir.constraints
            for atom in c.formula.walk()
            if isinstance(atom, ast.LtlHolds)
        ]
        return ltl_steps(self.trace.firings, conditions, self.params)

    def steps(self) -> list[set[str]]:
        """The trace as LTL steps: firings grouped by logical time, then the return."""
        by_time = self._steps_by_time()
        steps = [by_time[t] for t in sorted(by_time)]
        if self.returned_at is not None:
            steps.append({"return"})
        return steps

    def check_constraints(self) -> None:
        if not any(c.mode == "ensure" for c in self.ir.constraints):
            return
        steps = self.steps()
        for constraint in self.ir.constraints:
            if constraint.mode == "ensure" and not evaluate_formula(constraint.formula, steps):
                raise ConstraintViolation(constraint.text, [sorted(s) for s in steps], self.trace)


@dataclass
class _Plan:
    """What a run derives from the IR alone, computed once per IR."""

    out_edges: dict[str, list[IREdge]]  # the explicit edges out of each node
    reach: Reachability  # which node can lead to which (a node leads to itself)
    edge_reads: dict[str, frozenset[str]]  # the nodes each node's explicit edges read
    consumers: dict[str, list[str]]  # the joins each node's outputs go to
    reads: dict[str, frozenset[str]]  # the nodes each node's arguments read
    # per node: its `latest(x)` / `history(x)` reads, as (function, x)
    node_reads: dict[str, tuple[tuple[str, str], ...]]
    # per node, per parameter: (name, its argument compiled, or None: the default, and
    # whether the argument reads a map's item, so is evaluated per item)
    arguments: dict[str, list[tuple[str, Evaluator | None, Any, bool]]]
    entries: list[tuple[str, tuple]]  # the nodes that fire at start and their keys
    joins: list[tuple[str, tuple[str, ...]]]  # each consumer and the nodes it joins
    # per tool node: how its arguments and its result are coerced to their types
    tool_types: dict[str, tuple[list[tuple[str, Callable[[Any], Any]]], Callable[[Any], Any]]]


def _plan(ir: AgentIR) -> _Plan:
    # (read from the private attributes' dict: pydantic's attribute lookup for private
    # attributes costs microseconds, and each run reads the plan)
    cached = ir.__pydantic_private__.get("_plan")  # type: ignore[union-attr]
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    out_edges: dict[str, list[IREdge]] = {name: [] for name in ir.nodes}
    for edge in ir.edges:
        if edge.kind != "data" and edge.source in out_edges:
            out_edges[edge.source].append(edge)
    successors: dict[str, set[str]] = {name: set() for name in [*ir.nodes, RETURN]}
    for edge in ir.edges:
        if edge.source in ir.nodes:
            successors[edge.source].add(edge.target)
    for ret in ir.returns_:
        for dep in ret.deps:
            successors[dep].add(RETURN)
    reach = Reachability(successors)
    reach.ancestors(RETURN)  # asked of every firing in flight when a return is offered
    edge_reads = {
        name: frozenset(
            head
            for edge in edges
            for expr in (edge.guard, edge.value, *edge.ports.values())
            for head in references(expr)
            if head in ir.nodes
        )
        for name, edges in out_edges.items()
    }
    consumers: dict[str, list[str]] = {name: [] for name in ir.nodes}
    for name, node in ir.nodes.items():
        for dep in node.deps:
            consumers[dep].append(name)
    for index, ret in enumerate(ir.returns_):
        for dep in ret.deps:
            consumers[dep].append(f"{RETURN}{index}")
    reads: dict[str, frozenset[str]] = {}
    node_reads: dict[str, tuple[tuple[str, str], ...]] = {}
    arguments: dict[str, list[tuple[str, Evaluator | None, Any, bool]]] = {}
    node_names = set(ir.nodes)
    for name, node in ir.nodes.items():
        found: set[str] = set()
        calls: dict[tuple[str, str], None] = {}
        for expr in [*node.args.values(), node.map_source]:
            if expr is not None:
                calls.update(dict.fromkeys(read_calls(expr)))
                found |= plain_heads(expr)
        node_reads[name] = tuple(calls)
        reads[name] = frozenset(found & node_names)
        arguments[name] = [
            (
                param,
                compiled_expression(node.args[param]) if param in node.args else None,
                default,
                param in node.args
                and node.map_var is not None
                and _uses(node.args[param], node.map_var),
            )
            for param, _, default in node.params
        ]
    tool_types = {
        name: (
            [(param, coercer(t)) for param, t, *_ in node.params],
            result_coercer(node.result),
        )
        for name, node in ir.nodes.items()
        if node.kind == "tool"
    }
    entries = [(name, _key(1, name, "entry")) for name in sorted(ir.nodes) if ir.nodes[name].entry]
    joins = [(name, node.deps) for name, node in ir.nodes.items()]
    joins += [(f"{RETURN}{index}", tuple(ret.deps)) for index, ret in enumerate(ir.returns_)]
    plan = _Plan(
        out_edges,
        reach,
        edge_reads,
        consumers,
        reads,
        node_reads,
        arguments,
        entries,
        joins,
        tool_types,
    )
    ir._plan = plan
    return plan


def _insert(outputs: list[_Output], output: _Output) -> None:
    """Add an output to a list kept in key order (it usually comes last)."""
    outputs.append(output)
    if len(outputs) > 1 and outputs[-2].key > output.key:
        outputs.sort(key=_BY_KEY)


_BY_KEY = operator.attrgetter("key")


def _key(time: int, node: str, *cause: Any) -> tuple:
    """A firing's key: its logical time, its node, and a fixed-size digest of its cause.

    Deterministic across processes (resuming matches keys), and small whatever the
    length of the run."""
    digest = hashlib.blake2b(repr(cause).encode(), digest_size=8).hexdigest()
    return (time, node, digest)


def _join_key(consumer: str, heads: list[_Output]) -> tuple:
    """The key of a firing that joins `heads`, one after the latest of them. With one
    head, the head's digest serves: it is unique for this consumer at this time already
    (the head's node is the consumer's only dependency, its time the one before), and
    chains and fan-outs, the common joins, need no hashing."""
    if len(heads) == 1:
        (head,) = heads
        return (semantics.join_time((head.time,)), consumer, head.key[2])
    time = semantics.join_time(head.time for head in heads)
    return _key(time, consumer, "join", *[h.key for h in heads])


def _never(edge: IREdge) -> bool:
    return False


def _uses(expr: Any, name: str) -> bool:
    return any(r.head == name for r in expr.find_all(ast.Ref))


async def _all(calls: Any) -> list[Any]:
    """Every call's result, in order; when one fails, the others are cancelled and awaited
    (so what they spent is accounted) before the failure goes on."""
    tasks = [asyncio.ensure_future(call) for call in calls]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


class _CallCounter:
    """Numbers the calls of one firing's replica, in order: with the firing's key, a
    call's place in the run (the response cache's key)."""

    def __init__(self, firing: str, replica: int):
        self.firing, self.replica, self.count = firing, replica, 0

    def stamp(self, request: ModelRequest) -> ModelRequest:
        self.count += 1
        return dataclasses.replace(request, firing=self.firing, call=self.count)


def _tool_schema(tool: Any) -> dict[str, Any]:
    return {
        "name": tool.name,
        "parameters": {
            "type": "object",
            "properties": {n: schema(t) for n, t in tool.params},
            "required": [n for n, _ in tool.params],
        },
    }
