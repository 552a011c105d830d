"""The per-firing fast paths (issue 15 item 3), each held to the general path it stands
for: how a tool is called, remembered per function, against asking `inspect` again; a
plan's Python tool calls, shared by the runs of one working directory, against a run
whose context names its own tools; an inline firing whose arguments fail, against the
same firing in a worker thread (runtime/scheduler.py, runtime/tools.py)."""

import asyncio
import uuid

import pytest

import rolegraph
from rolegraph.runtime import MockModel, model_router, run_agent
from rolegraph.runtime.context import Context
from rolegraph.runtime.plan import plan_of
from rolegraph.runtime.scheduler import AgentRun
from rolegraph.runtime.tools import INLINE, LOOP, THREAD, _how_called, how_called

from .test_tool_nonblocking import outcome

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
    "async def": ("async def bump(value: int) -> int:\n", LOOP),
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
    calls, inline = plan_of(ir).calls[str(tmp_path)]
    assert calls["a"][2] == how and inline["a"] == (how == INLINE)

    def tenfold(value: int) -> int:
        return value * 10

    async def tenfold_async(value: int) -> int:
        return value * 10

    given = {"marked": rolegraph.nonblocking(tenfold), "async def": tenfold_async}.get(
        kind, tenfold
    )
    assert _run(ir, **{f"{module}:bump": given}) == 100
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
