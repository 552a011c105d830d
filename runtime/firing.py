"""What one firing does once the scheduler (runtime/scheduler.py) starts it: gather its
inputs (parameters, the outputs it consumed, the latest outputs it reads), bind its
arguments, and make its call by the kind of its node — a role, a tool, an agent, a human
step — once, `x N` times, or once per map item, in parallel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from rolegraph.compiler import ast
from rolegraph.compiler.dataflow import read_key
from rolegraph.compiler.ir import IRNode
from rolegraph.compiler.pyimport import beside, enter_folder, leave_folder

from . import human
from .plan import Coercion, Plan
from .role_calls import Caller, call_role, call_tool
from .tools import LOOP, awaited_alone
from .trace import FiringRecord

if TYPE_CHECKING:
    from .scheduler import AgentRun, Output


async def environment(
    run: AgentRun, node: IRNode, time: int, consumed: Mapping[str, Output]
) -> dict[str, Any]:
    """Parameters, consumed outputs, and the latest outputs of nodes read before `time`."""
    env = given(run.params, consumed)
    reads = run.plan.reads[node.name]
    for name in sorted(reads - consumed.keys()) if reads else ():
        await run.wait_for_earlier(name, time)
        read = latest_before(run.outputs[name], run.failures[name], time)
        env[name] = None if read is None else read.value
    for function, name in run.plan.node_reads[node.name]:
        # `latest(x)` / `history(x)`: x's outputs before this firing, in key order
        # (logical time first): the same whatever the latencies
        await run.wait_for_earlier(name, time)
        before = made_before(run.outputs[name], time)
        env[read_key(function, name)] = (
            [o.value for o in before]
            if function == "history"
            else (before[-1].value if before else None)
        )
    return env


def made_before(outputs: list[Output], time: int) -> list[Output]:
    """The outputs (kept in key order, logical time first) made before logical time `time`."""
    end = len(outputs)
    while end and outputs[end - 1].time >= time:
        end -= 1
    return outputs[:end] if end < len(outputs) else outputs


def latest_before(outputs: list[Output], failures: list[Output], time: int) -> Output | None:
    """The firing of a node that a read at logical time `time` sees (§3 rule 5): its latest
    before `time`, by key — an output, or a failure (`x.error` reads that) when it failed
    last. The one rule of a firing's arguments and of the edges' guards, ports and returns
    (runtime/scheduler.py `edge_env`): given that no firing before `time` that may still
    make one is in flight, the same whatever the latencies. (`outputs` in key order;
    `failures` in any.)"""
    found: Output | None = None
    end = len(outputs)
    while end:
        end -= 1
        if outputs[end].time < time:
            found = outputs[end]
            break
    for failure in failures:
        if failure.time < time and (found is None or failure.key > found.key):
            found = failure
    return found


def given(params: Mapping[str, Any], consumed: Mapping[str, Output]) -> dict[str, Any]:
    """The environment of a firing that reads no latest output: the parameters and the
    outputs it consumed."""
    env = dict(params)
    for dep, output in consumed.items():
        env[dep] = output.value
    return env


def arguments(
    plan: Plan, node: IRNode, env: Mapping[str, Any], bindings: Mapping[str, Any]
) -> dict[str, Any]:
    """What a firing passes: ports bound by the edge that fired it, else arguments
    (those that read a map's item are left to each item), else defaults."""
    args: dict[str, Any] = {}
    for name, argument, default, per_item in plan.arguments[node.name]:
        if name in bindings:
            args[name] = bindings[name]
        elif argument is None:
            args[name] = default
        elif not per_item:
            args[name] = argument(env)
    return args


async def call(
    run: AgentRun, node: IRNode, args: dict[str, Any], env: Mapping[str, Any], record: FiringRecord
) -> Any:
    """One firing: one call, `x N` calls, or one call per map item, in parallel."""
    if node.map_var is not None:
        items = run.plan.map_sources[node.name](env) or []
        if node.map_max is not None and len(items) > node.map_max:
            record.notes.append(f"map over {len(items)} items cut to its bound {node.map_max}")
            items = items[: node.map_max]
        per_item = [
            (name, argument) for name, argument, _, each in run.plan.arguments[node.name] if each
        ]
        calls = []
        for index, item in enumerate(items):
            item_env = {**env, node.map_var: item}
            item_args = dict(args)
            for name, argument in per_item:
                if argument is not None:
                    item_args[name] = argument(item_env)
            calls.append(call_once(run, node, item_args, index, record))
        return await _all(calls)
    if node.replicate:
        return await _all(call_once(run, node, args, i, record) for i in range(node.replicate))
    return await call_once(run, node, args, 0, record)


async def call_once(
    run: AgentRun, node: IRNode, args: dict[str, Any], replica: int, record: FiringRecord
) -> Any:
    if node.kind == "tool":
        params, result, _ = run.plan.tool_types[node.name]
        typed = {name: coerced(args.get(name)) for name, _, coerced in params}
        target, folder = node.target or "", node.target_folder
        return result(await call_tool(run.context, target, folder, typed, node.server, node.result))
    if node.kind == "agent":
        events = run.events.nested(node.subgraph.name, record.key) if run.events else None
        child = type(run)(node.subgraph, args, run.context, run.depth + 1, events)
        try:
            with human.register_child(run, child, record.key, replica):
                return await child.execute()
        finally:
            record.children.append(child.trace)
    if node.kind == "human":
        return await human.ask(run, node, args, replica, record)
    return await call_role(Caller(run.context, run.events, run.path), node, args, replica, record)


#: A Python tool node's call, found once per run (`AgentRun.python_call`): the function,
#: its folder (the import scope `beside`), how it is called (runtime/tools.py), its
#: arguments' and result's coercions to their types (`plan.tool_types`), its
#: arguments when each names nodes it joins (`joined_names`), what calls it inline
#: (`call_beside`, or `tools.call_through` for an `async def` that cannot suspend), and
#: the type of the results its result's coercion takes as they are (`values.as_is`).
PythonCall = tuple[
    Callable[..., Any],
    str,
    str,
    list[Coercion],
    Callable[[Any], Any],
    "JoinedNames | None",
    Callable[[str, Callable[..., Any], dict[str, Any]], Any],
    type,
]

#: (parameter, what it is given) per parameter: the name of a node joined, or a tuple of
#: such names for a list of them
JoinedNames = tuple[tuple[str, str | tuple[str, ...]], ...]


def joined_names(node: IRNode) -> JoinedNames | None:
    """(parameter, node) for each parameter of `node`, when each is given the bare name
    of a node it joins (`n = f(a, b)`), or (parameter, (node, ...)) when it is given a
    list of such names (`n = total([a, b, c])`, a fan-out's join); else None. A firing
    that consumed those nodes' outputs and has no ports bound passes their values: what
    `arguments` gives on `given` then, with no environment to build
    (`joined_arguments`)."""
    pairs: list[tuple[str, str | tuple[str, ...]]] = []
    for param, _, _ in node.params:
        expr = node.args.get(param)
        if isinstance(expr, ast.ListLit):
            items = tuple(_joined(item, node) for item in expr.items)
            if None in items:
                return None
            pairs.append((param, items))  # type: ignore[arg-type]  # (no None: tested)
            continue
        name = _joined(expr, node)
        if name is None:
            return None
        pairs.append((param, name))
    return tuple(pairs)


def _joined(expr: ast.Node | None, node: IRNode) -> str | None:
    """The node `expr` names, when it is the bare name of a node `node` joins."""
    if isinstance(expr, ast.Ref) and len(expr.parts) == 1 and expr.parts[0] in node.deps:
        return expr.parts[0]
    return None


def joined_arguments(names: JoinedNames, consumed: Mapping[str, Output]) -> dict[str, Any]:
    """A firing's arguments by `joined_names`, from the outputs it consumed (all of them:
    it joined its node's every dependency)."""
    args: dict[str, Any] = {}
    for param, dep in names:
        if isinstance(dep, str):
            args[param] = consumed[dep].value
        else:  # (a list of them: `[a, b, c]` evaluates to a new list)
            args[param] = [consumed[item].value for item in dep]
    return args


async def call_python(run: AgentRun, node: IRNode, args: dict[str, Any], call: PythonCall) -> Any:
    """The one call of a tool node's Python function (`plan.python_tools`), made as
    `call_tool` makes it, with one coroutine fewer for an `async def`: typed arguments,
    typed result."""
    function, folder, how, params, result, *_ = call
    typed = typed_arguments(params, args)
    if how != LOOP:
        return result(await call_tool(run.context, node.target or "", folder, typed))
    token = enter_folder(folder)  # (`with beside(folder):`, no object made)
    try:
        value = await awaited_alone(function(**typed))
    finally:
        leave_folder(token)
    return result(value)


def typed_arguments(params: list[Coercion], args: dict[str, Any]) -> dict[str, Any]:
    """A Python tool's arguments, each coerced to its parameter's type (`plan.tool_types`)."""
    typed = {}
    for name, _, coerced in params:  # (a loop: a comprehension is one more frame to make)
        typed[name] = coerced(args.get(name))
    return typed


async def inline_awaited(run: AgentRun, node: IRNode, pending: Any) -> Any:
    """The result of a `@nonblocking` tool that returned an awaitable: awaited, typed."""
    with beside(node.target_folder):
        value = await awaited_alone(pending)
    return run.plan.tool_types[node.name][1](value)


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
