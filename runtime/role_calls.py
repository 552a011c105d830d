"""A role's firing, over the model calls of runtime/calls.py: its prompt, structured
output (the reply read against the result's JSON schema, repaired up to `MAX_REPAIRS`
times), and its bounded tool-calling loop; and how tools are called, as nodes and from
that loop.

runtime/calls.py makes one call the way a production client does (cache, budget,
retries, timeouts); this module decides which calls a role makes.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from rolegraph.compiler.ir import IRNode, ToolSpec
from rolegraph.compiler.pyimport import beside
from rolegraph.compiler.types import Type

from .calls import Calls, make_call
from .errors import ModelOutputError, describe_error
from .models import Model, ModelReply, ModelRequest, changed
from .prompts import render_prompt
from .repair import explain, quote, read_reply, repair_prompt
from .tools import INLINE, LOOP, awaited_alone, call_in_thread
from .trace import FiringRecord
from .values import coerce, plain, schema

if TYPE_CHECKING:
    from .context import Context
    from .events import RunEvents

MAX_REPAIRS = 2

#: `result_instructions` of each result type met, by the type object's identity (not
#: its name: two agents may declare different records of one name); cleared when full.
_INSTRUCTIONS: dict[int, tuple[Type, dict[str, Any], str]] = {}
_INSTRUCTIONS_MAX = 4096


def result_instructions(result: Type) -> tuple[dict[str, Any], str]:
    """A role's result type's JSON schema, and the prompt's line that asks for it: made
    once per type object (a compiled type is complete; requests share the schema, which
    no one changes)."""
    entry = _INSTRUCTIONS.get(id(result))
    if entry is None or entry[0] is not result:  # (the entry keeps its type alive)
        if len(_INSTRUCTIONS) >= _INSTRUCTIONS_MAX:
            _INSTRUCTIONS.clear()
        result_schema = schema(result)
        entry = (
            result,
            result_schema,
            "Reply with one JSON value that matches this JSON schema, and nothing "
            f"else:\n{json.dumps(result_schema)}",
        )
        _INSTRUCTIONS[id(result)] = entry
    return entry[1], entry[2]


class CallCounter:
    """Numbers the calls of one firing's replica, in order: with the firing's name, a
    call's place in the run (the response cache's key)."""

    def __init__(self, firing: str, replica: int):
        self.firing, self.replica, self.count = firing, replica, 0

    def stamp(self, request: ModelRequest) -> ModelRequest:
        self.count += 1
        return changed(request, firing=self.firing, call=self.count)


@dataclasses.dataclass(frozen=True, slots=True)
class Caller:
    """What a role's calls need of their run: its context, its events, and the place of
    the firing in the run (the keys of the firings of the agents that enclose it)."""

    context: Context
    events: RunEvents | None
    path: tuple[str, ...]


async def call_role(
    caller: Caller, node: IRNode, args: dict[str, Any], replica: int, record: FiringRecord
) -> Any:
    """One call of a role (one replica of a firing): the prompt, the model's reply read as
    the role's result type, repaired when it does not fit."""
    context = caller.context
    model = context.model_for(node)
    system = render_prompt(node.system, args, node.callee, "system") if node.system else ""
    prompt = render_prompt(node.prompt or "", args, node.callee)
    result_schema, instructions = result_instructions(node.result)
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": f"{prompt}\n\n{instructions}"})
    tools = tuple(_tool_schema(t) for t in node.tools)
    model_name, params = context.provider.resolve(node.model, node.model_params)
    problem = ""
    # the firing's place in the run: its key, under the firings of the agents that
    # enclose it (the replicas of a called agent make the same requests otherwise)
    calls = CallCounter("/".join((*caller.path, record.key)), replica)
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
        reply = await tool_loop(caller, node, model, request, record, calls)
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
    caller: Caller,
    node: IRNode,
    model: Model,
    request: ModelRequest,
    record: FiringRecord,
    calls: CallCounter,
) -> ModelReply:
    """The model's reply once it calls no more tools (at most `node.tool_steps` rounds of
    tool calls; then it is asked to answer)."""
    reply = await _complete(caller, model, calls.stamp(request), record)
    steps = 0
    messages = list(request.messages)
    while reply.tool_calls:
        if steps >= node.tool_steps:
            messages.append({"role": "user", "content": "No more tool calls: answer now."})
            final = changed(request, messages=tuple(messages), tools=())
            return await _complete(caller, model, calls.stamp(final), record)
        for call in reply.tool_calls:
            spec = next((t for t in node.tools if t.name == call.name), None)
            if spec is None:
                outcome: Any = {"error": f"unknown tool {call.name!r}"}
            else:
                try:
                    outcome = await call_spec(caller.context, spec, call.arguments)
                except Exception as error:  # the model sees the error and may recover
                    outcome = {"error": describe_error(error)}
            record.tool_calls.append(
                {"tool": call.name, "arguments": call.arguments, "result": outcome}
            )
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"id": call.id, "name": call.name, "arguments": call.arguments}],
                }
            )
            messages.append(
                {"role": "tool", "tool_call_id": call.id, "content": json.dumps(outcome)}
            )
        steps += 1
        request = changed(request, messages=tuple(messages))
        reply = await _complete(caller, model, calls.stamp(request), record)
    return reply


async def _complete(
    caller: Caller, model: Model, request: ModelRequest, record: FiringRecord
) -> ModelReply:
    context = caller.context
    return await make_call(
        model, request, Calls(context.budget, context.cache, caller.events), record
    )


async def call_tool(
    context: Context,
    target: str,
    folder: str,
    args: dict[str, Any],
    server: Any = None,
    returns: Any = None,
) -> Any:
    """Call a tool on typed arguments: a plain function in a worker thread (so it never
    holds the loop), a coroutine function on the loop, a `@nonblocking` plain function
    inline (runtime/tools.py). It runs `beside` its `.agent`
    file, so its module's late imports of its neighbours work too. A tool of an MCP
    `server` is called through the run's session with it (runtime/mcp_tools.py), its
    result read for the declared type `returns`."""
    if server is not None:
        from .mcp_tools import sessions_of

        return await sessions_of(context).call(server, target, args, returns)
    function = context.tool(target, folder)
    with beside(folder):
        how = context.how_called(target, folder)
        if how == LOOP:  # (a coroutine function returns an awaitable)
            return await awaited_alone(function(**args))
        if how == INLINE:
            value = function(**args)
        else:
            value = await call_in_thread(function, args, context.threads())
        if inspect.isawaitable(value):  # (a plain function that returns a coroutine)
            value = await awaited_alone(value)
    return value


async def call_spec(context: Context, spec: ToolSpec, args: dict[str, Any]) -> Any:
    """A tool called in a role's tool loop: arguments and result checked against its
    declaration."""
    typed = {name: coerce(t, args.get(name)) for name, t in spec.params}
    value = await call_tool(context, spec.target, spec.folder, typed, spec.server, spec.returns)
    return coerce(spec.returns, plain(value))


def _tool_schema(tool: Any) -> dict[str, Any]:
    return {
        "name": tool.name,
        "parameters": {
            "type": "object",
            "properties": {n: schema(t) for n, t in tool.params},
            "required": [n for n, _ in tool.params],
        },
    }
