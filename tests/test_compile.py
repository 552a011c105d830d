"""`rolegraph compile`: the Python module of a program reads back as the same AST, runs to
the same trace on mock, keeps every string exactly, and is lint-clean."""

import asyncio
import importlib.util
import shutil
import subprocess
import sys
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.pycodegen import flatten

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .test_check_property import well_typed_agents


def load(code: str, directory):
    """Import a generated module from a file, as a user would."""
    name = f"generated_{uuid.uuid4().hex}"
    path = directory / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def flat(text: str) -> ast.Module:
    """The program the generated module should declare: the source, imports copied in."""
    checked = rolegraph.check_source(text, "x.agent")
    return ast.Module(decls=tuple(flatten(checked.program)))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_an_example_compiles_to_the_same_program_and_the_same_run(path, tmp_path):
    code = rolegraph.compile_python(path)
    generated = load(code, tmp_path)
    assert generated.PROGRAM.module == flat(path.read_text())
    assert rolegraph.__version__ == generated.COMPILED_WITH
    # the same run on mock: the same trace, the same result
    ir = rolegraph.load_agent(path)
    inputs = {name: "What is 17 * 23?" for name in ir.param_types}
    # (a human step's question is answered as the mock model would: docs/human.md)
    expected = asyncio.run(rolegraph.arun(path, inputs, model="mock", answers="mock"))
    got = asyncio.run(generated.PROGRAM.run(ir.name, inputs, model="mock", answers="mock"))
    assert got.trace.shape() == expected.trace.shape()
    assert got.result == expected.result


def test_an_agent_and_a_role_are_awaitable_with_typed_results(tmp_path):
    generated = load(rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent"), tmp_path)
    answer = asyncio.run(generated.SelfRefine(task="Explain recursion.", model="mock"))
    assert isinstance(answer, generated.Answer)
    review = asyncio.run(
        generated.Critic(task="t", draft=generated.Answer(text="x", confidence=0.5), model="mock")
    )
    assert isinstance(review, generated.Review) and isinstance(review.ok, bool)


def test_generated_modules_are_lint_clean_and_formatted(tmp_path):
    ruff = shutil.which("ruff") or shutil.which(
        "ruff", path=str(__import__("pathlib").Path(sys.executable).parent)
    )
    if ruff is None:
        pytest.skip("ruff is not installed")
    for path in EXAMPLES:
        (tmp_path / f"{path.stem}.py").write_text(rolegraph.compile_python(path))
    lint = subprocess.run(
        [ruff, "check", "--isolated", "--select", "E4,E7,E9,F,W,B,UP", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert lint.returncode == 0, lint.stdout
    layout = subprocess.run(
        [ruff, "format", "--isolated", "--check", str(tmp_path)], capture_output=True, text=True
    )
    assert layout.returncode == 0, layout.stdout


HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(
            [
                '"',
                '"""',
                "'",
                "'''",
                "\\",
                "\\n",
                "\n",
                "\r",
                "\t",
                "{{ x }}",
                "{% raw %}",
                "\x00",
                "\u2028",
                "é",
                "😀",
                "){",
                "# not a comment",
                "\\x00",
                "${x}",
                "%s",
                "  ",
            ]
        ),
        st.text(max_size=8),
    ),
    max_size=8,
).map("".join)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    prompt=HOSTILE,
    system=HOSTILE,
    desc=HOSTILE,
    default=HOSTILE,
    provider=HOSTILE,
    literal=HOSTILE,
    long=st.integers(0, 400),
)
def test_hostile_strings_survive_compilation_exactly(
    tmp_path, prompt, system, desc, default, provider, literal, long
):
    # strings go in through the AST (no escaping by us), and must come out equal
    text = """
model m = "mock"
type T { a: str = "x", b: int }
role R(q: str, d: str = "y") -> T {
  model m
  system "s"
  prompt "p"
}
agent A(q: str) -> T {
  n = R(q, d: "z")
  return n
}
"""
    module = rolegraph.parse(text)
    model, record, role, agent = module.decls
    module = module.with_changes(
        decls=(
            model.with_changes(provider=provider or "mock"),
            record.with_changes(
                fields=(
                    record.fields[0].with_changes(
                        default=ast.StringLit(value=default + "x" * long),
                        annotations=(
                            ast.Annotation(name="desc", args=(ast.StringLit(value=desc),)),
                        ),
                    ),
                    record.fields[1],
                )
            ),
            role.with_changes(
                prompt=ast.Prompt(text=prompt),
                system=ast.System(text=system),
                params=(
                    role.params[0],
                    role.params[1].with_changes(default=ast.StringLit(value=default)),
                ),
            ),
            agent.with_changes(
                body=(
                    agent.body[0].with_changes(
                        args=(
                            agent.body[0].args[0],
                            ast.Arg(name="d", value=ast.StringLit(value=literal)),
                        )
                    ),
                    agent.body[1],
                )
            ),
        )
    )
    from rolegraph.compiler.pycodegen import compile_to_python
    from rolegraph.compiler.resolve import load_program

    program = load_program(module, "hostile.agent", lambda t, n: (None, []), "")
    code = compile_to_python(program, "hostile.agent", rolegraph.__version__)
    generated = load(code, tmp_path)
    assert generated.PROGRAM.module == module


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(well_typed_agents())
def test_random_agents_compile_to_the_same_run(tmp_path, agent):
    text = PRELUDE + agent
    generated = load(rolegraph.compile_python("random.agent", text=text), tmp_path)
    assert generated.PROGRAM.module == rolegraph.parse(text)
    ir = rolegraph.load_agent("random.agent", text=text)
    expected = asyncio.run(rolegraph.arun("random.agent", {"task": "t"}, model="mock", text=text))
    got = asyncio.run(generated.PROGRAM.run(ir.name, {"task": "t"}, model="mock"))
    assert got.trace.shape() == expected.trace.shape()
    assert got.result == expected.result


def test_a_namespace_import_is_refused_with_a_diagnostic():
    text = (
        'import std.types\nmodel m = "mock"\n'
        'role R(q: str) -> types.Answer {\n  model m\n  prompt "{{ q }}"\n}\n'
    )
    with pytest.raises(rolegraph.DiagnosticError) as caught:
        rolegraph.compile_python("ns.agent", text=text)
    assert caught.value.diagnostics[0].code == "E0702"


STDLIB_PATTERNS = [
    (path, decl.name) for path in STDLIB for decl in rolegraph.parse_file(path).agents
]


@pytest.mark.parametrize(
    ("path", "agent"), STDLIB_PATTERNS, ids=[f"{p.stem}.{a}" for p, a in STDLIB_PATTERNS]
)
def test_a_standard_pattern_compiles_to_the_same_run(path, agent, tmp_path):
    generated = load(rolegraph.compile_python(path), tmp_path)
    assert generated.PROGRAM.module == flat(path.read_text())
    ir = rolegraph.load_agent(path, agent)
    inputs = {name: "What is 17 * 23?" for name in ir.param_types}
    expected = asyncio.run(rolegraph.arun(path, inputs, agent=agent, model="mock"))
    got = asyncio.run(generated.PROGRAM.run(agent, inputs, model="mock"))
    assert got.trace.shape() == expected.trace.shape()
    assert got.result == expected.result
