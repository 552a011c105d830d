"""The fixed part of a LangGraph program `rolegraph compile --target langgraph` writes
(compiler/langgraph_codegen.py): how a role is called, how a prompt is rendered, how an
expression reads a value, as plain functions a LangGraph user can read and replace.
It imports LangGraph, LangChain's `RunnableConfig` and jinja2 — not rolegraph."""

PRELUDE = '''
# -- calling a model ------------------------------------------------------------------
#
# A model is an async function from a request to the text of its reply: pass one in
# `config["configurable"]["model"]`. The request says which role and node call it, the
# provider's model name, the chat messages, the JSON schema the reply must match, the
# model parameters, the tools it may call, and which replica (of `x N`, or which map
# item) and which attempt this is. A reply is JSON text, or a dict
# `{"tool_calls": [{"id": ..., "name": ..., "arguments": {...}}]}` when it calls tools.
Model = Callable[[dict[str, Any]], Awaitable[Any]]
MAX_REPAIRS = 2  # further tries after a reply that is not valid JSON for the schema


def litellm_model() -> Model:
    """A model through litellm (`pip install litellm`), for real runs."""
    import litellm

    async def complete(request: dict[str, Any]) -> Any:
        reply = await litellm.acompletion(
            model=request["model"], messages=request["messages"], **request["params"]
        )
        return reply.choices[0].message.content or ""

    return complete


_PROMPTS = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


def render(template: str, args: Mapping[str, Any]) -> str:
    return _PROMPTS.from_string(template).render(**args)


def coerce(schema: Mapping[str, Any], value: Any) -> Any:
    """A reply's value as plain data of its schema (an integer where a number is due
    becomes a float, as pydantic makes it)."""
    if "anyOf" in schema:
        if value is None:
            return None
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return coerce(options[0], value) if options else value
    kind = schema.get("type")
    if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if kind == "object" and isinstance(value, dict) and "properties" in schema:
        properties = schema["properties"]
        return {k: coerce(properties.get(k, {}), v) for k, v in value.items()}
    if kind == "object" and isinstance(value, dict):
        extra = schema.get("additionalProperties") or {}
        return {k: coerce(extra, v) for k, v in value.items()}
    if kind == "array" and isinstance(value, list):
        return [coerce(schema.get("items", {}), v) for v in value]
    return value


async def call_role(
    config: RunnableConfig, role: dict[str, Any], node: str, args: dict[str, Any], replica: int
) -> Any:
    """One call of a role: its prompt rendered, the model asked, the reply checked."""
    model = config["configurable"]["model"]
    system = render(role["system"], args) if role["system"] else ""
    prompt = render(role["prompt"] or "", args)
    instructions = (
        "Reply with one JSON value that matches this JSON schema, and nothing "
        f"else:\\n{json.dumps(role['schema'])}"
    )
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    messages.append({"role": "user", "content": f"{prompt}\\n\\n{instructions}"})
    problem = ""
    for attempt in range(MAX_REPAIRS + 1):
        request = {
            "role": role["name"],
            "node": node,
            "model": role["model"],
            "messages": tuple(messages),
            "schema": role["schema"],
            "params": role["params"],
            "tools": tuple(t["schema"] for t in role["tools"]),
            "replica": replica,
            "attempt": attempt,
        }
        reply = await _tool_loop(model, request, role)
        try:
            return coerce(role["schema"], json.loads(reply))
        except ValueError as error:
            problem = str(error)
            messages += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": f"That reply does not fit the schema: {problem}."},
            ]
    raise ValueError(f"`{role['name']}` gave no valid reply: {problem}")


async def _tool_loop(model: Model, request: dict[str, Any], role: dict[str, Any]) -> str:
    """The reply to `request`, after the tool calls the model makes (at most
    `role["tool_steps"]` rounds)."""
    reply = await model(request)
    messages = list(request["messages"])
    steps = 0
    while isinstance(reply, dict) and reply.get("tool_calls"):
        if steps >= role["tool_steps"]:
            messages.append({"role": "user", "content": "No more tool calls: answer now."})
            return str(await model({**request, "messages": tuple(messages), "tools": ()}))
        for call in reply["tool_calls"]:
            spec = next((t for t in role["tools"] if t["schema"]["name"] == call["name"]), None)
            try:
                if spec is None:
                    raise LookupError(f"unknown tool {call['name']!r}")
                outcome = await call_tool(spec["target"], spec["folder"], call["arguments"])
            except Exception as error:  # the model sees the error and may recover
                outcome = {"error": f"{type(error).__name__}: {error}"}
            tool_call = {"id": call["id"], "name": call["name"], "arguments": call["arguments"]}
            messages.append({"role": "assistant", "content": "", "tool_calls": [tool_call]})
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(outcome)}
            )
        steps += 1
        request = {**request, "messages": tuple(messages)}
        reply = await model(request)
    return str(reply)


async def call_tool(target: str, folder: str, args: dict[str, Any]) -> Any:
    """A Python tool (`module:function`), imported from beside its `.agent` file."""
    module_name, _, function_name = target.partition(":")
    if folder and folder not in sys.path:
        sys.path.insert(0, folder)
    function = getattr(importlib.import_module(module_name), function_name)
    value = function(**args)
    if inspect.isawaitable(value):
        value = await value
    return value


# -- reading values: what an expression of the agent computes ---------------------------


def ref(env: Mapping[str, Any], head: str, *fields: str) -> Any:
    """`head.field...`: a parameter, a node's latest output, or else an enum member."""
    if head not in env:
        return fields[-1] if fields else head
    value = env[head]
    for part in fields:
        if value is None:
            return None  # through an optional: none
        value = value.get(part) if isinstance(value, Mapping) else getattr(value, part, None)
    return value


_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}


def compare(op: str, a: Any, b: Any) -> Any:
    try:
        return _COMPARE[op](a, b)
    except TypeError:
        if a is None or b is None:
            return False  # an ordering with none is false
        raise


def arith(op: str, a: Any, b: Any) -> Any:
    if op == "/":
        return a / b if b else 0.0  # total: dividing by zero gives 0
    if op == "%":
        return a % b if b else 0
    return {"+": operator.add, "-": operator.sub, "*": operator.mul}[op](a, b)


def holds(guard: Callable[[], Any]) -> bool:
    """Whether a guard is true; one that cannot be evaluated (a none...) is not."""
    try:
        return bool(guard())
    except (TypeError, KeyError, AttributeError):
        return False


def latest(state: Mapping[str, Any], outputs: dict[str, str]) -> dict[str, Any]:
    """The latest output of each node that has one (a failed firing's is its error)."""
    env = {}
    for node, key in outputs.items():
        values = state.get(key) or []
        if values:
            env[node] = values[-1]
    for node, error in (state.get("failed") or {}).items():
        if error is not None:
            env[node] = {"error": error}
    return env


def last(values: list[Any]) -> Any:
    """`latest(x)`: a node's latest output, or none before its first."""
    return values[-1] if values else None


def time_of(state: Mapping[str, Any], nodes: Iterable[str], route: Mapping[str, Any]) -> int:
    """Logical time: 1 + the latest time of the firings this one reads or is routed by."""
    times = state.get("times") or {}
    before = [times[n][-1] for n in nodes if times.get(n)]
    if route:
        before.append(route["time"])
    return 1 + max(before, default=0)


# The reducers of the state: how a node's update joins what is there.
def merge(left: dict | None, right: dict | None) -> dict:  # the latest value per key
    return {**(left or {}), **(right or {})}


def count(left: dict | None, right: dict | None) -> dict:  # counts, added per key
    keys = {*(left or {}), *(right or {})}
    return {k: (left or {}).get(k, 0) + (right or {}).get(k, 0) for k in keys}


def append(left: dict | None, right: dict | None) -> dict:  # lists, joined per key
    keys = {*(left or {}), *(right or {})}
    return {k: [*(left or {}).get(k, []), *(right or {}).get(k, [])] for k in keys}


def settle(state: dict[str, Any]) -> dict[str, Any]:
    """A run's final state with its result: the earliest return wins, and the firings
    at its logical time or after are not part of the run (rolegraph discards them;
    LangGraph ran them in the return's superstep)."""
    if not state.get("returns"):
        raise RuntimeError("the graph ended without a return")
    time, result = min(state["returns"], key=lambda candidate: candidate[0])
    trace = [
        (t, node, "discarded" if t >= time else status, output)
        for t, node, status, output in state.get("trace", [])
    ]
    return {**state, "result": result, "trace": trace}


def _ends(target: Any) -> bool:
    """Whether a router's choice is a return (`return-0`, `return-edge-3`)."""
    return str(getattr(target, "node", target)).startswith("return-")


def first(left: Any, right: Any) -> Any:
    return left if left is not None else right
'''

# The built-in functions of expressions, as the program defines those it uses
# (the semantics of compiler/builtins.py: total, none-safe).
BUILTINS = {
    "len": "def fn_len(value):\n    return len(value) if value is not None else 0\n",
    "sum": "def fn_sum(values):\n    return sum(v for v in values or [] if v is not None)\n",
    "any": "def fn_any(values):\n    return any(bool(v) for v in values or [])\n",
    "all": "def fn_all(values):\n    return all(bool(v) for v in values or [])\n",
    "abs": "def fn_abs(number):\n    return abs(number) if number is not None else None\n",
    "lower": "def fn_lower(text):\n    return (text or '').lower()\n",
    "upper": "def fn_upper(text):\n    return (text or '').upper()\n",
    "contains": (
        "def fn_contains(container, item):\n"
        "    return container is not None and item in container\n"
    ),
    "contains_all": (
        "def fn_contains_all(container, items):\n"
        "    return container is not None and all(item in container for item in items or [])\n"
    ),
    "count": (
        "def fn_count(values, item):\n    return sum(1 for v in values or [] if v == item)\n"
    ),
    "same": "def fn_same(values):\n    return len({repr(v) for v in values or []}) <= 1\n",
}
