"""An inline firing (`runtime/scheduler.py` `fire_inline`: a `@nonblocking` function, an
`async def` with no `await`) skips its coercers only for values of exactly the type they
return as they are (`values.as_is`): a bool returned for an `int`, or a subclass of `int`
or `str`, is coerced as a firing in a worker thread coerces it; and an `async def` that
cannot suspend runs in no task of its own (`tools.call_through`)."""

import asyncio

import rolegraph
from rolegraph.runtime import MockModel, run_agent

HERE = "tests.test_inline_exact_types"


class _Int(int):
    pass


class _Str(str):
    pass


@rolegraph.nonblocking
def nb_bool(value: int) -> int:
    return value > 0


async def as_sub(value: int) -> int:
    return _Int(value + 1)


@rolegraph.nonblocking
def nb_str(value: int) -> str:
    return _Str(value)


def th_bool(value: int) -> int:  # (unmarked: a worker thread, coerced by `call_tool`)
    return value > 0


TOOLS = "".join(
    f'tool {name}(value: int) -> {result} = "{HERE}:{name}"\n'
    for name, result in [
        ("nb_bool", "int"),
        ("as_sub", "int"),
        ("nb_str", "str"),
        ("th_bool", "int"),
    ]
)

AGENT = """agent A(task: str) -> str {
  a = nb_bool(3)
  t = th_bool(3)
  b = as_sub(a)
  s = nb_str(b)
  return s
}
"""


def test_inline_firings_coerce_what_is_not_exactly_their_type():
    ir = rolegraph.load_agent("exact.agent", "A", text=TOOLS + AGENT)
    result = asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    outputs = {r.node: r.output for r in result.trace.firings if r.status == "ok"}
    assert outputs["a"] == outputs["t"] == 1
    assert type(outputs["a"]) is type(outputs["t"]) is int  # (a bool result: as a thread's)
    assert type(outputs["b"]) is int and outputs["b"] == 2  # (an int subclass: plain int)
    assert type(outputs["s"]) is str and outputs["s"] == "2"  # (a str subclass: plain str)


tasks: list[object] = []


async def as_chain(value: int) -> int:
    tasks.append(asyncio.current_task())
    return value + 1


def test_an_async_def_that_cannot_suspend_runs_in_no_task_of_its_own():
    # (`tools.call_through`: run to its end where `fire_inline` is; awaited in a task of
    # its own, as an awaitable it returned would be, each firing would have another task)
    tasks.clear()
    text = f'tool as_chain(value: int) -> int = "{HERE}:as_chain"\n' + (
        "agent C(task: str) -> int {\n  a = as_chain(1)\n  b = as_chain(a)\n"
        "  c = as_chain(b)\n  return c\n}\n"
    )
    ir = rolegraph.load_agent("chain.agent", "C", text=text)
    assert asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel())).result == 4
    assert len(tasks) == 3 and len(set(map(id, tasks))) == 1
