"""Nesting as deep as a user cares to type: never a traceback, never a hang.

Every construct that nests (types, expressions, constants, formulas, templates, test
blocks) is written 10,000 levels deep and given to every command in a fresh process:
each answers with diagnostics (E0115 at the place the nesting goes past the limit) or a
result. At the limit itself, every command works with 400 frames of Python's stack to
spare, so no stage after the front end recurses more than the limit allows for.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rolegraph import check_source
from rolegraph.compiler.depth import MAX_NESTING, MAX_TEMPLATE_NESTING
from rolegraph.grammar import parse_module

from .hostile import CLI_DRIVER, EVERY_COMMAND, NESTED

pytestmark = pytest.mark.slow  # every construct nested 10,000 deep, through every command

DEEP = 10_000
# constructs whose nesting leaves no trace in the tree: parentheses are only grouping
FLAT = {"guard parentheses", "formula parentheses"}
TEMPLATES = {"jinja if", "jinja parentheses", "jinja filters"}
# A file the front end refuses gets the same diagnostics from every command; these four
# take the distinct ways out (the AST as JSON, the checker, the formatter, the runtime).
FRONT_END_COMMANDS = tuple(
    c for c in EVERY_COMMAND if c[0] in ("check", "fmt", "run") or c == ("parse", "--json")
)


def _run_every_command(
    files: dict, recursion_limit: int | None = None, commands: tuple = EVERY_COMMAND
) -> dict:
    """Each command on every file, in one fresh process: {(file, command): outcome}."""
    paths = [str(path) for path in files.values()]
    args = [sys.executable, "-c", CLI_DRIVER, json.dumps(paths), json.dumps(commands)]
    if recursion_limit is not None:
        args.append(str(recursion_limit))
    done = subprocess.run(args, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-2000:]
    names = {str(path): name for name, path in files.items()}
    outcomes = {}
    for line in done.stdout.splitlines():
        path, command, *outcome = json.loads(line)
        outcomes[names[path], " ".join(command[:2])] = outcome
    assert len(outcomes) == len(files) * len(commands)
    return outcomes


def _write(tmp_path, programs: dict[str, str]) -> dict:
    files = {}
    for index, (name, text) in enumerate(sorted(programs.items())):
        files[name] = tmp_path / f"construct{index}.agent"
        files[name].write_text(text)
    return files


def _diagnostics(text: str) -> list:
    """Every diagnostic of the front end and the checker."""
    parsed = parse_module(text, "deep.agent")
    if parsed.module is None:
        return list(parsed.diagnostics)
    return list(check_source(text, "deep.agent").diagnostics)


def _deepest_accepted(construct: str) -> int:
    """The largest nesting of `construct` that the checker takes without E0115."""

    def accepted(depth: int) -> bool:
        return not any(d.code == "E0115" for d in _diagnostics(NESTED[construct](depth)))

    low, high = 1, MAX_NESTING + 10
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if accepted(middle) else (low, middle - 1)
    return low


def test_every_command_answers_every_construct_nested_10000_deep(tmp_path):
    refused = set(NESTED) - FLAT - TEMPLATES
    files = _write(tmp_path, {name: NESTED[name](DEEP) for name in refused})
    outcomes = _run_every_command(files, commands=FRONT_END_COMMANDS)
    files = _write(tmp_path, {name: NESTED[name](DEEP) for name in FLAT | TEMPLATES})
    outcomes |= _run_every_command(files)
    for (construct, command), (code, escaped, _errors) in outcomes.items():
        assert escaped is None, f"{construct}: {command}: {escaped}"
        assert code in (0, 1, 5), f"{construct}: {command} exited {code}"


@pytest.mark.parametrize("construct", sorted(set(NESTED) - FLAT))
def test_nesting_past_the_limit_is_e0115_with_a_location(construct):
    diagnostics = _diagnostics(NESTED[construct](DEEP))
    too_deep = [d for d in diagnostics if d.code == "E0115"]
    assert too_deep, [str(d) for d in diagnostics]
    assert too_deep[0].span is not None and too_deep[0].span.line >= 1
    limit = MAX_TEMPLATE_NESTING if construct in TEMPLATES else MAX_NESTING
    assert f"more than {limit} levels" in too_deep[0].message


def test_at_the_limit_every_command_works_with_stack_to_spare(tmp_path):
    depths = {name: _deepest_accepted(name) for name in set(NESTED) - FLAT}
    for name, depth in depths.items():
        limit = MAX_TEMPLATE_NESTING if name in TEMPLATES else MAX_NESTING
        assert depth >= limit // 2 - 5, (name, depth)
    files = _write(tmp_path, {name: NESTED[name](depth) for name, depth in depths.items()})
    outcomes = _run_every_command(files, recursion_limit=600)
    for (construct, command), (code, escaped, errors) in outcomes.items():
        assert escaped is None, f"{construct}: {command}: {escaped}"
        assert not any(e.startswith("E0115") for e in errors), (construct, errors)
        assert code in (0, 1, 5), f"{construct}: {command} exited {code}"


def test_the_limit_error_points_at_the_first_level_past_it():
    text = NESTED["list type"](DEEP)
    (too_deep,) = [d for d in parse_module(text, "t.agent").diagnostics if d.code == "E0115"]
    line = text.splitlines()[too_deep.span.line - 1]
    # the declaration is level 1, its field level 2, the k-th `list[` level 2 + k and the
    # name `list` in it one more: the caret is on the `list` that is one level too many
    assert line[too_deep.span.column - 1 :].startswith("list[")
    assert too_deep.span.column == line.index("list[") + 1 + 5 * (MAX_NESTING - 3)


def test_the_other_declarations_of_a_file_are_still_checked():
    deep_type = "type A { x: " + "list[" * DEEP + "str" + "]" * DEEP + " }\n"
    duplicate_parameter = 'role B(q: str, q: str) -> str {\n  prompt "x"\n}\n'
    result = parse_module(deep_type + duplicate_parameter)
    assert [d.code for d in result.diagnostics] == ["E0115", "E0112"]


def test_a_tree_built_in_python_past_the_limit_is_e0115():
    from rolegraph.compiler import ast
    from rolegraph.compiler.check import check_module

    deep: ast.Node = ast.NamedType(name="str")
    for _ in range(DEEP):
        deep = ast.ListType(item=deep)
    module = ast.Module(
        decls=(ast.TypeDecl(name="T", fields=(ast.FieldDecl(name="x", type=deep),)),)
    )
    checked = check_module(module, "built.agent", lambda text, name: (None, []), "")
    assert [d.code for d in checked.diagnostics] == ["E0115"]


def test_a_python_program_with_a_type_past_the_limit_is_e0115():
    import rolegraph

    async def stub(task: str): ...

    # (a type 90 lists deep: Python's own parser takes it, ours would not)
    stub.__annotations__ = {"task": str, "return": eval("list[" * 90 + "str" + "]" * 90)}
    with pytest.raises(rolegraph.DiagnosticError) as refused:
        rolegraph.program(rolegraph.role(prompt="x")(stub)).check()
    assert [d.code for d in refused.value.diagnostics] == ["E0115"]


def _template_diagnostics(prompt: str) -> list[str]:
    text = f'model m = "mock"\nrole R(a: str) -> str {{\n  model m\n  prompt "{prompt}"\n}}\n'
    return [d.code for d in check_source(text, "t.agent").diagnostics]


def test_a_long_template_of_sequential_blocks_is_not_nested():
    flat = "{% if a %}x{% endif %}{% for i in a %}{{ i }}{% endfor %}{% set v = a %}" * 300
    assert "E0115" not in _template_diagnostics(flat)


def test_template_nesting_counts_blocks_and_the_operators_of_a_tag():
    def nested(blocks: int, operators: int) -> str:
        tag = "{{ " + " ~ ".join(["a"] * (operators + 1)) + " }}"
        return "{% if a %}" * blocks + tag + "{% endif %}" * blocks

    assert "E0115" not in _template_diagnostics(nested(10, MAX_TEMPLATE_NESTING - 10))
    assert "E0115" in _template_diagnostics(nested(10, MAX_TEMPLATE_NESTING - 9))
    assert "E0115" in _template_diagnostics(nested(MAX_TEMPLATE_NESTING + 1, 0))
