"""`rolegraph compile --target langgraph`: each agent as a LangGraph program, in
LangGraph's own terms, that runs without rolegraph.

    rolegraph compile examples/self_refine.agent --target langgraph -o self_refine_lg.py

For each agent the module has:

- a typed state, `<Agent>State` (a `TypedDict`): the inputs, and per node the list of its
  outputs, which accumulate (`Annotated[list[T], operator.add]`); the edges taken (for
  `max` bounds), each output's logical time, the firings in order, the result;
- one async function per node, making the node's firing (its prompt rendered with
  jinja2, the model called through `config["configurable"]["model"]`, the reply checked
  against the result's JSON schema; `x N` and `for ... max N` as parallel calls; a tool
  node calls its Python function);
- one router per node with outgoing edges, a conditional edge: the guards (`when`,
  `else`, `on error`) and loop bounds (`max`), written as Python over the state, choose
  the next nodes; a taken edge is a `Send` carrying the ports it binds;
- a node per `return` statement (a barrier `add_edge([a, b], ret)` where it reads
  several nodes, as an AND-join waits for them);
- `build_<Agent>()`, the `StateGraph` (add nodes or edges before compiling it), and
  `run_<Agent>(inputs, model)`, which compiles and invokes it.

Where LangGraph's supersteps cannot say a rule exactly, docs/python.md says so.
(One module past 500 lines: the writers of a node, its router and the graph read the
same tables of one agent; the fixed functions of the program are langgraph_prelude.py.)

Longer than ~500 lines: one backend whose output must run without rolegraph, so it
writes out (in LangGraph's terms) what the runtime would otherwise do for it.
"""

from __future__ import annotations

import keyword
import re
from typing import Any

from . import ast, codes
from .dataflow import reads_name, ref_heads
from .diagnostics import DiagnosticError, diagnostic
from .ir import AgentIR, IRNode
from .langgraph_prelude import BUILTINS, PRELUDE
from .pycodegen import docstring_text, py
from .types import DictT, EnumT, ListT, OptionalT, Prim, RecordT

# what the module defines or imports itself, which a node's function must not shadow
MODULE_NAMES = frozenset(
    re.findall(r"^(?:async def |def |class )?(\w+)", PRELUDE, flags=re.MULTILINE)
    + [f"fn_{name}" for name in BUILTINS]
    + ["asyncio", "importlib", "inspect", "json", "operator", "sys", "Awaitable"]
    + ["Callable", "Iterable", "Mapping", "Annotated", "Any", "Literal", "TypedDict"]
    + ["ImmutableSandboxedEnvironment", "RunnableConfig", "END", "START", "StateGraph"]
    + ["Send", "COMPILED_WITH", "annotations"]
)


class NotExpressible(Exception):
    """A construct this export does not write (a sub-agent node, `latest`/`history`
    of a node's past outputs...)."""


def compile_to_langgraph(irs: dict[str, AgentIR], source_name: str, version: str) -> str:
    """The LangGraph module of a checked program's agents (`CheckedModule.irs`)."""
    agents = [ir for ir in irs.values() if not _is_pattern(ir)]
    writer = _Module(several=len(agents) > 1)
    bodies = []
    for ir in agents:
        try:
            bodies.append(writer.agent(ir))
        except NotExpressible as error:
            message = f"the LangGraph export cannot write agent `{ir.name}`: {error}"
            hint = "compile it to Python (`--target python`), which runs every agent"
            raise DiagnosticError(
                [
                    diagnostic(
                        codes.CANNOT_COMPILE, message, file=ir.filename, span=ir.span, hints=[hint]
                    )
                ]
            ) from None
    functions = [BUILTINS[name] for name in sorted(writer.builtins)]
    title = f"{docstring_text(source_name)}, compiled to a LangGraph program by rolegraph"
    header = f'''"""{title} {version}.

Each agent is a LangGraph `StateGraph` in LangGraph's own terms: a typed state whose
node outputs accumulate, one function per node, conditional edges for guards, `else`,
`on error` and loop bounds. It needs `langgraph` and `jinja2`, not rolegraph. Run one
with a model (an async function from a request dict to the reply's JSON text):

    state = await build_{_last(irs)}().compile().ainvoke(
        {{"inputs": {{...}}}}, {{"configurable": {{"model": litellm_model()}}}}
    )
    state["result"]
"""

from __future__ import annotations

{{asyncio}}import importlib
import inspect
import json
import operator
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Annotated, Any, {{literal}}TypedDict

from jinja2.sandbox import ImmutableSandboxedEnvironment
from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import Send

COMPILED_WITH = {py(version)}
'''
    types = "\n\n\n".join(writer.types.values())
    text = "".join([types, *bodies])
    header = header.replace("{asyncio}", "import asyncio\n" if "asyncio." in text else "")
    header = header.replace("{literal}", "Literal, " if "Literal[" in text else "")
    parts = [header, PRELUDE, "\n\n".join(functions), types, *bodies]
    return "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"


def _last(irs: dict[str, AgentIR]) -> str:
    names = [name for name, ir in irs.items() if not _is_pattern(ir)]
    return names[-1] if names else "Agent"


def _is_pattern(ir: AgentIR) -> bool:
    return any(n.kind == "unknown" for n in ir.nodes.values())


def _identifier(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


class _Module:
    def __init__(self, several: bool) -> None:
        self.types: dict[str, str] = {}  # TypedDicts and Literals, by name
        self.builtins: set[str] = set()
        self.several = several  # (then each function's name starts with its agent's)
        self.prefix = ""

    # -- types ---------------------------------------------------------------------------

    def type(self, t: Any) -> str:
        match t:
            case Prim(name=name):
                return name
            case ListT(item=item):
                return f"list[{self.type(item)}]"
            case DictT(value=value):
                return f"dict[str, {self.type(value)}]"
            case OptionalT(inner=inner):
                return f"{self.type(inner)} | None"
            case EnumT():
                name = _type_name(t.name)
                if name not in self.types:
                    self.types[name] = f"{name} = Literal[{', '.join(py(m) for m in t.members)}]"
                return name
            case RecordT():
                return self.record(t)
        return "Any"

    def record(self, t: RecordT) -> str:
        name = _type_name(t.name)
        if name not in self.types:
            self.types[name] = ""  # (a record may contain itself: its fields are
            # written as strings, forward references TypedDict resolves later)
            fields = {f: self.type(ft) for f, ft in t.fields.items()}
            self.types.pop(name)
            if all(f.isidentifier() and not keyword.iskeyword(f) for f in fields):
                body = [f"    {f}: {ft}" for f, ft in fields.items()] or ["    pass"]
                self.types[name] = "\n".join([f"class {name}(TypedDict):", *body])
            else:
                entries = ", ".join(f"{py(f)}: {py(ft)}" for f, ft in fields.items())
                self.types[name] = f'{name} = TypedDict("{name}", {{{entries}}})'
        return name

    # -- expressions ---------------------------------------------------------------------

    def expr(self, node: Any, env: str = "env") -> str:
        match node:
            case (
                ast.StringLit(value=value)
                | ast.IntLit(value=value)
                | ast.FloatLit(value=value)
                | ast.BoolLit(value=value)
            ):
                return py(value)
            case ast.NullLit():
                return "None"
            case ast.Ref(parts=parts):
                return f"ref({env}, {', '.join(py(p) for p in parts)})"
            case ast.ListLit(items=items):
                return f"[{', '.join(self.expr(i, env) for i in items)}]"
            case ast.DictLit(entries=entries):
                pairs = ", ".join(f"{py(e.key)}: {self.expr(e.value, env)}" for e in entries)
                return f"{{{pairs}}}"
            case ast.Not(operand=operand):
                return f"(not {self.expr(operand, env)})"
            case ast.BoolOp(op=op, left=left, right=right):
                return f"({self.expr(left, env)} {op} {self.expr(right, env)})"
            case ast.Compare(op=op, left=left, right=right):
                return f"compare({py(op)}, {self.expr(left, env)}, {self.expr(right, env)})"
            case ast.Arith(op=op, left=left, right=right):
                return f"arith({py(op)}, {self.expr(left, env)}, {self.expr(right, env)})"
            case ast.Call(func="latest" | "history" as func, args=[ast.Ref(parts=parts), *_]):
                values = f"(state.get({py(_key(parts[0]))}) or [])"
                return values if func == "history" else f"last({values[1:-1]})"
            case ast.Call(func=func, args=args) if func in BUILTINS:
                self.builtins.add(func)
                return f"fn_{func}({', '.join(self.expr(a, env) for a in args)})"
        raise NotExpressible(f"the expression `{node!r}`")

    # -- an agent ------------------------------------------------------------------------

    def agent(self, ir: AgentIR) -> str:
        name = _identifier(ir.name)
        self.prefix = f"{name}_" if self.several else ""
        for node in ir.nodes.values():
            if node.kind == "human":
                raise NotExpressible(
                    f"node `{node.name}` is a human step ({node.callee}); "
                    "`rolegraph.langgraph(ir)` builds a graph that asks it with `interrupt()`"
                )
            if node.kind not in ("role", "tool"):
                raise NotExpressible(f"node `{node.name}` calls an agent ({node.callee})")
        outputs = {n: _key(n) for n in ir.nodes}
        lines = [f"# -- {ir.name} {'-' * max(3, 80 - len(ir.name))}", ""]
        lines += [f"class {name}State(TypedDict, total=False):"]
        lines.append("    inputs: dict[str, Any]")
        for node in ir.nodes.values():
            lines.append(
                f"    {outputs[node.name]}: Annotated[list[{self.output_type(node)}], operator.add]"
            )
        lines += [
            "    failed: Annotated[dict[str, str | None], merge]  # each node's last error",
            "    taken: Annotated[dict[int, int], count]  # how often each edge was taken",
            "    times: Annotated[dict[str, list[int]], append]  # each output's logical time",
            "    trace: Annotated[list[tuple[int, str, str, Any]], operator.add]  # the firings",
            "    # the returns that fired: (logical time, value); the earliest is the result",
            f"    returns: Annotated[list[tuple[int, {self.type(ir.return_type)}]], operator.add]",
            f"    result: {self.type(ir.return_type)}  # (set by `run_{name}`)",
            "    done: Annotated[bool, operator.or_]",
            "    route: dict[str, Any]  # (in a `Send`: the edge that fires a node, its ports)",
            "",
            "",
            f"{name.upper()}_OUTPUTS = {py(outputs)}",
        ]
        for node in ir.nodes.values():
            lines += ["", "", *self.node(ir, node, name)]
        for node in ir.nodes.values():
            router = self.router(ir, node, name)
            if router:
                lines += ["", "", *router]
        for index, ret in enumerate(ir.returns_):
            lines += ["", "", *self.return_node(ir, index, ret, name)]
        lines += ["", "", *self.build(ir, name)]
        return "\n".join(_drop_unused(lines))

    def function(self, name: str) -> str:
        python = _identifier(self.prefix + name)
        while python in MODULE_NAMES:  # a node called `first`, `ref` or `json`
            python += "_"
        return python

    def output_type(self, node: IRNode) -> str:
        one = self.type(node.result) if node.result is not None else "Any"
        return f"list[{one}]" if node.replicate or node.map_var else one

    def node(self, ir: AgentIR, node: IRNode, agent: str) -> list[str]:
        function = self.function(node.name)
        reads = sorted(
            {
                head
                for e in [*node.args.values(), node.map_source]
                for head in ref_heads(e, ir.nodes)
            }
        )
        lines = [
            f"async def {function}(state: {agent}State, config: RunnableConfig) -> dict[str, Any]:",
            f'    """`{node.name} = {node.callee}(...)`."""',
            '    if state.get("done"):',
            "        return {}",
            '    route = state.get("route") or {}',
            '    ports = route.get("ports", {})',
            f'    env = {{**state["inputs"], **latest(state, {agent.upper()}_OUTPUTS)}}',
            "    args = {",
        ]
        per_item = []
        for param, _type, default in node.params:
            expr = node.args.get(param)
            if expr is not None and node.map_var is not None and reads_name(expr, node.map_var):
                per_item.append((param, expr))
                value = "None"
            elif expr is not None:
                value = self.expr(expr)
            else:
                value = py(default)
            lines.append(
                f"        {py(param)}: ports[{py(param)}] if {py(param)} in ports else {value},"
            )
        lines.append("    }")
        lines.append(f"    time = time_of(state, {py(reads)}, route)")
        call = self.call(node)
        if node.map_var is not None:
            lines += [
                f"    items = ({self.expr(node.map_source)} or [])[: {node.map_max}]",
                "",
                "    async def one(index: int, item: Any) -> Any:",
                f"        item_env = {{**env, {py(node.map_var)}: item}}",
                "        item_args = dict(args)",
            ]
            for param, expr in per_item:
                lines.append(
                    f"        if {py(param)} not in ports:\n"
                    f"            item_args[{py(param)}] = {self.expr(expr, 'item_env')}"
                )
            lines += [
                f"        return await {call.format(args='item_args', replica='index')}",
                "",
                "    work = asyncio.gather(*(one(i, item) for i, item in enumerate(items)))",
            ]
            output = "list(await work)"
        elif node.replicate:
            replicas = f"range({node.replicate})"
            call_text = call.format(args="args", replica="i")
            lines.append(f"    work = asyncio.gather(*({call_text} for i in {replicas}))")
            output = "list(await work)"
        else:
            output = f"await {call.format(args='args', replica='0')}"
        taken = '{route["edge"]: 1} if "edge" in route else {}'
        done = (
            f"{{{py(_key(node.name))}: [output], "
            f'"failed": {{{py(node.name)}: None}}, "times": {{{py(node.name)}: [time]}}, '
            f'"trace": [(time, {py(node.name)}, "ok", output)], "taken": {taken}}}'
        )
        if any(e.condition == "error" for e in ir.edges if e.source == node.name):
            lines += [
                "    try:",
                f"        output = {output}",
                "    except Exception as error:  # its `on error` edges take it",
                '        failure = f"{type(error).__name__}: {error}"',
                "        return {",
                f'            "failed": {{{py(node.name)}: failure}},',
                f'            "times": {{{py(node.name)}: [time]}},',
                f'            "trace": [(time, {py(node.name)}, "failed", None)],',
                f'            "taken": {taken},',
                "        }",
            ]
        else:
            lines.append(f"    output = {output}")
        lines.append(f"    return {done}")
        return lines

    def call(self, node: IRNode) -> str:
        """The call of one firing, with `{args}` and `{replica}` to fill in."""
        if node.kind == "tool":
            return f"call_tool({py(node.target or '')}, {py(node.target_folder)}, {{args}})"
        role = {
            "name": node.callee,
            "model": node.model or "",
            "system": node.system,
            "prompt": node.prompt,
            "schema": _schema(node.result),
            "params": node.model_params,
            "tools": [
                {"schema": _tool_schema(t), "target": t.target, "folder": t.folder}
                for t in node.tools
            ],
            "tool_steps": node.tool_steps,
        }
        constant = f"ROLE_{self.function(node.name).upper()}"
        self.types[constant] = f"{constant}: dict[str, Any] = {_literal(role)}"
        return f"call_role(config, {constant}, {py(node.name)}, {{args}}, {{replica}})"

    def router(self, ir: AgentIR, node: IRNode, agent: str) -> list[str]:
        edges = sorted(
            (e for e in ir.edges if e.source == node.name and e.kind in ("control", "return")),
            key=lambda e: e.index,
        )
        followers = [n for n, other in ir.nodes.items() if other.deps == (node.name,)]
        returns = [i for i, ret in enumerate(ir.returns_) if ret.deps == (node.name,)]
        if not (edges or followers or returns):
            return []
        lines = [
            f"def {self.function('route_' + node.name)}(state: {agent}State) -> list[Any]:",
            f'    """Where `{node.name}` goes: its edges in order, then what reads it."""',
            '    if state.get("done"):',
            "        return [END]",
            f'    env = {{**state["inputs"], **latest(state, {agent.upper()}_OUTPUTS)}}',
            f'    time = state["times"][{py(node.name)}][-1]',
            '    taken = state.get("taken") or {}',
            f'    failed = (state.get("failed") or {{}}).get({py(node.name)}) is not None',
            "    chosen: list[Any] = []",
            "",
            "    def send(edge: int, target: str, ports: dict[str, Any]) -> None:",
            '        route = {"edge": edge, "time": time, "ports": ports}',
            '        chosen.append(Send(target, {**state, "route": route}))',
            "",
        ]
        when = [e for e in edges if e.condition == "when"]
        lines.append("    if failed:")
        handlers = [e for e in edges if e.condition == "error"]
        lines += [f"        {line}" for e in handlers for line in self.take(e, "True")]
        lines.append("        return chosen or [END]")
        for edge in when:
            lines += [
                f"    {line}" for line in self.take(edge, f"holds(lambda: {self.expr(edge.guard)})")
            ]
        for edge in edges:
            if edge.condition == "always":
                lines += [f"    {line}" for line in self.take(edge, "True")]
        otherwise = [e for e in edges if e.condition == "else"]
        if otherwise:
            lines.append("    if not chosen:")
            lines += [f"        {line}" for e in otherwise for line in self.take(e, "True")]
        if returns:
            lines.append("    if not any(_ends(s) for s in chosen):")
            route = '{**state, "route": {"time": time}}'
            lines += [f"        chosen.append(Send({py(f'return-{i}')}, {route}))" for i in returns]
        lines.append("    if any(_ends(s) for s in chosen):  # a return wins: nothing else fires")
        lines.append("        return [s for s in chosen if _ends(s)][:1]")
        targets = {s for s in followers}
        for follower in sorted(targets):
            lines.append(
                f"    if not any(getattr(s, 'node', s) == {py(follower)} for s in chosen):\n"
                f"        chosen.append({py(follower)})"
            )
        lines.append("    return chosen or [END]")
        return lines

    def take(self, edge: Any, condition: str) -> list[str]:
        bound = f"taken.get({edge.index}, 0) < {edge.max} and " if edge.max is not None else ""
        if edge.kind == "return":
            value = self.expr(edge.value)
            send = (
                f"chosen.append(Send({py(f'return-edge-{edge.index}')}, "
                f'{{**state, "route": {{"edge": {edge.index}, "time": time, "value": {value}}}}}))'
            )
        else:
            ports = ", ".join(f"{py(p)}: {self.expr(v)}" for p, v in edge.ports.items())
            send = f"send({edge.index}, {py(edge.target)}, {{{ports}}})"
        return [f"if {bound}{condition}:", f"    {send}"]

    def return_node(self, ir: AgentIR, index: int, ret: Any, agent: str) -> list[str]:
        return [
            f"async def {self.function(f'return_{index}')}(state: {agent}State) -> dict[str, Any]:",
            '    """`return ...`: the run ends with its value."""',
            '    if state.get("done"):',
            "        return {}",
            f'    env = {{**state["inputs"], **latest(state, {agent.upper()}_OUTPUTS)}}',
            f"    time = time_of(state, {py(list(ret.deps))}, state.get('route') or {{}})",
            f'    return {{"returns": [(time, {self.expr(ret.value)})], "done": True}}',
        ]

    def build(self, ir: AgentIR, agent: str) -> list[str]:
        lines = [
            f"def build_{agent}() -> StateGraph:",
            f'    """`{ir.name}` as a `StateGraph`: add to it, then `.compile()` it."""',
            f"    graph = StateGraph({agent}State)",
        ]
        for node in ir.nodes.values():
            function = self.function(node.name)
            lines.append(f"    graph.add_node({py(node.name)}, {function})")
        for index in range(len(ir.returns_)):
            function = self.function(f"return_{index}")
            lines.append(f'    graph.add_node("return-{index}", {function})')
        return_edges = [e for e in ir.edges if e.kind == "return"]
        for edge in return_edges:
            function = self.function(f"edge_return_{edge.index}")
            lines.append(f'    graph.add_node("return-edge-{edge.index}", {function})')
        for node in ir.nodes.values():
            if node.entry:
                lines.append(f"    graph.add_edge(START, {py(node.name)})")
            if len(node.deps) > 1:
                lines.append(f"    graph.add_edge({py(list(node.deps))}, {py(node.name)})")
            if (
                any(e.source == node.name and e.kind != "data" for e in ir.edges)
                or any(other.deps == (node.name,) for other in ir.nodes.values())
                or any(ret.deps == (node.name,) for ret in ir.returns_)
            ):
                lines.append(
                    f"    graph.add_conditional_edges({py(node.name)}, "
                    f"{self.function('route_' + node.name)})"
                )
        for index, ret in enumerate(ir.returns_):
            if len(ret.deps) > 1:
                lines.append(f'    graph.add_edge({py(list(ret.deps))}, "return-{index}")')
            elif not ret.deps:
                lines.append(f'    graph.add_edge(START, "return-{index}")')
            lines.append(f'    graph.add_edge("return-{index}", END)')
        for edge in return_edges:
            lines.append(f'    graph.add_edge("return-edge-{edge.index}", END)')
        lines += [
            "    return graph",
            "",
            "",
            *[
                line
                for edge in return_edges
                for line in [
                    f"async def {self.function(f'edge_return_{edge.index}')}"
                    f"(state: {agent}State) -> dict[str, Any]:",
                    f'    """`{edge.source} -> return(...)`: the run ends with its value."""',
                    '    if state.get("done"):',
                    "        return {}",
                    '    route = state["route"]',
                    '    return {"returns": [(1 + route["time"], route["value"])], "done": True}',
                    "",
                    "",
                ]
            ],
            f"async def run_{agent}(inputs: dict[str, Any], model: Model) -> {agent}State:",
            f'    """Run `{ir.name}` on `inputs` with `model`: the final state, its `result`',
            "    the earliest return's value, and the firings at its logical time or after",
            '    marked `discarded` in `trace` (they ran beside the return, in its superstep)."""',
            f"    state = await build_{agent}().compile().ainvoke(",
            '        {"inputs": inputs},',
            '        {"configurable": {"model": model}, "recursion_limit": 10_000},',
            "    )",
            "    return settle(state)  # type: ignore[return-value]",
        ]
        return lines


def _drop_unused(lines: list[str]) -> list[str]:
    """The lines without a function's assignment of a local it never reads."""
    kept: list[str] = []
    function: list[str] = []

    def flush() -> None:
        body = "\n".join(function)
        for line in function:
            found = re.match(r"    (\w+) = ", line)
            if found and len(re.findall(rf"(?<![\w\"']){found[1]}(?![\w\"'])", body)) == 1:
                continue
            kept.append(line)
        function.clear()

    for line in lines:
        if line.startswith(("def ", "async def ")):
            flush()
        if line.startswith(("def ", "async def ")) or function:
            function.append(line)
        else:
            kept.append(line)
    flush()
    return kept


def _key(node: str) -> str:
    return f"{node}_outputs"


def _type_name(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def _schema(t: Any) -> dict[str, Any]:
    from .types import json_schema

    return json_schema(t)


def _tool_schema(tool: Any) -> dict[str, Any]:
    return {
        "name": tool.name,
        "parameters": {
            "type": "object",
            "properties": {n: _schema(t) for n, t in tool.params},
            "required": [n for n, _ in tool.params],
        },
    }


def _literal(value: Any) -> str:
    return py(value)
