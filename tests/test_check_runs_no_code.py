"""Checking a file runs none of its code: `check`, `graph`, `fmt`, `compile`, `edit` and
the editor read a tool's function from its module's source, never import it — and
still find every mismatch with the declaration. Only `run` imports (issue 12)."""

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

import rolegraph

ROLEGRAPH = Path(sys.executable).parent / "rolegraph"
needs_cli = pytest.mark.skipif(not ROLEGRAPH.exists(), reason="console script not installed")

SIDE_EFFECT = """\
import pathlib
pathlib.Path(__file__).with_name("imported.txt").open("a").write("imported\\n")
print("IMPORTED")
"""


@pytest.fixture
def module() -> str:
    """A module name no other test uses (sys.modules is shared by the whole session)."""
    return f"loud_tools_{uuid.uuid4().hex[:12]}"


def agent_text(target: str, declaration: str = "twice(value: int) -> int") -> str:
    name = declaration.partition("(")[0]
    return (
        f'tool {declaration} = "{target}"\n\n'
        f"agent Doubler(value: int) -> int {{\n  d = {name}(value)\n  return d\n}}\n"
    )


def loud_project(folder: Path, module: str) -> Path:
    """An agent and a tool module that writes `imported.txt` and prints when imported."""
    (folder / f"{module}.py").write_text(
        SIDE_EFFECT + "\n\ndef twice(value: int) -> int:\n    return 2 * value\n"
    )
    agent = folder / "doubler.agent"
    agent.write_text(agent_text(f"{module}:twice"))
    return agent


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(ROLEGRAPH), *args], cwd=cwd, env=env, capture_output=True, text=True)


def imported(folder: Path) -> bool:
    return (folder / "imported.txt").exists()


def check_tool(folder: Path, source: str, declaration: str, attribute: str = "f") -> list:
    """The diagnostics of checking one tool declaration against a module's source."""
    module = f"tools_{uuid.uuid4().hex[:12]}"
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    agent = folder / "a.agent"
    agent.write_text(f'tool {declaration} = "{module}:{attribute}"\n')
    return list(rolegraph.check_source(agent.read_text(), str(agent)).diagnostics)


def codes(diagnostics: list) -> list[str]:
    return [d.code for d in diagnostics]


# -- nothing runs ---------------------------------------------------------------------------


@needs_cli
@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["check", "--json"],
        ["graph"],
        ["fmt", "--check"],
        ["compile"],
        ["edit", "--list"],
    ],
    ids=lambda c: " ".join(c),
)
def test_a_command_that_only_reads_never_imports_a_tool_module(tmp_path, module, command):
    agent = loud_project(tmp_path, module)
    done = cli(*command, str(agent), cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "IMPORTED" not in done.stdout + done.stderr
    assert not imported(tmp_path)


def test_check_source_never_imports_a_tool_module(tmp_path, module):
    agent = loud_project(tmp_path, module)
    checked = rolegraph.check_source(agent.read_text(), str(agent))
    assert not checked.diagnostics
    assert not imported(tmp_path)
    assert module not in sys.modules


def test_the_editor_never_imports_a_tool_module(tmp_path, module):
    agent = loud_project(tmp_path, module)
    edits = list(rolegraph.editor(str(agent)).applicable(rolegraph.parse_file(agent)))
    assert edits  # (it checked candidates)
    assert not imported(tmp_path)
    assert module not in sys.modules


def test_a_package_init_is_not_run_to_find_its_module(tmp_path, module):
    package = tmp_path / module
    package.mkdir()
    (package / "__init__.py").write_text(SIDE_EFFECT)
    (package / "tools.py").write_text("def twice(value: int) -> int:\n    return 2 * value\n")
    agent = tmp_path / "doubler.agent"
    agent.write_text(agent_text(f"{module}.tools:twice"))
    checked = rolegraph.check_source(agent.read_text(), str(agent))
    assert not checked.diagnostics
    assert not (package / "imported.txt").exists()


@needs_cli
def test_check_json_of_this_prints_only_json(tmp_path):
    (tmp_path / "a.agent").write_text('tool t() -> str = "this:x"\n')
    done = cli("check", "--json", "a.agent", cwd=tmp_path)
    assert "Zen" not in done.stdout + done.stderr
    (error,) = json.loads(done.stdout)
    assert error["code"] == "E0312"
    assert "defines no `x`" in error["message"]


@needs_cli
def test_a_builtin_tool_is_a_warning_and_is_not_run(tmp_path):
    (tmp_path / "a.agent").write_text('tool sh(command: str) -> int = "os:system"\n')
    done = cli("check", "a.agent", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "warning[W0324]: cannot check tool `sh` against `os:system` without running" in (
        done.stderr
    )
    assert "from posix import *" in done.stderr


@needs_cli
def test_run_still_imports_and_calls_the_tool(tmp_path, module):
    agent = loud_project(tmp_path, module)
    done = cli("run", str(agent), "--input", '{"value": 21}', "--no-store", "-q", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == 42
    assert (tmp_path / "imported.txt").read_text() == "imported\n"  # once
    assert "IMPORTED" in done.stderr  # (stdout carries only the result)


# -- mismatches are still found, statically ----------------------------------------------------

TWICE = """\
def f(value: int) -> int:
    return 2 * value
"""


def test_a_wrong_parameter_name_is_found(tmp_path):
    (error,) = check_tool(tmp_path, TWICE, "twice(amount: int) -> int")
    assert error.code == "E0311"
    assert "the declaration has parameters (amount), the callable has (value)" in error.message


def test_a_wrong_parameter_annotation_is_found(tmp_path):
    (error,) = check_tool(tmp_path, TWICE, "twice(value: str) -> int")
    assert error.code == "E0311"
    assert "parameter `value` is declared `str` but annotated `int`" in error.message


def test_a_wrong_result_annotation_is_found(tmp_path):
    (error,) = check_tool(tmp_path, TWICE, "twice(value: int) -> list[str]")
    assert "the result is declared `list[str]` but annotated `int`" in error.message


def test_a_parameter_the_function_lacks_is_found(tmp_path):
    (error,) = check_tool(tmp_path, TWICE, "twice(value: int, times: int) -> int")
    assert error.code == "E0311"
    assert "(value, times)" in error.message


def test_an_extra_required_parameter_is_found(tmp_path):
    source = "def f(value: int, times: int) -> int:\n    return value * times\n"
    (error,) = check_tool(tmp_path, source, "twice(value: int) -> int")
    assert "the callable also requires `times`" in error.message


def test_an_extra_parameter_with_a_default_is_fine(tmp_path):
    source = "def f(value: int, *, times: int = 2) -> int:\n    return value * times\n"
    assert check_tool(tmp_path, source, "twice(value: int) -> int") == []


def test_a_positional_only_parameter_is_found(tmp_path):
    source = "def f(value: int, /) -> int:\n    return 2 * value\n"
    (error,) = check_tool(tmp_path, source, "twice(value: int) -> int")
    assert "`value` is positional-only" in error.message


def test_an_async_def_is_read_like_a_def(tmp_path):
    source = "async def f(value: str) -> int:\n    return 2\n"
    (error,) = check_tool(tmp_path, source, "twice(value: int) -> int")
    assert "parameter `value` is declared `int` but annotated `str`" in error.message


@pytest.mark.parametrize(
    "annotation",
    [
        "Optional[list[str]]",
        "'Optional[List[str]]'",
        "t.Optional[t.Sequence[str]]",
        "Words | None",
        "abc.Sequence[str] | None",
    ],
)
def test_annotations_are_read_in_the_module_s_own_names(tmp_path, annotation):
    source = f"""\
        import typing as t
        from collections import abc
        from typing import List, Optional

        Words = list[str]

        def f(words: {annotation}) -> int:
            return 0
        """
    assert check_tool(tmp_path, source, "count(words: list[str]?) -> int") == []
    (error,) = check_tool(tmp_path, source, "count(words: list[int]?) -> int")
    assert error.code == "E0311"


def test_a_record_parameter_takes_a_class_of_the_module(tmp_path):
    source = """\
        from dataclasses import dataclass

        @dataclass
        class Part:
            name: str

        def f(part: Part) -> str:
            return part.name
        """
    prelude = "type Part { name: str }\n"
    folder = tmp_path
    module = f"tools_{uuid.uuid4().hex[:12]}"
    (folder / f"{module}.py").write_text(textwrap.dedent(source))
    agent = folder / "a.agent"
    agent.write_text(prelude + f'tool name(part: Part) -> str = "{module}:f"\n')
    assert not rolegraph.check_source(agent.read_text(), str(agent)).diagnostics
    agent.write_text(prelude + f'tool name(part: str) -> str = "{module}:f"\n')
    (error,) = rolegraph.check_source(agent.read_text(), str(agent)).diagnostics
    assert "declared `str` but annotated `Part`" in error.message


def test_an_alias_in_the_module_is_followed(tmp_path):
    source = TWICE + "g = f\nh = g\n"
    assert check_tool(tmp_path, source, "twice(value: int) -> int", attribute="h") == []
    (error,) = check_tool(tmp_path, source, "twice(value: str) -> int", attribute="h")
    assert error.code == "E0311"


def test_a_re_export_is_followed_into_the_module_that_defines_it(tmp_path):
    package = tmp_path / f"pkg_{uuid.uuid4().hex[:12]}"
    package.mkdir()
    (package / "__init__.py").write_text("from .impl import f as twice\n")
    (package / "impl.py").write_text(TWICE)
    agent = tmp_path / "a.agent"
    agent.write_text(f'tool twice(value: str) -> int = "{package.name}:twice"\n')
    (error,) = rolegraph.check_source(agent.read_text(), str(agent)).diagnostics
    assert "parameter `value` is declared `str` but annotated `int`" in error.message


# -- what the source cannot tell is a warning; what cannot import, an error ---------------------


@pytest.mark.parametrize(
    ("source", "attribute", "reason"),
    [
        ("from json import *\n", "f", "it may come from `from json import *`"),
        ("def __getattr__(name):\n    return len\n", "f", "its `__getattr__` may make it"),
        ("class f:\n    def __init__(self, value: int): ...\n", "f", "is a class"),
        ("import functools\nf = functools.partial(max, 0)\n", "f", "is computed when"),
        (
            "try:\n    from fast import f\nexcept ImportError:\n" + textwrap.indent(TWICE, "    "),
            "f",
            "under `try`",
        ),
        ("f = len\n", "f", "`len` is a built-in"),
        (TWICE, "f.__call__", "is an attribute of `f`"),
        ("if (f := len):\n    pass\n", "f", "bound by `f := ...`"),
        ("globals()['f'] = len\n", "f", "it may make it when it runs (globals() at line 1)"),
    ],
    ids=[
        "star import",
        "getattr",
        "class",
        "computed",
        "conditional",
        "builtin",
        "attribute",
        "walrus",
        "globals",
    ],
)
def test_what_the_source_cannot_tell_is_a_warning(tmp_path, source, attribute, reason):
    (warning,) = check_tool(tmp_path, source, "twice(value: int) -> int", attribute=attribute)
    assert warning.code == "W0324"
    assert not warning.is_error
    assert reason in warning.message


def test_a_compiled_module_is_a_warning(tmp_path):
    agent = tmp_path / "a.agent"
    agent.write_text('tool root(x: float) -> float = "math:sqrt"\n')
    (warning,) = rolegraph.check_source(agent.read_text(), str(agent)).diagnostics
    assert warning.code == "W0324"


def test_a_missing_function_is_an_error_with_a_suggestion(tmp_path):
    (error,) = check_tool(tmp_path, TWICE, "twice(value: int) -> int", attribute="ff")
    assert error.code == "E0312"
    assert "defines no `ff`" in error.message
    assert error.hints == ("did you mean `f`?",)


def test_a_syntax_error_in_the_module_is_an_error(tmp_path):
    (error,) = check_tool(tmp_path, "def f(value: int) -> int\n", "twice(value: int) -> int")
    assert error.code == "E0312"
    assert "syntax error" in error.message


def test_a_module_that_is_a_name_not_a_function_is_an_error(tmp_path):
    (error,) = check_tool(tmp_path, "import json as f\n", "twice(value: int) -> int")
    assert error.code == "E0312"
    assert "is a module" in error.message


def test_a_target_that_is_not_a_module_name_is_an_error(tmp_path):
    agent = tmp_path / "a.agent"
    agent.write_text('tool t(value: int) -> int = "no/such:f"\n')
    (error,) = rolegraph.check_source(agent.read_text(), str(agent)).diagnostics
    assert error.code == "E0312"
    assert "not a Python module name" in error.message


def test_an_annotation_nested_past_the_stack_is_read_without_a_traceback(tmp_path):
    union = " | ".join(["int"] * 1500)  # (Python parses it, and imports it; ast.unparse
    source = f"def f(value: {union}) -> int:\n    return value\n"  # recurses past the stack)
    assert codes(check_tool(tmp_path, source, "twice(value: int) -> int")) == ["W0324"]


def test_a_module_too_deep_for_python_to_parse_is_an_error(tmp_path):
    union = " | ".join(["int"] * 20000)  # (its import fails as well)
    source = f"def f(value: {union}) -> int:\n    return value\n"
    assert codes(check_tool(tmp_path, source, "twice(value: int) -> int")) == ["E0312"]


def test_a_relative_import_beyond_the_top_level_is_an_error(tmp_path):
    (error,) = check_tool(tmp_path, "from . import f\n", "twice(value: int) -> int")
    assert error.code == "E0312"
    assert "beyond its package" in error.message


def test_a_re_export_cycle_is_a_warning_not_a_hang(tmp_path):
    (warning,) = check_tool(tmp_path, "f = g\ng = f\n", "twice(value: int) -> int")
    assert warning.code == "W0324"
