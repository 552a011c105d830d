"""The scheduler: runs an agent's IR, eagerly and in parallel, with DESIGN §3's semantics.

A firing starts as soon as its inputs exist (there is no superstep barrier). Every
firing has a deterministic *key* — its logical time, its node and its cause
(runtime/keys.py) — and the decisions that depend on order use keys, not wall-clock
arrival. The rules themselves are compiler/semantics.py's, shared with the explorer:

- routing after a firing (`live`, `route`), and the logical time of what it starts;
- the AND-join (`join`): a consumer's queued outputs are consumed in key order (the
  i-th draft meets the i-th review), and it waits only while an in-flight firing that
  can reach the producer it waits on has an earlier logical time (`may_still_arrive`:
  an unrelated slow branch never holds it back); reads of an ancestor's latest output
  wait the same way;
- returns: the earliest return wins (`winner`) once no firing before it is in flight
  (`end_decided`); every firing at its time or after is cancelled, skipped, or
  discarded (`in_run`).

So for deterministic models the trace is the same whatever the timing. A firing runs in
an asyncio task of its own; or in the task of the firing whose end started it, which
carries it (`fire`: a chain, a loop); or with none, when its tool is a `@nonblocking`
function or an `async def` that cannot suspend (`fire_inline`, run by `settle`). A
firing that has not begun, with or without a task, is dropped alike when a return makes
it pointless. What a firing does once started is runtime/firing.py's; constraints are
runtime/constraints.py's. (About 700 lines: the run's state and the handlers that
change it — start, end, route, join, return — are one piece; split further, each part
would reach into the others'.)
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import operator
import time as clock
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from contextvars import copy_context
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import ValidationError

from rolegraph.compiler import semantics
from rolegraph.compiler.ir import RETURN, AgentIR, IREdge, IRNode
from rolegraph.compiler.ltl import Monitor
from rolegraph.compiler.pyimport import call_beside, working_folder

from . import constraints, firing, human, tools
from .budget import BudgetError
from .context import Context
from .errors import CancelledItself, FiringFailed, RunError, Stalled, StoreError, describe_error
from .expressions import EvaluationError, Evaluator
from .keys import edge_key, firing_key, join_key, label
from .plan import plan_of
from .repair import explain
from .store import Saves
from .tools import INLINE, LOOP
from .trace import FiringRecord, Trace, running_record
from .values import agent_inputs, coerce

if TYPE_CHECKING:
    from .events import RunEvents


class Output(NamedTuple):
    """An output (or a failure) of a firing, as joins and reads see it."""

    value: Any
    time: int
    key: tuple
    label: str  # the key as the trace writes it (`repr(key)`: a join's key is written around it)


class Offer(NamedTuple):
    """A return offered, or a failure that fails the run (compiler/semantics.py `Offer`:
    whichever is the earliest ends the run, `settle`)."""

    time: int
    order: int
    label: str  # its key as the trace writes it
    value: Any
    failure: BaseException | None = None


@dataclass(slots=True)
class Inflight:
    """A firing started and not yet ended."""

    node: str
    time: int
    key: tuple
    label: str  # the key as the trace writes it
    task: asyncio.Task | None = None
    parked: bool = False  # a human step waiting for its answer (runtime/human.py)


# a firing started and not yet begun: its flight, the ports its edge bound, what it joined
Started = tuple[Inflight, dict[str, Any], dict[str, Output]]
# a firing ended and not yet routed: its key, its flight, its output or failure, its error
Finished = tuple[tuple, Inflight, Any, BaseException | None]

# the most firings a run runs in a row, however they were started (a task carrying the
# firings that its firing's end started, `AgentRun.fire`; `settle` running those with no
# task, `_run_ready`), before the loop gets a turn (`AgentRun.streak`)
CARRY = 32


class AgentRun:
    """One run of one agent. `await AgentRun(ir, inputs, context).execute()`."""

    # (its state in slots, each set by `__init__`, which says what it is: some fifty
    # attributes, more than an instance's dict shares its keys for in CPython 3.11 (30),
    # so as a dict they made a run ~12,000 machine instructions dearer to make, and every
    # `self.x` of every firing a check of the dict's entry at a hinted index, where a
    # slot is read at a fixed offset; bench/RESULTS.md runtime-s18; `__weakref__`: a run,
    # the executor's public entry, may still be referred to weakly, as before)
    __slots__ = (
        "__weakref__",
        "admitted",
        "behind",
        "by_node",
        "cancelled",
        "carried",
        "carrier",
        "checkpoint",
        "children",
        "context",
        "depth",
        "dirty",
        "dirty_peak",
        "empty",
        "events",
        "failure",
        "failures",
        "finished",
        "flying",
        "held",
        "inflight",
        "inflight_times",
        "inline",
        "interrupted",
        "ir",
        "last_time",
        "offers",
        "on_record",
        "outputs",
        "outside",
        "over",
        "params",
        "parent",
        "path",
        "plan",
        "python_calls",
        "queues",
        "ready",
        "replay",
        "result",
        "resume",
        "returned_at",
        "routes",
        "saves",
        "shield_time",
        "shields",
        "streak",
        "taken",
        "told",
        "trace",
        "turn",
        "unread",
        "unrouted",
        "winning",
    )

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
            from .events import RunEvents  # (only a run told as events loads its module)

            self.events = RunEvents(context.on_event, ir.name, depth, ())
        self.params = agent_inputs(ir, inputs)
        self.trace = Trace(ir.name, dict(self.params))  # (by position: ~1,800 a run fewer)
        self.plan = plan = plan_of(ir)
        # per node, its outputs (those a run may read back: `Plan.kept`) and its failures,
        # in key order (a node's list is made when it is first read or written: a run of
        # a small agent is made in a few µs)
        self.outputs: defaultdict[str, list[Output]] = defaultdict(list)
        self.failures: defaultdict[str, list[Output]] = defaultdict(list)
        # per consumer (a node, or `<return>i`), a queue of outputs per node it joins;
        # and how many of its queues are empty: it joins at 0 (a count, not a look at
        # every queue, since a join of many nodes hears from each in turn). A consumer of
        # one node (most) has its queue made at its first output queued (`_succeeded`):
        # one handed its outputs never has one (~1,300 machine instructions a consumer
        # a run, bench/RESULTS.md runtime-s19); the others' are made here, by loops (a
        # nested comprehension is a function called at every step).
        self.queues: dict[str, dict[str, list[Output]]] = {}
        for consumer, deps in plan.wide_joins:
            queues: dict[str, list[Output]] = {}
            for dep in deps:
                queues[dep] = []
            self.queues[consumer] = queues
        self.empty: dict[str, int] = plan.join_sizes.copy()
        # the firings in flight, by label (a string: its hash is kept, where a key's is not)
        self.inflight: dict[str, Inflight] = {}
        # the same firings by node, then label (`_blocker` looks up the nodes that lead to
        # what a route reads, `Plan.feeders`, not every firing): made at its first use
        # (`_by_node`), then kept with `inflight` (`start`, `_land`); None until then
        self.by_node: dict[str, dict[str, Inflight]] | None = None
        # per node that may fire twice at one logical time and is joined (`Plan.twice`),
        # the keys (and labels) of its firings started, in a heap: its least-keyed firing
        # in flight is at the top once those landed are dropped from it (`_least_in_flight`)
        self.flying: dict[str, list[tuple[tuple, str]]] = (
            {node: [] for node in plan.twice if plan.consumers[node]} if plan.twice else {}
        )
        self.inflight_times: dict[int, int] = {}  # logical time → firings in flight at it
        self.taken: dict[int, int] = {}
        self.offers: list[Offer] = []  # the returns (and failures of the run) offered so far
        self.winning: Offer | None = None  # the earliest of them (semantics.winner)
        self.outside: int | None = None  # the times it leaves out of the run (`outside`)
        self.replay = context.replay if depth == 0 else {}  # checkpointed outputs, by key
        self.dirty: set[str] = set()  # consumers that received an output since they joined
        self.dirty_peak = 0  # the most `dirty` held since it was last copied
        # `enforce` shields: their monitors, and the routes waiting for their logical time
        self.shields = (
            [(c.text, Monitor(c.formula)) for c in ir.constraints if c.mode == "enforce"]
            if ir.constraints
            else []
        )
        # the finished firings whose edges are still to be taken (`_take_routes`, once the
        # joins that can be made are: `settle`): those to try at the next `settle`; those
        # that wait for a firing in flight (by its label) or for the route of another (by
        # its label, `behind`); and all of them, per node, by label (`_blocker`)
        self.routes: list[Finished] = []
        self.unread: dict[str, list[Finished]] = {}
        self.behind: dict[str, list[Finished]] = {}
        self.unrouted: dict[str, dict[str, Inflight]] = {}
        self.shield_time = 0
        self.admitted: dict[int, set[str]] = {}
        self.finished = asyncio.Event()
        self.over = False  # (`finished.is_set()`, read at every firing)
        self.cancelled: list[asyncio.Task] = []  # to await: their calls are accounted then
        # firings started with no task of their own (a `@nonblocking` tool's): `settle`
        # runs them, in the order they started, before it returns
        self.ready: deque[Started] = deque()
        self.resume: asyncio.Task | None = None  # `_run_ready` goes on at the next turn
        # the firings run in a row since the run last waited for a turn of the loop: at
        # `CARRY`, the next waits for one (`_wait_turn`), when the count begins again
        self.streak = 0
        self.turn: asyncio.Handle | None = None  # (`_turned`, at the loop's next turn)
        # while a firing's task concludes it: that task, which may carry one firing started
        # meanwhile (`carried`) once it is done (`fire`)
        self.carrier: asyncio.Task | None = None
        self.carried: Started | None = None
        self.failure: BaseException | None = None
        self.result: Any = None
        self.returned_at: int | None = None
        self.interrupted = False  # cancelled from outside (not ended by a return)
        # for human steps (runtime/human.py): the run that called this one as a node, the
        # keys of the firings that enclose it, the firings waiting for earlier ones (their
        # tasks → the tasks they wait for), and the agent runs of firings (key → runs)
        self.parent: AgentRun | None = None
        self.path: tuple[str, ...] = ()
        # per Python tool node, its call (`python_call`); per node, whether it runs inline
        self.python_calls, self.inline = self._calls()
        # who is told of each record (`record`): a nested run checkpoints nothing
        self.on_record = context.on_record
        self.checkpoint = context.checkpoint if depth == 0 else None
        # whether anyone is told of a record (`record`: one test, not three, per firing)
        self.told = (
            self.on_record is not None or self.events is not None or self.checkpoint is not None
        )
        # the store's list of the run's firings not yet written when nobody else listens:
        # a firing that succeeded goes on it at once (`_succeeded`: `_tell`'s three tests,
        # made here once, and no call unless the store must write)
        checkpoint = self.checkpoint
        self.saves = (
            checkpoint
            if isinstance(checkpoint, Saves) and self.on_record is None and self.events is None
            else None
        )
        self.last_time = 0  # the latest logical time of a record (`_discard_from`)
        self.held: dict[Any, list[asyncio.Task]] = {}
        self.children: dict[str, list[AgentRun]] = {}

    # -- the run ---------------------------------------------------------------------------

    async def execute(self) -> Any:
        if self.events is not None:
            self.events.run_started(self.trace.inputs)
        for name, key in self.plan.entries:
            self.start(name, 1, key, _UNBOUND, _NOTHING)
        for index, ret in enumerate(self.ir.returns_):
            if not ret.deps:
                key = firing_key(1, RETURN, index)
                self.offer_return(1, index, key, self.plan.returns[index], self.params)
        self.settle()
        try:
            if not self.over:  # (a run of `@nonblocking` tools may be over already)
                await self.finished.wait()
        except asyncio.CancelledError:
            # cancelled from outside (a timeout, a parent firing cancelled, a server that
            # stops): the firings in flight are cancelled too, and awaited, so none
            # outlives the run; questions asked stay asked (it may be resumed)
            self.interrupted = True
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
        if self.ir.constraints:
            constraints.check_constraints(self)
        return self.result

    def start(
        self,
        node: str,
        time: int,
        key: tuple,
        bindings: dict[str, Any],
        consumed: dict[str, Output],
    ) -> None:
        if self.over or (self.outside is not None and not semantics.in_run(time, self.outside)):
            self.record(FiringRecord(node=node, time=time, key=repr(key), status="skipped"))
            return
        # (`Inflight(node, time, key, label)` without `__init__`'s frame, each slot set as
        # it sets it: ~1,000 machine instructions a firing; tests/test_firing_bookkeeping.py)
        flight = _make(Inflight)
        flight.node = node
        flight.time = time
        flight.key = key
        flight.label = label(key, self.plan.quoted[node])
        flight.task = None
        flight.parked = False
        self.inflight[flight.label] = flight
        times = self.inflight_times
        times[time] = times.get(time, 0) + 1
        if self.by_node is not None:
            self.by_node.setdefault(node, {})[flight.label] = flight
        flying = self.flying
        if flying and node in flying:
            self._fly(flying[node], flight)
        if self.shields:
            self.admitted.setdefault(time, set()).add(node)
        inline = self.inline.get(node)
        if inline is None:
            inline = self._inline(node)
        if inline and (consumed or not self.plan.reads[node]):
            self.ready.append((flight, bindings, consumed))
        elif (
            self.carrier is not None
            and self.carried is None
            and node in self.plan.carriable
            and (consumed or not self.plan.reads[node])
        ):
            self.carried = (flight, bindings, consumed)  # (`fire` runs it next, in its task)
        else:
            flight.task = asyncio.get_running_loop().create_task(
                self.fire(flight, bindings, consumed)
            )

    def _inline(self, node: str) -> bool:
        """Whether the firings of `node` run with no task (when they read nothing they may
        have to wait for: `start`): it calls a `@nonblocking` Python tool once, or an
        `async def` that cannot suspend (`python_call`)."""
        if node not in self.plan.python_tools:
            self.inline[node] = False
            return False
        try:
            inline = self.inline[node] = self.python_call(node)[2] == INLINE
        except Exception:  # (it cannot be imported: its firing fails, and says why; the
            return False  # next firing asks again)
        return inline

    def _calls(self) -> tuple[dict[str, firing.PythonCall], dict[str, bool]]:
        """Where this run keeps its Python tool nodes' calls (`python_call`) and which
        nodes run inline (`_inline`). A context given no tools imports each function
        (runtime/context.py), the same in every run from the same working directory
        while no function is marked `@nonblocking`: those runs share these tables, in
        the plan."""
        if self.context.tools:
            return {}, {}
        place = (working_folder(), tools.marks())  # (a function marked since: found again)
        calls = self.plan.calls
        found = calls.get(place)
        if found is None:
            for stale in [p for p in calls if p[1] != place[1]]:
                del calls[stale]  # (of marks before: never read again)
            found = calls[place] = ({}, {})
        return found

    def python_call(self, node: str) -> firing.PythonCall:
        """A Python tool node's call (`plan.python_tools`), found at its first firing
        (what the context holds: it cannot change during the run; `_calls`). Raises what
        importing the function raises."""
        found = self.python_calls.get(node)
        if found is None:
            target, folder = self.plan.python_tools[node]
            function = self.context.tool(target, folder)
            how = self.context.how_called(target, folder)
            entry = call_beside  # (what `fire_inline` calls, in a copy of the context)
            if how == LOOP and tools.never_suspends(function):  # (run inline, to its end)
                how, entry = INLINE, tools.call_through
            params, result, result_as_is = self.plan.tool_types[node]
            names = firing.joined_names(self.ir.nodes[node])
            found = self.python_calls[node] = (
                function,
                folder,
                how,
                params,
                result,
                names,
                entry,
                result_as_is,
            )
        return found

    async def fire(
        self, flight: Inflight, bindings: dict[str, Any], consumed: dict[str, Output]
    ) -> None:
        """A firing, as a task: its inputs gathered (it may wait for earlier firings), its
        call made, and what follows it. Then, in the same task, the first firing that
        its end started, when that one may be carried (`start`): a task and a turn of
        the loop fewer, while the run has run fewer than `CARRY` firings in a row
        (`streak`)."""
        task = flight.task
        while True:
            self.streak += 1
            node = self.ir.nodes[flight.node]
            record = running_record(flight.node, flight.time, flight.label, None, _now())
            plan = self.plan
            try:
                # (a Python function, called once: found when it started, `_inline`)
                tool = node.name in plan.python_tools
                call = self.python_calls.get(node.name) if tool else None
                env: Mapping[str, Any] = _UNBOUND
                if (
                    call is not None
                    and call[2] == LOOP
                    and call[5] is not None
                    and consumed
                    and not bindings
                ):
                    # an `async def` whose arguments name nodes it joined: what it consumed
                    # (threads evaluate them, as every other firing: the tests' oracle)
                    args = firing.joined_arguments(call[5], consumed)
                elif (
                    call is not None
                    and call[2] == LOOP
                    and bindings
                    and not plan.reads[node.name]
                    and bindings.keys() >= plan.parameters[node.name]
                ):
                    # the edge that started it binds every parameter: no environment (it
                    # reads no node, so it would wait for none; `fire_inline` does the same)
                    args = firing.arguments(plan, node, _UNBOUND, bindings)
                else:
                    if plan.reading[node.name] or (plan.reads[node.name] and not consumed):
                        # it reads latest outputs (beside those a join consumed): it may wait
                        env = await firing.environment(self, node, flight.time, consumed)
                    else:
                        env = firing.given(self.params, consumed)
                    args = firing.arguments(plan, node, env, bindings)
                record.inputs = args
                if self.events is not None:
                    self.events.firing_started(record)
                replayed, output = self._replayed(record) if self.replay else (False, None)
                if not replayed:
                    if tool:
                        call = call or self.python_call(node.name)
                        output = await firing.call_python(self, node, args, call)
                    elif plan.single[node.name]:  # (one call: no replicas or items to gather)
                        output = await firing.call_once(self, node, args, 0, record)
                    else:
                        output = await self.call(node, args, env, record)
                    if node.kind == "human":
                        output = await human.answers(self, flight, node, args, env, record, output)
            except asyncio.CancelledError:
                if _cancelled_from_outside():
                    self._cancelled(flight, record)
                    raise
                failure: Exception | None = CancelledItself()
            except Exception as error:
                if self._faulted(flight, record, error):
                    return
                failure = error
            else:
                failure = None
            # (nothing else runs until `after` returns: no other task can start waiting)
            if self.streak >= CARRY:
                self._wait_turn()  # (what this firing's end starts gets a task)
            elif not (self.held and any(task in w for w in self.held.values())):
                self.carrier = task
            try:
                try:  # (`after`, with no `partial` to make)
                    if failure is None:
                        self._succeeded(flight, record, output)
                    else:
                        self._failed_firing(flight, node, record, failure)
                    self.settle()
                except Exception as error:
                    self._broken(flight, error)
            finally:
                self.carrier = None
            following, self.carried = self.carried, None
            if following is None:
                return
            flight, bindings, consumed = following
            if self.inflight.get(flight.label) is not flight:
                return  # (a return made it pointless before it began)
            flight.task = task

    def fire_inline(
        self, flight: Inflight, bindings: dict[str, Any], consumed: dict[str, Output]
    ) -> None:
        """A firing with no task (`_inline`), here and now: what `fire` does, its call a
        plain one. What follows it is left to `settle`, which runs it."""
        name = flight.node
        started = _now()
        call = self.python_calls[name]  # (found by `_inline`)
        names = call[5]
        try:
            if names is not None and consumed and not bindings:
                args = {}  # (`firing.joined_arguments`, one frame fewer)
                for param, dep in names:
                    if isinstance(dep, str):
                        args[param] = consumed[dep].value
                    else:
                        args[param] = [consumed[item].value for item in dep]
            elif bindings and bindings.keys() >= self.plan.parameters[name]:
                # the edge that started it binds every parameter: no environment to build
                args = firing.arguments(self.plan, self.ir.nodes[name], _UNBOUND, bindings)
            else:
                env = firing.given(self.params, consumed)
                args = firing.arguments(self.plan, self.ir.nodes[name], env, bindings)
        except Exception as error:
            record = running_record(name, flight.time, flight.label, None, started)
            self._inline_failed(flight, self.ir.nodes[name], record, error)
            return
        record = running_record(name, flight.time, flight.label, args, started)
        try:
            if self.events is not None:
                self.events.firing_started(record)
            replayed, output = self._replayed(record) if self.replay else (False, None)
            if not replayed:
                # (`call_beside` itself, or `tools.call_through` for an `async def`: the
                # arguments typed, the function called in its import scope, here and
                # now; two frames fewer)
                typed = {}
                for param, as_is, coerced in call[3]:
                    # (a value its coercer would return as it is, not given to it: a
                    # frame fewer, `values.as_is`)
                    value = args.get(param)
                    typed[param] = value if type(value) is as_is else coerced(value)
                # (in a copy of the context, as a task or a worker thread would call it:
                # what it sets is not seen by the firings this task runs after it)
                entry = call[6]
                output = copy_context().run(entry, call[1], call[0], typed)
                if (
                    type(output) not in _PLAIN
                    and entry is call_beside
                    and inspect.isawaitable(output)
                ):
                    # (it returned an awaitable after all: a task awaits it; cancelled
                    # before its first step, it never does, and the awaitable is closed)
                    task = flight.task = asyncio.get_running_loop().create_task(
                        self._awaited(flight, self.ir.nodes[name], record, output)
                    )
                    task.add_done_callback(partial(_abandon, output))
                    return
                if type(output) is not call[7]:  # (else its coercer returns it as it is)
                    output = call[4](output)
            self._succeeded(flight, record, output)
        except asyncio.CancelledError:  # (a plain call: nothing can cancel it from outside)
            self._inline_failed(flight, self.ir.nodes[name], record, CancelledItself())
        except Exception as error:
            self._inline_failed(flight, self.ir.nodes[name], record, error)

    def _inline_failed(
        self, flight: Inflight, node: IRNode, record: FiringRecord, error: Exception
    ) -> None:
        if record.status != "running":  # (what followed the call failed)
            self._broken(flight, error)
        elif not self._faulted(flight, record, error):
            try:
                self._failed_firing(flight, node, record, error)
            except Exception as broken:
                self._broken(flight, broken)

    async def _awaited(
        self, flight: Inflight, node: IRNode, record: FiringRecord, pending: Any
    ) -> None:
        """An inline firing whose `@nonblocking` function returned an awaitable: awaited,
        and concluded as `fire` concludes."""
        try:
            output = await firing.inline_awaited(self, node, pending)
        except asyncio.CancelledError:
            if _cancelled_from_outside():
                self._cancelled(flight, record)
                raise
            failed = CancelledItself()
            self.after(flight, partial(self._failed_firing, flight, node, record, failed))
            return
        except Exception as error:
            if not self._faulted(flight, record, error):
                self.after(flight, partial(self._failed_firing, flight, node, record, error))
            return
        self.after(flight, partial(self._succeeded, flight, record, output))

    def _cancelled(self, flight: Inflight, record: FiringRecord) -> None:
        record.status = "paused" if flight.parked else "cancelled"
        self._finish_record(record)

    def _faulted(self, flight: Inflight, record: FiringRecord, error: Exception) -> bool:
        """Whether a firing's error is the run's fault (its budget, its store), not the
        node's: then the firing is recorded failed, and the run ends with that error."""
        if not isinstance(error, BudgetError | StoreError):
            return False
        record.status, record.error = "failed", str(error)
        self._finish_record(record)
        self._land(flight.label)
        error.trace = self.trace
        self.fail(error)
        return True

    async def call(
        self, node: IRNode, args: dict[str, Any], env: Mapping[str, Any], record: FiringRecord
    ) -> Any:
        """The firing's call (runtime/firing.py)."""
        return await firing.call(self, node, args, env, record)

    def after(self, flight: Inflight, conclude: Callable[[], None]) -> None:
        """What follows a firing (routing, joins, returns). Whatever goes wrong there ends
        the run with an error: a task's exception must never leave the run waiting."""
        try:
            conclude()
            self.settle()
        except Exception as error:
            self._broken(flight, error)

    def _broken(self, flight: Inflight, error: Exception) -> None:
        self.fail(
            RunError(f"after `{flight.node}` fired: {type(error).__name__}: {error}", self.trace)
        )

    def _replayed(self, record: FiringRecord) -> tuple[bool, Any]:
        """The checkpointed output of this firing, when resuming a run that had one."""
        if record.key in self.replay:
            record.notes.append("replayed from a checkpoint")
            return True, self.replay[record.key]
        return False, None

    def _failed_firing(
        self, flight: Inflight, node: IRNode, record: FiringRecord, error: BaseException
    ) -> None:
        record.status, record.error = "failed", describe_error(error)
        self._finish_record(record)
        self._land(flight.label)
        self.failed(flight, node, error)

    def _succeeded(self, flight: Inflight, record: FiringRecord, output: Any) -> None:
        """A firing that succeeded: its record, then its output kept, queued for the joins
        that consume it, and routed."""
        record.status = "ok"
        record.output = output
        record.ended = _now()
        self.trace.firings.append(record)  # (`record`, one frame fewer)
        if record.time > self.last_time:
            self.last_time = record.time
        if self.told:
            saves = self.saves
            if saves is None:
                self._tell(record)
            else:  # (`_tell`, when the store alone listens: the record is "ok")
                saves.append(record)  # (`Saves.__call__`, the time read once: `ended`)
                if record.ended > saves.due or len(saves) >= saves.batch:
                    try:
                        saves.check()
                    except StoreError as error:
                        error.trace = self.trace
                        self.fail(error)
        if self.inflight.pop(flight.label, None) is not None:  # (`_land`)
            times, time = self.inflight_times, flight.time
            left = times[time] - 1
            if left:
                times[time] = left
            else:
                del times[time]
            if self.by_node is not None:
                _unindex(self.by_node, flight)
        # its route (`conclude`): taken now when nothing can come before it (`_blocker`,
        # where it is plain: it waits for nothing, or nothing is in flight, to be joined
        # or to be routed), else by `settle`, after the joins (`_take_routes`). Then its
        # output: kept (when it may be read back: `Plan.kept`), and queued for the joins
        # that consume it.
        name = flight.node
        consumers, waits, kept = self.plan.ending[name]
        if waits is not None:
            if not self.shields and (
                not waits or not (self.inflight_times or self.dirty or self.unrouted)
            ):
                self.route(flight, self.edge_env(flight, output), failed=None)
            else:
                self._to_route((flight.key, flight, output, None))
        if consumers or kept:
            made = _output(Output, (output, flight.time, flight.key, flight.label))
            if kept:
                outputs = self.outputs[name]
                outputs.append(made)  # (`_insert`, one frame fewer)
                if len(outputs) > 1 and outputs[-2].key > made.key:
                    outputs.sort(key=_BY_KEY)
            queues, empty, dirty = self.queues, self.empty, self.dirty
            # (a consumer of one node joins as the output comes, `Plan.handed`, when
            # nothing else waits for `settle` — no firing ready to run, no consumer to
            # join, no route to take — so that it starts as `settle` would start it:
            # after what those would do, a return above all; one whose time a shield may
            # hold, at `settle`)
            handed = (
                self.plan.handed
                if not (self.shields or self.ready or dirty or self.unrouted)
                else ()
            )
            for consumer in consumers:
                if consumer in handed and not self.over:
                    # (joined now, on this output, as `settle` would have joined it: it
                    # has no queue, `name` firing once; over, as after the store failed
                    # above, `settle` joins nothing)
                    self._hand(consumer, name, made)
                    continue
                joined = queues.get(consumer)
                if joined is None:  # (a consumer of one node, queued nothing yet)
                    joined = queues[consumer] = {name: []}
                queue = joined[name]
                if queue:
                    _insert(queue, made)
                else:
                    empty[consumer] -= 1
                    queue.append(made)
                dirty.add(consumer)

    def _finish_record(self, record: FiringRecord) -> None:
        record.ended = clock.perf_counter()
        self.record(record)

    def record(self, record: FiringRecord) -> None:
        """Add a firing to the trace, and tell who listens."""
        self.trace.firings.append(record)
        if record.time > self.last_time:
            self.last_time = record.time
        if self.told:
            self._tell(record)

    def _tell(self, record: FiringRecord) -> None:
        """Tell who listens of a record (`record`)."""
        if self.on_record is not None:
            self.on_record(record)
        if self.events is not None:
            self.events.firing_ended(record)
        if self.checkpoint is not None and record.status == "ok":
            try:
                self.checkpoint(record)
            except StoreError as error:  # (a full disk: the run ends, saying what was kept)
                error.trace = self.trace
                self.fail(error)

    async def wait_for_earlier(self, producer: str, time: int) -> None:
        """Until no firing may still make an output of `producer` before `time` (`_blocker`):
        one in flight, or one whose route is still to be taken (then the firing in flight
        that route waits for). One with no task (a `@nonblocking` tool's, left for the
        loop's next turn by the bound on firings in a row: `_run_ready`) runs at that
        turn: it is waited for by giving the loop turns."""
        reaches, before = self.plan.reach.reaches, (time,)
        while True:
            earlier = [
                f
                for f in self.inflight.values()
                if semantics.may_lead_to(f, producer, before, reaches)
            ]
            if not earlier:  # (`_blocker`'s first half, done: its second)
                routing = (
                    self._routing_to(frozenset((producer,)), before) if self.unrouted else None
                )
                if routing is None:
                    return
                earlier = [self._root_blocker(routing)]
            tasks = [f.task for f in earlier if f.task is not None]
            if tasks:
                with human.holding(self, tasks):
                    await asyncio.wait(tasks)
            else:
                await asyncio.sleep(0)

    def _blocker(self, reads: frozenset[str] | None, before: tuple) -> str | None:
        """The rule of DESIGN §3 rule 5 for what a join, a read or a route sees, in one
        place: the label of a firing that may still make a firing of a node of `reads`
        (None: of any node) keyed before `before` (here `(time,)`: of an earlier time;
        a join's head's key, `join`) — one in flight whose node leads to it
        (`semantics.may_lead_to`), or one that ended and whose edges are still to be
        taken (`_routing_to`, `semantics.may_start`); else None. So a join consumes, and
        a read or a route sees, the same firings whatever the latencies: once none is
        left, no firing of those nodes keyed before `before` is still to come."""
        times = self.inflight_times
        if times and min(times) < before[0]:
            if reads is None:
                for other in self.inflight.values():
                    if other.time < before[0]:
                        return other.label
            else:
                # (only the firings of the nodes that lead to `reads`, `Plan.feeders`: the
                # others may lead to none of them, whatever their time; those of every node
                # in flight when they are fewer, or too many lead there to be listed)
                reaches, by_node = self.plan.reach.reaches, self._by_node()
                feeders = self.plan.feeders[reads]
                nodes: Iterable[str] = (
                    by_node if feeders is None or len(feeders) > len(by_node) else feeders
                )
                for node in nodes:
                    flights = by_node.get(node)
                    if flights:
                        for other in flights.values():
                            for name in reads:
                                if semantics.may_lead_to(other, name, before, reaches):
                                    return other.label
        return self._routing_to(reads, before) if self.unrouted else None

    def _by_node(self) -> dict[str, dict[str, Inflight]]:
        """The firings in flight by node (`by_node`), made from `inflight` at the first ask."""
        by_node = self.by_node
        if by_node is None:
            by_node = self.by_node = {}
            for flight in self.inflight.values():
                by_node.setdefault(flight.node, {})[flight.label] = flight
        return by_node

    def _routing_to(self, reads: frozenset[str] | None, before: tuple) -> str | None:
        """The label of a firing that ended and whose edges are still to be taken, when
        what they start (one step after it: `semantics.after`) may lead to a firing of a
        node of `reads` keyed before `before` (`semantics.may_start`; None: a firing of
        any node, of an earlier time); else None (`_blocker`). Only through what its
        edges start (`Plan.edge_targets`): its own output is queued already, so a join or
        a read of its node does not wait for its route. (A bounded route of a node needs
        no more: an earlier route of that node waits for whatever it waits for, of the
        same reads before an earlier time, and routes are taken in key order:
        `_take_routes`; an earlier firing of it in flight is one `may_lead_to` names.)"""
        reaches, targets, may_start = (
            self.plan.reach.reaches,
            self.plan.edge_targets,
            semantics.may_start,
        )
        for node, flights in self.unrouted.items():
            starts = targets[node]
            for other in flights.values():
                if reads is None:
                    if semantics.after(other.time) < before[0]:
                        return other.label
                elif any(
                    may_start(other.time, target, name, before, reaches)
                    for target in starts
                    for name in reads
                ):
                    return other.label
        return None

    def _root_blocker(self, label: str) -> Inflight:
        """The firing in flight that the route `label` waits for, through the routes it
        waits for (`_blocker`: each earlier than the last, so the chain ends in flight)."""
        while label not in self.inflight:
            flight = next(
                f for fs in self.unrouted.values() for f in fs.values() if f.label == label
            )
            found = self._route_blocker(flight)
            assert found is not None  # (a route that waits for nothing is taken: `settle`)
            label = found
        return self.inflight[label]

    def _route_blocker(self, flight: Inflight) -> str | None:
        """What the route of a finished firing waits for (`_blocker`): under an `enforce`
        shield, every firing before its time (a shield decides on the whole trace so far);
        else what may make a firing of a node its edges read, and the earlier firings of
        its own node when an edge of it is bounded (`Plan.route_reads`)."""
        before = (semantics.after(flight.time),)
        if self.shields:
            return self._blocker(None, before)
        return self._blocker(self.plan.route_reads[flight.node], before)

    # -- after a firing -------------------------------------------------------------------------

    def failed(self, flight: Inflight, node: IRNode, error: BaseException) -> None:
        live = semantics.live(self.plan.out_edges[flight.node], self.taken)
        if not semantics.route(live, failed=True, holds=_never):
            self.fail_at(flight, FiringFailed(flight.node, error, self.trace))
            return
        failure = {"error": describe_error(error)}
        self.failures[flight.node].append(Output(failure, flight.time, flight.key, flight.label))
        self.conclude(flight, failure, error)

    def edge_env(self, flight: Inflight, made: Any) -> dict[str, Any]:
        """What the edges out of a finished firing read (their guards, ports and returns):
        the parameters, what it made (`made`: its output, or its failure), and of each
        other node they name what the firing their edges start would read as an argument
        (`firing.latest_before`, before the logical time they start things at:
        `semantics.after`), once no firing may still make one (`_take_routes`). Only the
        nodes they name: a firing's cost does not grow with the size of the agent."""
        env = dict(self.params)
        reads = self.plan.edge_reads[flight.node]
        if reads:
            before = semantics.after(flight.time)
            for name in reads:
                read = firing.latest_before(self.outputs[name], self.failures[name], before)
                if read is not None:
                    env[name] = read.value
        env[flight.node] = made
        return env

    def _to_route(self, finished: Finished) -> None:
        """A route to take in `settle` (`_take_routes`)."""
        self.routes.append(finished)
        flight = finished[1]
        self.unrouted.setdefault(flight.node, {})[flight.label] = flight

    def _take_routes(self) -> bool:
        """Take the routes of the finished firings (`routes`, and those that waited for a
        firing that has landed since), in key order, once the joins that can be made are
        (`settle` asks then), each once no firing may still make what it reads
        (`_blocker`; its own node too when one of its edges is bounded, so a `max` is
        spent in key order; under an `enforce` shield, every firing of its time or before,
        and its monitors step over the trace that far); the others wait for the firing
        `_blocker` names, and are tried again once that one lands or is routed (not at
        every `settle`). Whether a route was taken. A route that fails fails the run as
        the firing's end does (`fire`)."""
        ready, self.routes = self.routes, []
        unread, inflight, unrouted = self.unread, self.inflight, self.unrouted
        if unread:
            for landed in [label for label in unread if label not in inflight]:
                ready += unread.pop(landed)
        if not ready:
            return False
        if len(ready) > 1:
            heapq.heapify(ready)
        taken = False
        while ready and not self.over:
            entry = heapq.heappop(ready)
            _, flight, made, failed = entry
            blocker = self._route_blocker(flight)
            if blocker is not None:
                waits = unread if blocker in inflight else self.behind
                waits.setdefault(blocker, []).append(entry)
                continue
            taken = True
            _forget(unrouted, flight)
            try:
                if self.shields:
                    constraints.step_shields(self, flight.time)
                self.route(flight, self.edge_env(flight, made), failed=failed)
            except Exception as error:
                self._broken(flight, error)
                break
            behind = self.behind.pop(flight.label, None)
            if behind:
                for entry in behind:
                    heapq.heappush(ready, entry)
        return taken

    def route(self, flight: Inflight, env: dict[str, Any], *, failed: BaseException | None) -> None:
        """Take the explicit edges out of a finished firing (compiler/semantics.py), those
        an `enforce` shield allows: a `when` edge it blocks counts as false. A failed firing
        (`failed`, its error) that takes no edge fails the run (its `on error` edges spent,
        or blocked, by the time a shield routes it)."""
        compiled = self.plan.edges
        if self.shields:

            def holds(edge: IREdge) -> bool:
                return compiled[edge.index].holds(env) and constraints.allowed(self, edge, flight)

        else:

            def holds(edge: IREdge) -> bool:  # (`CompiledEdge.holds`, one frame fewer)
                guard = compiled[edge.index].guard
                return guard is not None and bool(guard(env))

        try:
            chosen = semantics.route(
                semantics.live(self.plan.out_edges[flight.node], self.taken),
                failed=failed is not None,
                holds=holds,
            )
        except EvaluationError as error:
            self.fail_at(flight, FiringFailed(flight.node, error, self.trace))
            return
        if self.shields:
            chosen = [e for e in chosen if e.condition == "when" or self.allowed(e, flight)]
        if failed is not None and not chosen:
            self.fail_at(flight, FiringFailed(flight.node, failed, self.trace))
            return
        time = semantics.after(flight.time)
        for edge in chosen:
            self.taken[edge.index] = self.taken.get(edge.index, 0) + 1
            key = edge_key(time, edge.target, edge.index, flight.label)
            expressions = compiled[edge.index]
            if edge.kind == "return":
                order = len(self.ir.returns_) + edge.index
                assert expressions.value is not None  # (a return edge returns a value)
                self.offer_return(time, order, key, expressions.value, env)
            else:
                ports = {}
                for name, port in expressions.ports:  # (a loop: no comprehension's frame)
                    ports[name] = port(env)
                self.start(edge.target, time, key, ports, _NOTHING)

    def allowed(self, edge: IREdge, flight: Inflight) -> bool:
        return not self.shields or constraints.allowed(self, edge, flight)

    def conclude(self, flight: Inflight, made: Any, failed: BaseException | None) -> None:
        """Route a finished firing (`made`: its output, or its failure): now when its route
        waits for nothing (`Plan.route_reads`: it reads no other node, and no edge of it is
        bounded), else in `settle`, once the joins that can be made are (`_take_routes`)."""
        if self.shields or self.plan.route_reads[flight.node]:
            self._to_route((flight.key, flight, made, failed))
        else:
            self.route(flight, self.edge_env(flight, made), failed=failed)

    # -- joins and returns --------------------------------------------------------------------

    def offer_return(
        self, time: int, order: int, key: tuple, value: Evaluator, env: Mapping[str, Any]
    ) -> None:
        try:
            returned = coerce(self.ir.return_type, value(env))
        except (ValidationError, EvaluationError) as error:
            message = f"the return value does not fit `{self.ir.return_type}`: {explain(error)}"
            self.offer_end(Offer(time, order, repr(key), None, RunError(message, self.trace)))
            return
        self.offer_end(Offer(time, order, repr(key), returned))

    def fail_at(self, flight: Inflight, error: BaseException) -> None:
        """A firing fails the run: at its logical time, unless an earlier end wins
        (`offer_end`)."""
        self.offer_end(Offer(flight.time, semantics.FAILS_THE_RUN, flight.label, None, error))

    def offer_end(self, offer: Offer) -> None:
        """A return, or a failure that fails the run, offered at its logical time. The
        earliest wins (`semantics.winner`) and ends the run once no firing before it is in
        flight (`settle`): the same end whatever the latencies. The firings it leaves out
        of the run (`semantics.outside`) can lead only to later ends: those in flight are
        cancelled now."""
        self.offers.append(offer)
        winning = self.winning = semantics.winner(self.offers)
        assert winning is not None
        self.outside = semantics.outside(winning)
        outside = semantics.outside(offer)
        for flight in list(self.inflight.values()):
            if not semantics.in_run(flight.time, outside):
                if flight.task is not None:
                    flight.task.cancel()
                    self.cancelled.append(flight.task)
                self._land(flight.label)  # (one not begun, with no task: never begins)

    def settle(self) -> None:
        """Consume what can be consumed; finish, or report a stall, when nothing is left."""
        if self.over:
            return
        # Only consumers that received outputs, or were blocked by in-flight firings,
        # can join now; a consumer that cannot join stays dirty until it can. The routes
        # of the firings that ended are taken after the joins (`_take_routes`): what a
        # route reads of a node may be a firing that a join makes.
        progress = True
        empty = self.empty
        while progress and (self.dirty or self.unrouted or (self.ready and self.resume is None)):
            progress = False
            if self.ready and self.resume is None:
                self._run_ready()
                if self.over:
                    return
                progress = True
            if self.dirty:
                size = len(self.dirty)
                if size < self.dirty_peak >> 2:
                    # a set keeps the table of its largest size: after a fan-out of
                    # thousands it would cost that much to walk at every settle, so copy
                    # what is left
                    self.dirty, self.dirty_peak = set(self.dirty), size
                elif size > self.dirty_peak:
                    self.dirty_peak = size
                dirty = self.dirty
                # (where a node may fire more than once, the joins are made in the time of
                # the firings they make (`_join_order`), from a heap: one that joined goes
                # back in with its next heads' time, so no join of a pass is of an earlier
                # time than one made before it, and a join's firing is in flight when a
                # later one decides; elsewhere each consumer joins at most once)
                if size > 1 and self.plan.repeats:
                    order = self._join_order
                    pending = [(order(c), c) for c in dirty]
                    heapq.heapify(pending)
                    while pending:
                        consumer = heapq.heappop(pending)[1]
                        if not empty[consumer] and self.join(consumer):
                            progress = True
                            if not empty[consumer]:
                                heapq.heappush(pending, (order(consumer), consumer))
                        if empty[consumer]:
                            dirty.discard(consumer)
                else:  # (by name: which firings a return leaves out is the same each run)
                    for consumer in sorted(dirty) if size > 1 else list(dirty):
                        while not empty[consumer] and self.join(consumer):
                            progress = True
                        if empty[consumer]:
                            dirty.discard(consumer)
            if self.unrouted and self._take_routes():
                if self.over:
                    return
                progress = True
        if self.winning is not None:
            # A return at logical time T ends the run once every firing before T is done:
            # those complete (and may still offer an earlier return), those at T or after
            # are discarded — whatever the latencies, the same firings make the trace. A
            # failure of the run at T ends it by the same rule, with that failure.
            time, value, outside = self.winning.time, self.winning.value, self.outside
            assert outside is not None
            if semantics.end_decided(outside, self.inflight_times):
                if self.winning.failure is not None:
                    self._discard_from(outside, f"after the failure at logical time {time}")
                    self.fail(self.winning.failure)
                    return
                self.result, self.returned_at = value, time
                self._discard_from(outside, f"after the return at logical time {time}")
                self._cancel_all()
                self.over = True
                self.finished.set()
                return
        elif not self.inflight:
            self.fail(Stalled(self.waiting(), self.trace))
            return
        desk = self.context.human
        if desk is not None and desk.parked:  # (`check_paused`'s first test, without a call)
            human.check_paused(self)  # (all that is left waits for answers from people?)

    def _run_ready(self) -> None:
        """Run the firings started with no task, in order; one that a return cancelled (it
        is no longer in flight) never begins. Once the run has run `CARRY` firings in a
        row (`streak`), the rest wait for the loop's next turn (`_resume`), so that a
        chain or a loop of `@nonblocking` tools never holds the event loop for the whole
        run."""
        ready, inflight = self.ready, self.inflight
        while ready:
            if self.streak >= CARRY:
                self._wait_turn()
                if self.resume is None:
                    # (in a task, not a bare callback: a tool run inline, an `async def`
                    # above all, finds a current task, as asyncio code expects: sniffio, anyio)
                    self.resume = asyncio.get_running_loop().create_task(self._resumed())
                return
            flight, bindings, consumed = ready.popleft()
            if inflight.get(flight.label) is flight:
                self.streak += 1
                self.fire_inline(flight, bindings, consumed)
            if self.over:
                ready.clear()
                return

    async def _resumed(self) -> None:
        self._resume()

    def _resume(self) -> None:
        # (the loop has had a turn since this was asked for: what is ready gets its own
        # `CARRY` now, even where a task spent the count on carried firings in that turn,
        # before this ran: else a carrying task would starve the firings with no task)
        self.resume, self.streak = None, 0
        self.settle()

    def _wait_turn(self) -> None:
        """The run has run `CARRY` firings in a row (`streak`): the next ones wait for the
        loop's next turn (other tasks run then), where the count begins again."""
        if self.turn is None:
            self.turn = asyncio.get_running_loop().call_soon(self._turned)

    def _turned(self) -> None:
        self.turn, self.streak = None, 0

    def _join_order(self, consumer: str) -> tuple[int, str]:
        """When `settle` tries `consumer`'s join: by the latest time of its heads (so in the
        logical time of the firing it makes, `semantics.join_time`), then by name. A join
        that may lead to an output keyed before another's head is of an earlier time:
        its firing is then in flight when that other decides (`join`), since `settle` makes
        the joins of a pass from a heap by this order, a consumer that joined going back
        in with its next heads' time. One with an empty queue does not join: first.
        (Asked only where a node may fire more than once, `Plan.repeats`: elsewhere each
        queue holds one output at most, so any order pairs the same, and `settle` goes by
        name, which keeps the firings a return leaves out the same each run.)"""
        if self.empty[consumer]:
            return (0, consumer)
        latest = 0
        for queue in self.queues[consumer].values():
            time = queue[0].time
            if time > latest:
                latest = time
        return (latest, consumer)

    def join(self, consumer: str) -> bool:
        """Join `consumer` on the heads of its queues, when none is empty (`settle` asks
        only then) and no output keyed before a head may still arrive (`_waits`)."""
        queues = self.queues[consumer]
        if not queues:
            return False
        if self.inflight_times or self.unrouted:  # (else nothing can arrive: most wide joins)
            for dep, queue in queues.items():
                if self._waits(dep, queue[0]):
                    return False
        consumed = semantics.join(queues)
        assert consumed is not None  # (no queue is empty)
        emptied = 0
        for queue in queues.values():
            if not queue:
                emptied += 1
        if emptied:
            self.empty[consumer] = emptied  # (none was empty before)
        self._joined(consumer, consumed)
        return True

    def _hand(self, consumer: str, dep: str, head: Output) -> None:
        """Join `consumer`, which joins `dep` alone (`Plan.handed`), on `head`, the output of
        `dep` that has just come (`_succeeded`): the join `join` would make of a queue
        holding `head` alone (`semantics.join` of it: `head`), with no queue made. It
        never waits (`_waits`), so it is not asked: a consumer is handed only where no
        node fires more than once (`Plan.repeats`), and there what may lead to another
        output of `dep` keyed before `head` (a firing in flight or a route still to be
        taken, of an earlier time, that leads to `dep`) would lead to a second firing of
        `dep` (tests/test_handed_joins.py holds the two alike)."""
        self._joined(consumer, {dep: head})

    def _waits(self, dep: str, head: Output) -> bool:
        """Whether a join must wait before it consumes `head`, the head of its queue of
        `dep`'s outputs, since an output of `dep` keyed before it may still arrive
        (`_blocker`'s rule): from a firing in flight (`semantics.may_still_arrive`, or of
        the head's own time the least-keyed firing in flight of its node,
        `_least_in_flight`), or from a route still to be taken (`_routing_to`)."""
        times = self.inflight_times
        if times:
            earliest = min(times)  # (of the firings in flight)
            if earliest < head.time:
                reaches = self.plan.reach.reaches
                if semantics.may_still_arrive(dep, head.key, self.inflight.values(), reaches):
                    return True
            elif earliest == head.time and dep in self.flying:
                least = self._least_in_flight(dep)
                reaches = self.plan.reach.reaches
                if least is not None and semantics.may_lead_to(least, dep, head.key, reaches):
                    return True
        return bool(self.unrouted) and self._routing_to(frozenset((dep,)), head.key) is not None

    def _joined(self, consumer: str, consumed: dict[str, Output]) -> None:
        """A join made (`join`, `_hand`): its firing started, or its return offered, one
        after the latest of what it consumed."""
        key = join_key(consumer, consumed.values())
        time = key[0]
        if consumer.startswith(RETURN):
            index = int(consumer[len(RETURN) :])
            env = dict(self.params)
            for dep, output in consumed.items():  # (a loop: no comprehension's frame)
                env[dep] = output.value
            self.offer_return(time, index, key, self.plan.returns[index], env)
        else:
            self.start(consumer, time, key, _UNBOUND, consumed)

    def _fly(self, heap: list[tuple[tuple, str]], flight: Inflight) -> None:
        """Push a firing started onto its node's heap (`flying`). The keys of the firings
        that landed are dropped from its top only (`_least_in_flight`), so while an
        earlier one is in flight the heap would keep every firing of the node: once it
        holds twice as many as are in flight, it is made again of those in flight (a
        scan paid for by the pushes since the last one)."""
        heapq.heappush(heap, (flight.key, flight.label))
        if len(heap) > 2 * len(self.inflight) + 8:
            node, inflight = flight.node, self.inflight
            heap[:] = [(f.key, f.label) for f in inflight.values() if f.node == node]
            heapq.heapify(heap)

    def _least_in_flight(self, node: str) -> Inflight | None:
        """The firing of least key of `node` in flight (one of `flying`'s nodes): the top of
        its heap, once the keys of those that landed are dropped from it. A join of a
        head of that node's own time asks `semantics.may_lead_to` of it alone: no other
        firing of it of that time is keyed before, if it is not (so a node fired W times
        at one time costs its joins log W a firing, not W)."""
        heap, inflight = self.flying[node], self.inflight
        while heap:
            flight = inflight.get(heap[0][1])
            if flight is not None:
                return flight
            heapq.heappop(heap)
        return None

    def _discard_from(self, time: int, why: str) -> None:
        """Firings at or after `time` that ended before the run's end was known (its
        branch was slow) are not part of the run: at or after the winning return's time,
        after the failure's. (None is when the latest record is in the run: `in_run` holds
        of every time before.)"""
        if semantics.in_run(self.last_time, time):
            return
        for record in self.trace.firings:
            if not semantics.in_run(record.time, time) and record.status in ("ok", "failed"):
                record.status = "discarded"
                record.notes.append(why)
                if self.events is not None:
                    self.events.firing_discarded(record, record.notes[-1])

    def fail(self, error: BaseException) -> None:
        if not self.over:
            self.failure = error
            self.over = True
            self.finished.set()

    def _cancel_all(self) -> None:
        if not self.inflight and not self.ready and self.resume is None:
            self.carried = None  # (nothing in flight, nothing to cancel: most returns)
            return
        for flight in list(self.inflight.values()):
            if flight.task is not None:
                flight.task.cancel()
                self.cancelled.append(flight.task)
        self.inflight.clear()
        self.inflight_times.clear()
        self.by_node = None
        self.ready.clear()
        if self.resume is not None:
            self.resume.cancel()
            self.cancelled.append(self.resume)
            self.resume = None
        self.carried = None

    def _land(self, label: str) -> None:
        """A firing is no longer in flight (it ended, or was cancelled)."""
        flight = self.inflight.pop(label, None)
        if flight is not None:
            left = self.inflight_times[flight.time] - 1
            if left:
                self.inflight_times[flight.time] = left
            else:
                del self.inflight_times[flight.time]
            if self.by_node is not None:
                _unindex(self.by_node, flight)

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


def _forget(unrouted: dict[str, dict[str, Inflight]], flight: Inflight) -> None:
    """A route is taken: no longer `AgentRun.unrouted`."""
    flights = unrouted[flight.node]
    del flights[flight.label]
    if not flights:
        del unrouted[flight.node]


def _unindex(by_node: dict[str, dict[str, Inflight]], flight: Inflight) -> None:
    """A firing is no longer in flight: no longer `AgentRun.by_node`."""
    flights = by_node[flight.node]
    del flights[flight.label]
    if not flights:
        del by_node[flight.node]


def _insert(outputs: list[Output], output: Output) -> None:
    """Add an output to a list kept in key order (it usually comes last)."""
    outputs.append(output)
    if len(outputs) > 1 and outputs[-2].key > output.key:
        outputs.sort(key=_BY_KEY)


_BY_KEY = operator.attrgetter("key")
_FIRST = operator.itemgetter(0)
_output = (
    tuple.__new__
)  # (`Output(value, time, key, label)` without the Python frame of its `__new__`)
_now = clock.perf_counter
_make = object.__new__  # (an object whose slots its maker sets: `start`'s flight)

# the ports a firing started by a join (or at the start) has bound: none (read, never
# written: one dict for all of them)
_UNBOUND: dict[str, Any] = {}
# the outputs a firing started by an edge (or at the start) has consumed: none (read,
# never written, as `_UNBOUND`)
_NOTHING: dict[str, Output] = {}

# results that are surely not awaitable (a faster test than `inspect.isawaitable`)
_PLAIN = frozenset({int, float, str, bool, type(None), list, dict, tuple})


def _never(edge: IREdge) -> bool:
    return False


def _cancelled_from_outside() -> bool:
    """Whether the `CancelledError` a firing's task caught was a cancel of that task (the
    run's, a return's: `Task.cancel`, which `cancelling()` counts), not one that the
    firing's own code raised (`CancelledItself`: the firing fails, and the run goes on;
    taken for a cancel, the firing would stay in flight and the run never end)."""
    task = asyncio.current_task()
    return task is None or task.cancelling() > 0


def _abandon(value: Any, task: asyncio.Task) -> None:
    """An inline firing's task has ended: the awaitable it was to await is done with
    (`tools.abandon`: closed, if it never began)."""
    tools.abandon(value)
