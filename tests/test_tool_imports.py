"""Your own tools are found: a `tool` (or a `module:function` scorer) in a `.py` file
beside the `.agent` file, or in the working directory, with no PYTHONPATH — from
`rolegraph check`, `run` and `search` alike — and nothing else's imports change."""

import asyncio
import importlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler.pyimport import import_callable
from rolegraph.runtime import run_agent

ROLEGRAPH = Path(sys.executable).parent / "rolegraph"
needs_cli = pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed")


@pytest.fixture
def module() -> str:
    """A module name no other test uses (sys.modules is shared by the whole session)."""
    return f"my_tools_{uuid.uuid4().hex[:12]}"


def agent_text(module: str) -> str:
    return f"""tool twice(value: int) -> int = "{module}:twice"

agent Doubler(value: int) -> int {{
  d = twice(value)
  return d
}}
"""


def project(folder: Path, module: str) -> Path:
    """An agent file and its tool module, side by side in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text("def twice(value: int) -> int:\n    return 2 * value\n")
    agent = folder / "doubler.agent"
    agent.write_text(agent_text(module))
    return agent


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(ROLEGRAPH), *args], cwd=cwd, env=env, capture_output=True, text=True)


@needs_cli
def test_check_finds_a_tool_beside_the_agent_file(tmp_path, module):
    agent = project(tmp_path / "project", module)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli("check", str(agent), cwd=elsewhere)
    assert done.returncode == 0, done.stderr


@needs_cli
def test_run_finds_a_tool_beside_the_agent_file(tmp_path, module):
    agent = project(tmp_path / "project", module)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli("run", str(agent), "--input", '{"value": 21}', "--no-store", "-q", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 42


@needs_cli
def test_run_finds_a_tool_in_the_working_directory(tmp_path, module):
    work = tmp_path / "work"
    project(work, module)
    agent = tmp_path / "agents" / "doubler.agent"
    agent.parent.mkdir()
    (work / "doubler.agent").rename(agent)
    done = cli("run", str(agent), "--input", '{"value": 4}', "--no-store", "-q", cwd=work)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 8


@needs_cli
def test_search_finds_a_tool_and_a_scorer_beside_the_agent_file(tmp_path, module):
    agent = project(tmp_path / "project", module)
    (agent.parent / f"{module}_score.py").write_text(
        "def right(result, example):\n    return float(result == example.expected)\n"
    )
    data = tmp_path / "data.jsonl"
    data.write_text('{"inputs": {"value": 1}, "expected": 2}\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(
        "search",
        str(agent),
        "--data",
        str(data),
        "--score",
        f"{module}_score:right",
        "-n",
        "1",
        "--store",
        str(tmp_path / "search.sqlite"),
        cwd=elsewhere,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    assert "best score 1.000" in done.stdout + done.stderr  # the tool ran and was scored


def test_the_import_error_says_where_it_looked(tmp_path, module):
    agent = tmp_path / "doubler.agent"
    agent.write_text(agent_text(module))  # no module beside it
    checked = rolegraph.check_source(agent.read_text(), str(agent))
    (error,) = checked.errors
    assert error.code == "E0312"
    hint = " ".join(error.hints)
    assert f"looked for module `{module}` on sys.path, then in {tmp_path}" in hint
    assert os.getcwd() in hint


def test_an_agent_loaded_from_a_file_runs_its_tool_from_beside_it(tmp_path, module):
    agent = project(tmp_path, module)
    ir = rolegraph.load_agent(agent)
    assert asyncio.run(run_agent(ir, {"value": 5})).result == 10


def test_the_agent_folder_is_not_left_on_the_import_path(tmp_path, module):
    agent = project(tmp_path, module)
    (tmp_path / f"{module}_other.py").write_text("VALUE = 1\n")
    path_before = list(sys.path)
    rolegraph.load_agent(agent)
    assert sys.path == path_before
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(f"{module}_other")


def test_a_tool_module_imports_its_neighbours_at_import_and_at_call(tmp_path, module):
    (tmp_path / f"{module}_base.py").write_text("FACTOR = 2\n")
    (tmp_path / f"{module}_late.py").write_text("OFFSET = 1\n")
    (tmp_path / f"{module}.py").write_text(
        f"from {module}_base import FACTOR\n\n"
        "def twice(value: int) -> int:\n"
        f"    from {module}_late import OFFSET  # imported only when called\n"
        "    return FACTOR * value + OFFSET - 1\n"
    )
    agent = tmp_path / "doubler.agent"
    agent.write_text(agent_text(module))
    assert asyncio.run(run_agent(rolegraph.load_agent(agent), {"value": 3})).result == 6


def test_a_file_beside_the_agent_never_shadows_an_installed_module(tmp_path):
    (tmp_path / "json.py").write_text("def dumps(value):\n    return 'shadowed'\n")
    assert import_callable("json:dumps", str(tmp_path)) is json.dumps


_KINDS = {
    "thread": ("", "def"),
    "nonblocking": ("@rolegraph.nonblocking\n", "def"),
    "async": ("", "async def"),
}


@pytest.mark.parametrize("kind", sorted(_KINDS))
def test_tools_in_two_folders_each_import_beside_their_own_file(tmp_path, module, kind):
    """Firings alternate between a tool declared beside the agent and one declared in an
    imported file in `lib/`: each call's late import finds its own neighbour (the import
    scope is set per call, by the direct entry `call_beside` / `enter_folder` as by
    `beside`), and no scope is left set once the run ends."""
    from rolegraph.compiler import pyimport

    mark, define = _KINDS[kind]
    lib = tmp_path / "lib"
    lib.mkdir()
    for folder, name, step in ((tmp_path, f"{module}_a", 1), (lib, f"{module}_b", 10)):
        (folder / f"{name}_near.py").write_text(f"STEP = {step}\n")
        (folder / f"{name}.py").write_text(
            f"import rolegraph\n\n{mark}{define} bump(value: int) -> int:\n"
            f"    from {name}_near import STEP  # only beside this file\n"
            "    return value + STEP\n"
        )
    (lib / "tools.agent").write_text(f'tool far(value: int) -> int = "{module}_b:bump"\n')
    agent = tmp_path / "main.agent"
    agent.write_text(
        'import "./lib/tools.agent" as lib\n\n'
        f'tool near(value: int) -> int = "{module}_a:bump"\n\n'
        "agent Steps(value: int) -> int {\n"
        "  a = near(value)\n  b = lib.far(a)\n  c = near(b)\n  d = lib.far(c)\n  return d\n}\n"
    )
    ir = rolegraph.load_agent(agent)
    assert asyncio.run(run_agent(ir, {"value": 0})).result == 22
    assert pyimport._FOLDER.get() is None


class _AnotherFinder:
    """A finder that finds nothing, added to `sys.meta_path` after rolegraph's."""

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        return None


@pytest.mark.parametrize("enter", ["call_beside", "enter_folder"])
def test_the_scope_finder_is_on_the_import_path_once_wherever_it_is(monkeypatch, enter):
    """Entering a scope puts the finder at the end of `sys.meta_path` when it is not
    there, and leaves it where it is when it is (last, or before a finder added after
    it): once, whatever was done to the list between calls."""
    from rolegraph.compiler import pyimport

    def entered() -> str | None:
        if enter == "call_beside":
            return pyimport.call_beside("here", pyimport._FOLDER.get, {})
        token = pyimport.enter_folder("here")
        try:
            return pyimport._FOLDER.get()
        finally:
            pyimport.leave_folder(token)

    finders = [f for f in sys.meta_path if f is not pyimport._FINDER]
    other = _AnotherFinder()
    for before, after in (
        ([], [pyimport._FINDER]),  # (an empty list)
        (finders, [*finders, pyimport._FINDER]),  # (gone)
        ([*finders, pyimport._FINDER], [*finders, pyimport._FINDER]),  # (last)
        ([*finders, pyimport._FINDER, other], [*finders, pyimport._FINDER, other]),
        ([pyimport._FINDER, *finders], [pyimport._FINDER, *finders]),  # (first)
    ):
        monkeypatch.setattr(sys, "meta_path", list(before))
        assert entered() == "here"
        assert sys.meta_path == after
        assert pyimport._FOLDER.get() is None
