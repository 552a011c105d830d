"""The per-firing fast paths held to the general path on typed parameters: a firing whose
edge binds every parameter (`plan.parameters`) or whose arguments name nodes it joined
(`joined_names`) is given values that its parameters' types convert or refuse (an int
for a float, a float for an int, text for a number, a mapping for a record, a record
with a default field) — whether its tool is a plain function (a worker thread: every
argument evaluated, the oracle), `@nonblocking` (inline) or `async def` (on the loop),
the run's result or error, and each firing of the run with its inputs, output and
error, are the same (runtime/scheduler.py `fire`, `fire_inline`)."""

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import rolegraph
from rolegraph.runtime import RunError, run_agent


class Point(BaseModel):
    x: float
    n: int = 2


def _scale(x: float, n: int) -> float:
    if n == -2 and x < 0:
        raise ValueError(f"no {x} x {n}")  # (a failed firing, taken by `on error`)
    return x * n


def _norm(p: Any) -> float:
    assert type(p) is dict, type(p)  # (a record is given to a tool as plain data)
    assert type(p["x"]) is float and type(p["n"]) is int, p  # (converted, defaulted)
    return p["x"] * p["n"]


def _pair(xs: list[float], n: int) -> float:
    assert all(type(x) is float for x in xs), xs  # (converted, item by item)
    return sum(xs) * n


def plain_scale(x: float, n: int) -> float:
    return _scale(x, n)


def plain_norm(p: Any) -> float:
    return _norm(p)


def plain_pair(xs: list[float], n: int) -> float:
    return _pair(xs, n)


marked_scale = rolegraph.nonblocking(_scale)
marked_norm = rolegraph.nonblocking(_norm)
marked_pair = rolegraph.nonblocking(_pair)


async def async_scale(x: float, n: int) -> float:
    return _scale(x, n)


async def async_norm(p: Any) -> float:
    return _norm(p)


async def async_pair(xs: list[float], n: int) -> float:
    return _pair(xs, n)


def loose(k: int) -> Any:
    """A value its readers' types take as it is, convert, or refuse."""
    return [1, 2.5, "7", "2e1", 3, -1.5, True, 0][k]


def mk(x: float, n: int) -> Any:
    """A record as a mapping, or as the model (`P`'s `n` left to its default when 1)."""
    return Point(x=x, n=n) if n < 0 else {"x": x} if n == 1 else {"x": x, "n": n}


def tools(kind: str) -> str:
    here = "tests.test_bound_typed_paths"
    return (
        "type P { x: float, n: int = 2 }\n"
        f'tool scale(x: float, n: int) -> float = "{here}:{kind}_scale"\n'
        f'tool norm(p: P) -> float = "{here}:{kind}_norm"\n'
        f'tool pair(xs: list[float], n: int = 1) -> float = "{here}:{kind}_pair"\n'
        f'tool loose(k: int) -> float = "{here}:loose"\n'
        f'tool mk(x: float, n: int) -> P = "{here}:mk"\n'
    )


def outcome(kind: str, body: str) -> tuple[Any, list[tuple]]:
    """The run's result or error, and each firing of the run (ok or failed) by key: its
    node, status, inputs, output and error."""
    ir = rolegraph.load_agent("test.agent", "A", text=tools(kind) + body)
    try:
        done = asyncio.run(run_agent(ir, {"task": "ab"}))
        result, trace = done.result, done.trace
    except RunError as error:
        result, trace = f"{type(error).__name__}: {error}", error.trace
    return result, sorted(
        (r.key, r.node, r.status, repr(r.inputs), repr(r.output), r.error)
        for r in trace.firings
        if r.status in ("ok", "failed")
    )


# values as the agent writes them: those its parameters' types take as they are, convert,
# or refuse
# (`w`, a node of type `float`: one of `loose`'s values, converted)
FLOATS = ["1", "2.5", "-2", "len(task)", "w"]
INTS = ["1", "-2", "len(task)", "3"]


@st.composite
def typed_agents(draw) -> str:
    """An agent whose nodes loop through edges that bind every parameter, or some, with
    values of other types, beside nodes that gather earlier nodes in a list."""
    lines = [
        f"  w = loose({draw(st.integers(0, 7))})",
        f"  a = scale({draw(st.sampled_from(FLOATS))}, {draw(st.sampled_from(INTS))})",
        "  a -> return([0.5]) on error",
    ]
    nodes = ["a"]
    for index in range(draw(st.integers(1, 4))):
        name = f"n{index}"
        shape = draw(st.sampled_from(["scale", "norm", "pair", "pair1"]))
        if shape == "scale":
            lines.append(f"  {name} = scale({draw(st.sampled_from([*nodes, 'w']))}, 2)")
            ports = draw(
                st.sampled_from(
                    [
                        [f"x: {name}", f"n: {draw(st.sampled_from(INTS))}"],
                        [f"n: {draw(st.sampled_from(INTS))}", f"x: {name}"],
                        [f"x: {draw(st.sampled_from(FLOATS))}"],
                    ]
                )
            )
        elif shape == "norm":
            made = f"m{index}"
            x, n = draw(st.sampled_from(FLOATS)), draw(st.sampled_from(INTS))
            lines.append(f"  {made} = mk({x}, {n})")
            lines.append(f"  {name} = norm({made})")
            ports = [f"p: {made}"]
        else:
            items = draw(st.lists(st.sampled_from([*nodes, "w"]), min_size=1, max_size=3))
            extra = "" if shape == "pair1" else f", {draw(st.sampled_from(INTS))}"
            lines.append(f"  {name} = pair([{', '.join(items)}]{extra})")
            ports = [f"xs: [{name}, {draw(st.sampled_from(FLOATS))}]"]
            if draw(st.booleans()):
                ports.append(f"n: {draw(st.sampled_from(INTS))}")
        lines.append(f"  {name} -> {name}({', '.join(ports)}) max {draw(st.integers(1, 3))}")
        if shape == "scale":
            lines.append(f"  {name} -> return([len({name}.error) * 1.0]) on error")
        nodes.append(name)
    lines.append(f"  return [{', '.join(nodes)}]")
    return "agent A(task: str) -> list[float] {\n" + "\n".join(lines) + "\n}"


def _checked(body: str) -> bool:
    try:
        rolegraph.load_agent("test.agent", "A", text=tools("plain") + body)
    except Exception:
        return False
    return True


@settings(max_examples=60, deadline=None, derandomize=True)
@given(typed_agents())
def test_typed_parameters_are_converted_or_refused_alike_whichever_way_a_tool_runs(body):
    if not _checked(body):  # (a value the checker refuses: no run to compare)
        return
    plain = outcome("plain", body)
    assert outcome("marked", body) == plain
    assert outcome("async", body) == plain
