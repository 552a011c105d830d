"""The per-firing fast paths (issue 15 item 3), each held to the general path it stands
for: how a tool is called, remembered per function, against asking `inspect` again; a
plan's Python tool calls, shared by the runs of one working directory, against a run
whose context names its own tools; an inline firing whose arguments fail, against the
same firing in a worker thread (runtime/scheduler.py, runtime/tools.py)."""

import asyncio
import importlib
import threading
import uuid
import weakref
from typing import Any

import pytest
from hypothesis import given as drawn
from hypothesis import settings
from hypothesis import strategies as st
from pydantic import ValidationError

import rolegraph
from rolegraph.runtime import MockModel, Store, model_router, run_agent
from rolegraph.runtime.context import Context
from rolegraph.runtime.firing import arguments, given, joined_arguments, joined_names
from rolegraph.runtime.plan import plan_of
from rolegraph.runtime.scheduler import AgentRun, Output
from rolegraph.runtime.tools import INLINE, LOOP, THREAD, _how_called, how_called, marks
from rolegraph.runtime.trace import FiringRecord
from rolegraph.runtime.values import agent_inputs, coerce

from .checking import PRELUDE
from .test_tool_nonblocking import outcome, run, tool_agents, tools

AN_ARGUMENT_THAT_FAILS = """agent A(task: str) -> int {
  a = step(1)
  b = step(a)
  c = step(round(b * 1.0e308 * 10.0))
  return c
}"""


def test_an_argument_that_fails_fails_an_inline_firing_as_a_threaded_one():
    marked, plain = (
        outcome("marked", AN_ARGUMENT_THAT_FAILS),
        outcome("plain", AN_ARGUMENT_THAT_FAILS),
    )
    assert marked == plain
    result, records = marked
    assert result.startswith("FiringFailed") and "`c`" in result
    assert [r[2] for r in records if r[1] == "c"] == ["failed"]


def plain(value: int) -> int:
    return value + 1


async def coroutine(value: int) -> int:
    return value + 1


def test_how_a_function_is_called_is_remembered_and_a_later_mark_is_seen():
    def late(value: int) -> int:
        return value

    for function in (plain, coroutine, late, rolegraph.nonblocking(lambda: 1)):
        assert how_called(function) == _how_called(function)  # (the oracle: asked afresh)
        assert how_called(function) == _how_called(function)  # (and remembered)
    assert how_called(late) == THREAD
    rolegraph.nonblocking(late)
    assert how_called(late) == INLINE == _how_called(late)
    assert how_called(coroutine) == LOOP


class Adder:
    """A callable object: looked at every time, not remembered."""

    def __call__(self, value: int) -> int:
        return value + 1


def test_a_callable_object_is_looked_at_every_time():
    adder = Adder()
    assert how_called(adder) == THREAD
    assert rolegraph.nonblocking(adder) is adder
    assert how_called(adder) == INLINE == _how_called(adder)


AGENT = """tool bump(value: int) -> int = "{module}:bump"

agent Bump(value: int) -> int {{
  a = bump(value)
  b = bump(a)
  return b
}}
"""


def _run(ir, **tools):
    """A run whose context is given `tools` (none: it imports them), as `run_agent` makes it."""
    context = Context(model_router(MockModel()), tools=dict(tools))
    return asyncio.run(AgentRun(ir, {"value": 1}, context).execute())


BODIES = {
    "marked": (
        "import rolegraph\n\n@rolegraph.nonblocking\ndef bump(value: int) -> int:\n",
        INLINE,
    ),
    "async def": (
        "import asyncio\n\nasync def bump(value: int) -> int:\n    await asyncio.sleep(0)\n",
        LOOP,
    ),
    # (one that cannot suspend runs inline: tools.call_through)
    "async def, no await": ("async def bump(value: int) -> int:\n", INLINE),
    "plain": ("def bump(value: int) -> int:\n", THREAD),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_a_context_given_tools_calls_them_after_runs_that_imported_theirs(
    tmp_path, monkeypatch, kind
):
    module = f"bump_{uuid.uuid4().hex[:12]}"
    head, how = BODIES[kind]
    (tmp_path / f"{module}.py").write_text(head + "    return value + 1\n")
    monkeypatch.chdir(tmp_path)
    ir = rolegraph.load_agent("bump.agent", text=AGENT.format(module=module))
    assert _run(ir) == 3 and _run(ir) == 3  # (imported; the second run shares the first's calls)
    calls, inline = plan_of(ir).calls[(str(tmp_path), marks())]
    assert calls["a"][2] == how and inline["a"] == (how == INLINE)

    def tenfold(value: int) -> int:
        return value * 10

    async def tenfold_async(value: int) -> int:
        return value * 10

    replacement: Any = tenfold_async if kind.startswith("async def") else tenfold
    if kind == "marked":
        replacement = rolegraph.nonblocking(tenfold)
    assert how_called(replacement) == (LOOP if kind.startswith("async def") else how)
    assert _run(ir, **{f"{module}:bump": replacement}) == 100
    assert _run(ir) == 3


def test_a_tool_not_found_from_one_working_directory_is_found_from_another(tmp_path, monkeypatch):
    module = f"late_{uuid.uuid4().hex[:12]}"
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    (home / f"{module}.py").write_text(
        "import rolegraph\n\n@rolegraph.nonblocking\ndef bump(value: int) -> int:\n"
        "    return value + 2\n"
    )
    monkeypatch.chdir(home)  # (checked from where it is found: checking imports nothing)
    ir = rolegraph.load_agent("", text=AGENT.format(module=module))  # (no folder: the cwd)
    monkeypatch.chdir(elsewhere)
    with pytest.raises(rolegraph.runtime.RunError, match="node `a` failed: No module named"):
        asyncio.run(run_agent(ir, {"value": 1}))
    monkeypatch.chdir(home)
    assert asyncio.run(run_agent(ir, {"value": 1})).result == 5


# (each suspends once: awaited in a task, on `fire`'s paths; one with no `await` would
# run inline, as the `@nonblocking` ones do: tools.call_through)
async def async_step(value: int) -> int:
    await asyncio.sleep(0)
    return value + 1


async def async_add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def async_total(values: list) -> int:
    await asyncio.sleep(0)
    return sum(values)


ASYNC_TOOLS = """tool step(value: int) -> int = "tests.test_firing_paths:async_step"
tool add(a: int, b: int) -> int = "tests.test_firing_paths:async_add"
tool total(values: list[int]) -> int = "tests.test_firing_paths:async_total"
"""


def inputs(kind: str, body: str) -> list[tuple[str, str, str, dict]]:
    """Every firing's key, node, status and inputs (what its arguments were bound to),
    with the `async def` tools of this file, or the plain or `@nonblocking` ones of
    tests/test_tool_nonblocking.py."""
    if kind == "async def":
        ir = rolegraph.load_agent("test.agent", "A", text=ASYNC_TOOLS + body)
        trace = asyncio.run(run_agent(ir, {"task": "t"})).trace
    else:
        trace = run(kind, body).trace
    return sorted((r.key, r.node, r.status, r.inputs) for r in trace.firings)


def bound_alike(body: str) -> list[tuple[str, str, str, dict]]:
    """The inputs of every firing of the run (`inputs`; those that succeeded or failed),
    the same whether its tools are plain functions (threads: every argument evaluated,
    the oracle), `@nonblocking` or `async def`. (A firing at or after the return's time
    is not part of the run: cancelled, skipped or discarded by where its tool ran.)"""

    def fired(kind: str) -> list[tuple[str, str, str, dict]]:
        return [r for r in inputs(kind, body) if r[2] in ("ok", "failed")]

    plain = fired("plain")
    assert fired("marked") == plain == fired("async def")
    return plain


@settings(max_examples=40, deadline=None, derandomize=True)
@drawn(tool_agents())
def test_inline_and_async_firings_bind_the_arguments_that_threaded_ones_bind(body):
    # inline and `async def` firings that joined every node they name take their
    # arguments from the outputs they consumed (`joined_arguments`); threaded ones
    # evaluate them (compared on the firings of the run: `bound_alike`)
    assert bound_alike(body)  # (it fired)


def test_arguments_are_joined_only_when_each_names_a_node_joined():
    ir = rolegraph.load_agent(
        "test.agent",
        "A",
        text=PRELUDE
        + tools("marked")
        + """agent A(task: str) -> int {
  a = step(1)
  b = add(a, a)
  c = add(b, a)
  d = add(c, 2)
  e = step(len(task))
  f = add(e, d)
  return f
}""",
    )
    names = {name: joined_names(node) for name, node in ir.nodes.items()}
    assert names == {
        "a": None,
        "b": (("a", "a"), ("b", "a")),
        "c": (("a", "b"), ("b", "a")),
        "d": None,
        "e": None,
        "f": (("a", "e"), ("b", "d")),
    }
    consumed = {
        "e": Output(3, 2, (2, "e", "x"), repr((2, "e", "x"))),
        "d": Output(7, 4, (4, "d", "y"), repr((4, "d", "y"))),
    }
    node = ir.nodes["f"]
    general = arguments(plan_of(ir), node, given({"task": "t"}, consumed), {})
    assert joined_arguments(names["f"], consumed) == general == {"a": 3, "b": 7}


def test_checkpoints_written_per_record_read_back_as_written_field_by_field(tmp_path):
    # `Store.checkpointer` (what a run calls per firing) against `Store.checkpoint`
    store = Store(tmp_path / "store.sqlite")
    by_record = store.new_run("f", "fp", "A", {}, None)
    by_fields = store.new_run("f", "fp", "A", {}, None)
    records = [
        FiringRecord("n", index, f"k{index % 3}", "ok", output={"i": index}) for index in range(5)
    ] + [FiringRecord("m", 9, "bad", "failed", error="ValueError: no")]
    checkpoint = store.checkpointer(by_record)
    for record in records:
        checkpoint(record)
        store.checkpoint(
            by_fields,
            record.key,
            record.node,
            record.time,
            record.status,
            record.output,
            record.error,
        )
    written = store.checkpoints(by_record)
    assert (
        written == store.checkpoints(by_fields) == {"k0": {"i": 3}, "k1": {"i": 4}, "k2": {"i": 2}}
    )
    store.close()
    again = Store(tmp_path / "store.sqlite")
    assert again.checkpoints(by_record) == written


def test_a_function_marked_after_runs_is_called_inline_in_the_next(tmp_path, monkeypatch):
    module = f"mark_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{module}.py").write_text(
        "import threading\n\nseen = []\n\ndef bump(value: int) -> int:\n"
        "    seen.append(threading.get_ident())\n    return value + 1\n"
    )
    monkeypatch.chdir(tmp_path)
    ir = rolegraph.load_agent("bump.agent", text=AGENT.format(module=module))
    assert _run(ir) == 3
    imported = importlib.import_module(module)
    assert threading.get_ident() not in imported.seen  # (a plain function: in a thread)
    rolegraph.nonblocking(imported.bump)
    imported.seen.clear()
    assert _run(ir) == 3
    assert imported.seen == [threading.get_ident()] * 2  # (marked since: inline)
    _, inline = plan_of(ir).calls[(str(tmp_path), marks())]
    assert inline == {"a": True, "b": True}  # (with no task: what was found before is not used)


def test_a_plan_keeps_the_calls_of_the_latest_marks_only(tmp_path, monkeypatch):
    # (a notebook that defines its `@nonblocking` tools again and again, each time a new
    # entry: those of the marks before are never read again, and hold their functions)
    module = f"marks_{uuid.uuid4().hex[:12]}"
    (tmp_path / f"{module}.py").write_text("def bump(value: int) -> int:\n    return value + 1\n")
    monkeypatch.chdir(tmp_path)
    ir = rolegraph.load_agent("bump.agent", text=AGENT.format(module=module))
    for _ in range(3):
        assert _run(ir) == 3
        rolegraph.nonblocking(lambda: None)
    assert _run(ir) == 3
    assert list(plan_of(ir).calls) == [(str(tmp_path), marks())]


@st.composite
def bound_loops(draw) -> str:
    """A random agent whose last node loops on itself through an edge that binds all of
    its parameters, or only some (the rest are its arguments, which may read nodes)."""
    lines = ["  n0 = step(1)"]
    nodes = ["n0"]
    for index in range(1, draw(st.integers(1, 4))):
        other = draw(st.sampled_from(nodes))
        lines.append(f"  n{index} = add({other}, {draw(st.integers(0, 3))})")
        nodes.append(f"n{index}")
    last = f"n{len(nodes)}"
    if draw(st.booleans()):
        lines.append(f"  {last} = step({nodes[-1]})")
        ports = [f"value: {last}"]
    else:
        other = draw(st.sampled_from([*nodes, "2", "len(task)"]))
        if draw(st.booleans()):  # (reading no node: it may run inline)
            lines.append(f"  {last} = add(len(task), {draw(st.sampled_from(['2', 'len(task)']))})")
        else:
            lines.append(f"  {last} = add({nodes[-1]}, {other})")
        ports = draw(
            st.sampled_from(
                [[f"a: {last}"], [f"b: {last}"], [f"a: {last}", "b: 1"], ["b: 2", f"a: {last}"]]
            )
        )
    bound = draw(st.integers(1, 4))
    lines.append(f"  {last} -> {last}({', '.join(ports)}) when {last} < 20 max {bound}")
    lines.append(f"  {last} -> return([{last}]) else")
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}"


@settings(max_examples=30, deadline=None, derandomize=True)
@drawn(bound_loops())
def test_firings_whose_edge_binds_every_parameter_bind_what_threaded_ones_bind(body):
    # inline and `async def` firings whose edge binds all their parameters evaluate no
    # argument (`plan.parameters`); threaded ones, and those bound in part, evaluate them
    plain = bound_alike(body)
    assert any(r[1] == f"n{body.count(' = ') - 1}" for r in plain)


def test_an_edge_that_binds_some_parameters_leaves_the_others_to_their_arguments():
    body = """agent A(task: str) -> int {
  a = step(1)
  n = add(a, 5)
  n -> n(a: n) when n < 20 max 3
  n -> return(n) else
  m = add(6, len(task))
  m -> m(a: m) when m < 20 max 3
}"""
    for kind in ("plain", "marked", "async def"):
        records = inputs(kind, body)
        assert sorted(r[3]["a"] for r in records if r[1] == "n") == [2, 7, 12, 17], kind
        assert {r[3]["b"] for r in records if r[1] == "n"} == {5}, kind
        assert sorted(r[3]["a"] for r in records if r[1] == "m") == [6, 7, 8, 9], kind
        assert {r[3]["b"] for r in records if r[1] == "m"} == {1}, kind


def test_a_list_of_joined_names_is_joined_and_any_other_list_is_evaluated():
    ir = rolegraph.load_agent(
        "test.agent",
        "A",
        text=PRELUDE
        + tools("marked")
        + """agent A(task: str) -> int {
  a = step(1)
  b = step(2)
  g = total([a, b, a])
  h = total([a, 1])
  i = total([])
  j = total([a, len(task)])
  return g
}""",
    )
    names = {name: joined_names(node) for name, node in ir.nodes.items()}
    assert names["g"] == (("values", ("a", "b", "a")),)
    assert names["h"] is None and names["j"] is None
    assert names["i"] == (("values", ()),)
    consumed = {
        "a": Output(2, 1, (1, "a", "x"), repr((1, "a", "x"))),
        "b": Output(3, 1, (1, "b", "y"), repr((1, "b", "y"))),
    }
    general = arguments(plan_of(ir), ir.nodes["g"], given({"task": "t"}, consumed), {})
    joined = joined_arguments(names["g"], consumed)
    assert joined == general == {"values": [2, 3, 2]}
    assert joined["values"] is not joined_arguments(names["g"], consumed)["values"]  # (new)


@st.composite
def gathers(draw) -> str:
    """A random agent of `step` and `add` nodes, and `total` nodes that gather a list of
    earlier nodes (the fan-out's join), literals, or the agent's parameter."""
    lines: list[str] = []
    nodes: list[str] = []
    for index in range(draw(st.integers(1, 7))):
        name = f"n{index}"
        if nodes and draw(st.booleans()):
            items = draw(st.lists(st.sampled_from([*nodes, *nodes, "3", "len(task)"]), max_size=5))
            lines.append(f"  {name} = total([{', '.join(items)}])")
        elif nodes and draw(st.booleans()):
            lines.append(f"  {name} = add({draw(st.sampled_from(nodes))}, 1)")
        else:
            lines.append(f"  {name} = step({draw(st.sampled_from([*nodes, '0']))})")
        nodes.append(name)
    lines.append(f"  return [{', '.join(nodes)}]")
    return "agent A(task: str) -> list[int] {\n" + "\n".join(lines) + "\n}"


@settings(max_examples=40, deadline=None, derandomize=True)
@drawn(gathers())
def test_firings_that_gather_joined_nodes_bind_what_threaded_ones_bind(body):
    # inline and `async def` firings given a list of nodes they joined take it from the
    # outputs they consumed; threaded ones evaluate the list
    bound_alike(body)


def _inputs_as_before(ir, inputs):
    """`agent_inputs` as it was written before its key tests (the oracle)."""
    values = dict(ir.param_defaults)
    values.update(inputs)
    unknown = set(values) - set(ir.param_types)
    if unknown:
        return f"no parameter `{sorted(unknown)[0]}`"
    missing = [p for p in ir.param_types if p not in values]
    if missing:
        return f"needs the input `{missing[0]}`"
    return {name: coerce(ir.param_types[name], values[name]) for name in values}


@settings(max_examples=60, deadline=None, derandomize=True)
@drawn(
    st.dictionaries(
        st.sampled_from(["task", "count", "ratio", "other", "zz"]),
        st.sampled_from([1, 2.0, "x", True]),
        max_size=5,
    )
)
def test_an_agents_inputs_are_checked_as_before(given_inputs):
    ir = rolegraph.load_agent(
        "test.agent",
        "A",
        text=PRELUDE
        + "agent A(task: str, count: int = 3, ratio: float = 0.5) -> str {\n  return task\n}",
    )
    try:
        expected = _inputs_as_before(ir, given_inputs)
    except ValidationError:
        expected = "invalid input for agent `A`"
    try:
        found = agent_inputs(ir, given_inputs)
    except rolegraph.runtime.RunError as error:
        assert isinstance(expected, str) and expected in str(error)
    else:
        assert found == expected and list(found) == list(expected)


A_PORT_THAT_FAILS = """agent A(task: str) -> int {
  a = step(1)
  b = step(2)
  a -> b(value: round(a * 1.0e308 * 10.0))
  return b
}"""


@pytest.mark.parametrize("kind", ["plain", "marked", "async def"])
def test_what_fails_after_a_firing_fails_the_run_whichever_way_it_fired(kind):
    # (what follows a firing: its routing, here a port that cannot be evaluated, ends the
    # run with an error naming that firing, whether it ran in a task or inline)
    if kind == "async def":
        ir = rolegraph.load_agent("test.agent", "A", text=ASYNC_TOOLS + A_PORT_THAT_FAILS)
    else:
        ir = rolegraph.load_agent("test.agent", "A", text=PRELUDE + tools(kind) + A_PORT_THAT_FAILS)
    with pytest.raises(rolegraph.runtime.RunError, match="after `a` fired: ") as raised:
        asyncio.run(run_agent(ir, {"task": "t"}, model=MockModel()))
    assert [r.status for r in raised.value.trace.firings if r.node == "a"] == ["ok"]


def test_a_run_keeps_its_state_in_slots_each_set_when_it_is_made():
    """`AgentRun`'s state is in slots (a run of some fifty attributes is cheaper to make
    and to read than with an instance dict: bench/RESULTS.md runtime-s18): it has no
    `__dict__`, so an attribute not among them fails at once, and each slot is one
    `__init__` sets (none left over from a state since removed); it may still be referred
    to weakly."""
    ir = rolegraph.load_agent(
        "test.agent", text="agent A(value: int) -> int {\n  return value\n}\n"
    )

    async def made() -> AgentRun:
        return AgentRun(ir, {"value": 1}, Context(model_router(MockModel()), tools={}))

    run = asyncio.run(made())
    assert not hasattr(run, "__dict__")
    assert [name for name in AgentRun.__slots__ if not hasattr(run, name)] == []
    assert weakref.ref(run)() is run  # (as before the slots: a run may be held weakly)


def test_every_attribute_a_run_sets_anywhere_is_one_of_its_slots():
    """A run's attributes set outside `__init__` (or by another module: runtime/human.py,
    runtime/constraints.py) fail only on the path that sets them: held here by reading
    the code, not by running each path."""
    import ast
    import inspect
    import pathlib

    import rolegraph.runtime as package

    stores = set()
    for path in pathlib.Path(package.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            runs = {
                a.arg
                for a in (*node.args.args, *node.args.kwonlyargs)
                if a.annotation is not None and "AgentRun" in ast.unparse(a.annotation)
            }
            for target in ast.walk(node):
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.ctx, ast.Store)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in runs
                ):
                    stores.add(target.attr)
    owned = {
        node.attr
        for node in ast.walk(ast.parse(inspect.getsource(AgentRun)))
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    }
    assert stores  # (runtime/human.py sets `parent`, `path`; constraints.py `shield_time`)
    assert sorted((owned | stores) - set(AgentRun.__slots__)) == []
