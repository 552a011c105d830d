"""An `async def` tool is awaited in its firing's own frame (runtime/scheduler.py `fire`),
where every other Python tool goes through `firing.call_python`: its arguments coerced to
the declared types, its result too, and the tool's import scope set around the call and
reset after it. Held against the same tools as plain functions, which run in worker
threads through `call_tool`: the oracle (the same results, firings and errors), on the
agents of tests/test_tool_nonblocking.py and on seeded random ones."""

import asyncio
from typing import Any

from hypothesis import given, settings

import rolegraph
from rolegraph.compiler import pyimport
from rolegraph.runtime import MockModel, RunError, run_agent

from .checking import PRELUDE
from .test_tool_nonblocking import AGENTS, tool_agents


def plain_step(value: int) -> int:
    return value + 1


async def async_step(value: int) -> int:
    return value + 1


def plain_total(values: list[int]) -> int:
    return sum(values)


async def async_total(values: list[int]) -> int:
    await asyncio.sleep(0)  # (one that suspends)
    return sum(values)


def plain_add(a: int, b: int) -> int:
    return a + b


async def async_add(a: int, b: int) -> int:
    return a + b


def plain_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


async def async_picky(value: int) -> int:
    if value % 3 == 2:
        raise ValueError(f"no {value}")
    return value + 1


def plain_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


async def async_wrong(value: int) -> int:
    return "not a number"  # type: ignore[return-value]


def plain_half(value: int) -> float:
    return value  # (an int where a float is declared: the result is coerced to 3.0)


async def async_half(value: int) -> float:
    return value


def plain_kind(value: float) -> str:
    return type(value).__name__  # (an int given where a float is declared: coerced)


async def async_kind(value: float) -> str:
    return type(value).__name__


def plain_scope(value: int) -> str:
    return str(pyimport._FOLDER.get())  # (the tool's import scope, during its call)


async def async_scope(value: int) -> str:
    return str(pyimport._FOLDER.get())


TOOLS = [
    ("step", "value: int", "int"),
    ("total", "values: list[int]", "int"),
    ("add", "a: int, b: int", "int"),
    ("picky", "value: int", "int"),
    ("wrong", "value: int", "int"),
    ("half", "value: int", "float"),
    ("scope", "value: int", "str"),
    ("kind", "value: float", "str"),
]

# the agents of tests/test_tool_nonblocking.py whose tools are all here
SAME = [
    "chain",
    "loop",
    "fan-out and join",
    "errors and their edges",
    "an error with no edge",
    "a result of the wrong type",
    "a return that cancels what comes after it",
    "reads of latest outputs",
]


def ir_of(kind: str, body: str) -> Any:
    here = "tests.test_async_tool_calls"
    tools = "".join(
        f'tool {name}({params}) -> {result} = "{here}:{kind}_{name}"\n'
        for name, params, result in TOOLS
    )
    return rolegraph.load_agent("test.agent", "A", text=PRELUDE + tools + body)


def outcome(kind: str, body: str, **options: Any) -> tuple[Any, list[tuple]]:
    """The result (or the error) and every firing's time, node, status, output (with its
    type: 3 == 3.0) and error, in key order."""
    try:
        done = asyncio.run(run_agent(ir_of(kind, body), {"task": "t"}, model=MockModel()))
        result, trace = done.result, done.trace
    except RunError as error:
        result, trace = f"{type(error).__name__}: {error}", error.trace
    records = sorted(trace.firings, key=lambda r: r.key)
    return result, [(r.time, r.node, r.status, r.output, type(r.output), r.error) for r in records]


def test_runs_of_async_def_tools_are_those_of_the_same_tools_in_threads():
    for name in SAME:
        awaited, threaded = outcome("async", AGENTS[name]), outcome("plain", AGENTS[name])
        assert awaited == threaded, name
        assert awaited[1], name  # (it fired)
    assert outcome("async", AGENTS["a result of the wrong type"])[0].startswith("FiringFailed")


def test_the_result_of_an_async_def_is_coerced_to_its_declared_type():
    body = """agent A(task: str) -> float {
  a = step(2)
  h = half(a)
  return h
}"""
    awaited, threaded = outcome("async", body), outcome("plain", body)
    assert awaited == threaded
    assert awaited[0] == 3.0 and type(awaited[0]) is float


def test_the_arguments_of_an_async_def_are_coerced_to_their_declared_types():
    body = """agent A(task: str) -> str {
  a = step(2)
  k = kind(a)
  return k
}"""
    awaited, threaded = outcome("async", body), outcome("plain", body)
    assert awaited == threaded
    assert awaited[0] == "float"


def test_an_async_def_is_called_in_its_import_scope_and_leaves_it_after():
    body = """agent A(task: str) -> list[str] {
  a = scope(1)
  b = scope(2)
  return [a, b]
}"""
    after: list[Any] = []
    ir = ir_of("async", body)
    done = asyncio.run(
        run_agent(
            ir,
            {"task": "t"},
            model=MockModel(),
            # (told in the task that ran the firing, right after its call)
            on_record=lambda record: after.append(pyimport._FOLDER.get()),
        )
    )
    folder = ir.nodes["a"].target_folder
    assert done.result == [str(folder), str(folder)]
    assert done.result == outcome("plain", body)[0]
    assert after == [None, None]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(tool_agents())
def test_random_agents_give_the_same_run_with_async_def_and_threaded_tools(body):
    assert outcome("async", body) == outcome("plain", body)
