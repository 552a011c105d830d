"""Generators of hostile `.agent` programs: every construct nested `depth` levels deep,
and agents of many nodes (a chain, a fan-out, a chain of agents).

Each generator returns a whole program in which one construct is nested; the rest is a
small valid agent, so what the front end and the checker do with the nesting is what a
test sees. Used by tests/test_hostile_input.py and bench/bench_hostile.py.
"""

from __future__ import annotations

from collections.abc import Callable

_PRELUDE = """model m = "mock"
type T { ok: bool, text: str }
"""


def _program(
    *,
    field_type: str = "str",
    field_extra: str = "",
    role_params: str = "task: str",
    prompt: str = '"{{ task }}"',
    model_params: str = "",
    node_args: str = "task",
    guard: str = "r.ok",
    returns: str = "r",
    formula: str = "always(return -> once r)",
    test: str = "",
    ct_default: str = "",
) -> str:
    ct = f"[k: int = {ct_default}]" if ct_default else ""
    return (
        f'model m = "mock"{" { " + model_params + " }" if model_params else ""}\n'
        f"type T {{\n  ok: bool\n  text: str\n  x: {field_type}{field_extra}\n}}\n"
        f"role R({role_params}) -> T {{\n  model m\n  prompt {prompt}\n}}\n"
        f"agent A{ct}(task: str) -> T {{\n"
        f"  r = R({node_args})\n"
        f"  r -> return({returns}) when {guard}\n"
        f"  r -> return(r) else\n"
        f"  ensure {formula}\n"
        f"}}\n"
        f"{test}"
    )


def _test_block(
    *,
    args: str = 'task: "t"',
    replies: str = '[{ok: true, text: "a", x: "b"}]',
    expect: str = "eventually return",
) -> str:
    return f"test t {{\n  run A({args})\n  mock R {replies}\n  expect {expect}\n}}\n"


def _nest(open_: str, core: str, close: str, depth: int) -> str:
    return open_ * depth + core + close * depth


def _chain(item: str, op: str, depth: int) -> str:
    return f" {op} ".join([item] * (depth + 1))


#: construct name → program with that construct nested `depth` levels deep
NESTED: dict[str, Callable[[int], str]] = {
    "list type": lambda d: _program(field_type=_nest("list[", "str", "]", d)),
    "dict type": lambda d: _program(field_type=_nest("dict[str, ", "str", "]", d)),
    "parameter type": lambda d: _program(
        role_params="task: str, p: " + _nest("list[", "str", "]", d) + " = []"
    ),
    "field default": lambda d: _program(
        field_type=_nest("list[", "str", "]", d), field_extra=" = " + _nest("[", "", "]", d)
    ),
    "annotation argument": lambda d: _program(
        field_extra=" @desc(" + _nest("[", '"a"', "]", d) + ")"
    ),
    "model parameter list": lambda d: _program(model_params="p: " + _nest("[", "1", "]", d)),
    "model parameter dict": lambda d: _program(model_params="p: " + _nest("{a: ", "1", "}", d)),
    "guard not": lambda d: _program(guard="not " * d + "r.ok"),
    "guard or": lambda d: _program(guard=_chain("r.ok", "or", d)),
    "guard and": lambda d: _program(guard=_chain("r.ok", "and", d)),
    "guard parentheses": lambda d: _program(guard=_nest("(", "r.ok", ")", d)),
    "guard call": lambda d: _program(guard=_nest("len(", "r.text", ")", d) + " > 0"),
    "guard list": lambda d: _program(guard="r.text in " + _nest("[", '"a"', "]", d)),
    "argument list": lambda d: _program(
        role_params="task: str, p: " + _nest("list[", "str", "]", d),
        node_args="task, " + _nest("[", "task", "]", d),
    ),
    "argument dict": lambda d: _program(
        role_params="task: str, p: " + _nest("dict[str, ", "str", "]", d),
        node_args="task, " + _nest("{a: ", "task", "}", d),
    ),
    "return value": lambda d: _program(returns=_nest("[", "r", "]", d)),
    "pattern default": lambda d: _program(ct_default=_nest("[", "1", "]", d)),
    "formula always": lambda d: _program(formula="always " * d + "r"),
    "formula not": lambda d: _program(formula="not " * d + "r"),
    "formula letters": lambda d: _program(formula="! " * d + "r"),
    "formula implies": lambda d: _program(formula=_chain("r", "->", d)),
    "formula until": lambda d: _program(formula=_chain("r", "until", d)),
    "formula and": lambda d: _program(formula=_chain("r", "and", d)),
    "formula parentheses": lambda d: _program(formula=_nest("(", "r", ")", d)),
    "jinja if": lambda d: _program(
        prompt='"""' + _nest("{% if task %}", "{{ task }}", "{% endif %}", d) + '"""'
    ),
    "jinja parentheses": lambda d: _program(prompt='"{{ ' + _nest("(", "task", ")", d) + ' }}"'),
    "jinja filters": lambda d: _program(prompt='"{{ task' + "|upper" * d + ' }}"'),
    "test mock": lambda d: _program(test=_test_block(replies=_nest("[", "1", "]", d))),
    "test run": lambda d: _program(test=_test_block(args="task: " + _nest("[", '"t"', "]", d))),
    "test expect": lambda d: _program(test=_test_block(expect="not " * d + "eventually return")),
    "test expect and": lambda d: _program(
        test=_test_block(expect=_chain("calls(R) == 1", "and", d))
    ),
}


def chain_agent(nodes: int) -> str:
    """One agent whose nodes form a chain: each reads the one before."""
    lines = [_PRELUDE, 'role R(task: str) -> T {\n  model m\n  prompt "{{ task }}"\n}\n']
    lines.append("agent Chain(task: str) -> T {")
    lines.append("  n0 = R(task)")
    lines += [f"  n{i} = R(n{i - 1}.text)" for i in range(1, nodes)]
    lines.append(f"  return n{nodes - 1}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def fan_out_agent(nodes: int) -> str:
    """One agent whose nodes all read the first, and a merge that reads them all."""
    lines = [
        _PRELUDE,
        'role R(task: str) -> T {\n  model m\n  prompt "{{ task }}"\n}\n',
        'role M(items: list[T]) -> T {\n  model m\n  prompt "{{ items }}"\n}\n',
        "agent Fan(task: str) -> T {",
        "  root = R(task)",
    ]
    lines += [f"  n{i} = R(root.text)" for i in range(nodes)]
    lines.append("  merge = M([" + ", ".join(f"n{i}" for i in range(nodes)) + "])")
    lines.append("  return merge")
    lines.append("}")
    return "\n".join(lines) + "\n"


def agent_chain(agents: int) -> str:
    """`agents` agents, each of which uses the one declared before it as a node."""
    lines = [_PRELUDE, 'role R(task: str) -> T {\n  model m\n  prompt "{{ task }}"\n}\n']
    lines.append("agent A0(task: str) -> T {\n  r = R(task)\n  return r\n}")
    lines += [
        f"agent A{i}(task: str) -> T {{\n  r = A{i - 1}(task)\n  return r\n}}"
        for i in range(1, agents)
    ]
    return "\n".join(lines) + "\n"


#: A script that runs CLI commands on files in one fresh process and prints, for each file
#: and command, a JSON line: [file, command, exit code, the exception that escaped or null,
#: "CODE@line:col" of each error]. `python -c CLI_DRIVER FILES_JSON COMMANDS_JSON [LIMIT]`,
#: LIMIT being a recursion limit for the process.
CLI_DRIVER = """
import json, re, sys
if len(sys.argv) > 3:
    sys.setrecursionlimit(int(sys.argv[3]))
from typer.testing import CliRunner
from rolegraph.cli import app
paths, commands = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for path in paths:
    for command in commands:
        result = CliRunner().invoke(app, [command[0], path, *command[1:]])
        escaped = result.exception if not isinstance(result.exception, SystemExit) else None
        found = re.findall(r"error\\[(E\\d+)\\]: .*\\n --> .*?:(\\d+:\\d+)", result.output)
        print(json.dumps([
            path,
            command,
            result.exit_code,
            f"{type(escaped).__name__}: {escaped}"[:300] if escaped else None,
            [f"{code}@{where}" for code, where in found],
        ]), flush=True)
"""

#: Every command, as CLI arguments after the file.
EVERY_COMMAND = (
    ("parse",),
    ("parse", "--json"),
    ("check",),
    ("fmt", "--check"),
    ("graph",),
    ("compile",),
    ("run", "--model", "mock", "--no-store", "-q", "--input", '{"task": "t"}'),
    ("test",),
)
