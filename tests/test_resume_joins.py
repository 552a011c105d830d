"""A run resumed from its checkpoints held to a run never stopped, on random agents of
joins of many heads (whose keys are digested from the heads' labels: runtime/keys.py
`join_key`), lists of joined nodes and bounded loops, with plain, `@nonblocking` and
`async def` tools: a firing that failed is fired again, every firing that succeeded
before is replayed from its checkpoint (its key found again), none is called twice, and
the resumed run's result and firings are those of the run never stopped."""

import asyncio
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.runtime import RunError, Store, run_agent

state = {"fail": False}


def _add(a: int, b: int) -> int:
    return a + b


def _total(values: list[int]) -> int:
    return sum(values)


def _flaky(value: int) -> int:
    if state["fail"]:
        raise ValueError("not yet")
    return value * 10


def plain_add(a: int, b: int) -> int:
    return _add(a, b)


def plain_total(values: list[int]) -> int:
    return _total(values)


def plain_flaky(value: int) -> int:
    return _flaky(value)


marked_add = rolegraph.nonblocking(_add)
marked_total = rolegraph.nonblocking(_total)
marked_flaky = rolegraph.nonblocking(_flaky)


async def async_add(a: int, b: int) -> int:
    return _add(a, b)


async def async_total(values: list[int]) -> int:
    return _total(values)


async def async_flaky(value: int) -> int:
    return _flaky(value)


def tools(kind: str) -> str:
    here = "tests.test_resume_joins"
    return "".join(
        f'tool {name}({params}) -> int = "{here}:{kind}_{name}"\n'
        for name, params in [
            ("add", "a: int, b: int"),
            ("total", "values: list[int]"),
            ("flaky", "value: int"),
        ]
    )


@st.composite
def agents(draw) -> str:
    """Nodes that join two earlier nodes (or one twice), gather a list of them, or loop
    on themselves; then a node that fails in the first run, and the return of all."""
    lines = ["  n0 = add(len(task), 1)"]
    nodes = ["n0"]
    for index in range(1, draw(st.integers(2, 7))):
        name = f"n{index}"
        shape = draw(st.sampled_from(["join", "gather", "loop"]))
        if shape == "join":
            a, b = draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))
            lines.append(f"  {name} = add({a}, {b})")
        elif shape == "gather":
            items = draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=4))
            lines.append(f"  {name} = total([{', '.join(items)}])")
        else:
            lines.append(f"  {name} = add({draw(st.sampled_from(nodes))}, 1)")
            lines.append(f"  {name} -> {name}(a: {name}, b: 2) max {draw(st.integers(1, 3))}")
        nodes.append(name)
    last = draw(st.sampled_from(nodes[1:]))
    lines.append(f"  f = flaky({last})")
    lines.append(f"  return [{', '.join([*nodes, 'f'])}]")
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}"


def firings(trace: Any) -> list[tuple[str, str, str, Any]]:
    """The firings of the run (those at or after the return's time are cancelled, skipped
    or discarded by where their tools ran and when they ended)."""
    return sorted(
        (r.key, r.node, r.status, r.output) for r in trace.firings if r.status in ("ok", "failed")
    )


def run(kind: str, body: str, path: Path, resume: str | None = None) -> tuple[Any, Any, Any]:
    ir = rolegraph.load_agent("test.agent", "A", text=tools(kind) + body)
    try:
        done = asyncio.run(run_agent(ir, {"task": "ab"}, store=Store(path), resume=resume))
        return done.result, done.trace, done.run_id
    except RunError as error:
        return f"{type(error).__name__}", error.trace, error.run_id  # type: ignore[attr-defined]


@settings(max_examples=25, deadline=None, derandomize=True)
@given(body=agents(), kind=st.sampled_from(["plain", "marked", "async"]))
def test_a_resumed_run_replays_what_succeeded_and_ends_as_a_run_never_stopped(
    body, kind, tmp_path_factory
):
    folder = tmp_path_factory.mktemp("resume")
    state["fail"] = False
    result, whole, _ = run(kind, body, folder / "whole.db")
    assert not isinstance(result, str), result

    state["fail"] = True
    failed, first, run_id = run(kind, body, folder / "stopped.db")
    assert failed == "FiringFailed"
    ran = {r[0] for r in firings(whole) if r[1] != "f"}
    before = {r.key for r in first.firings if r.status == "ok"} & ran
    state["fail"] = False
    resumed, trace, _ = run(kind, body, folder / "stopped.db", resume=run_id)
    assert resumed == result
    assert firings(trace) == firings(whole)
    replayed = {r.key for r in trace.firings if "replayed from a checkpoint" in r.notes} & ran
    assert replayed == before  # (each found again by its key, and only those: none
    # committed is called again)
