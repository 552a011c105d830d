"""The module `rolegraph compile` writes is source a user commits: mypy sees its graph
and finds it clean, ruff's formatter leaves it as it is, the `.agent` file's comments
are in it, a hand edit reads back, and random agent bodies read back as themselves."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.pycodegen import compile_to_python
from rolegraph.compiler.resolve import load_program

from .checking import PRELUDE
from .conftest import EXAMPLES, STDLIB
from .strategies import statements
from .test_check_property import well_typed_agents
from .test_compile import load

SOURCES = [*EXAMPLES, *STDLIB]


def _tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} is not installed")
    return found


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """Every example and standard module, compiled, in one folder."""
    folder = tmp_path_factory.mktemp("generated")
    for path in SOURCES:
        (folder / f"{path.parent.name}_{path.stem}.py").write_text(rolegraph.compile_python(path))
    return folder


@pytest.fixture(scope="module")
def mypy(tmp_path_factory):
    """mypy, seeing rolegraph's types as an installed copy shows them (`py.typed`): the
    editable install maps folders to packages with an import hook, which mypy cannot
    follow, so the package is laid out as a tree of links."""
    tool = _tool("mypy")
    root = tmp_path_factory.mktemp("typed")
    package = root / "rolegraph"
    package.mkdir()
    here = Path(rolegraph.__file__).parent
    for item in here.iterdir():
        (package / item.name).symlink_to(item)
    for name in ("grammar", "compiler", "runtime", "stdlib", "search", "lsp"):
        folder = Path(__import__(f"rolegraph.{name}", fromlist=["_"]).__file__).parent
        (package / name).symlink_to(folder)
    assert (package / "py.typed").exists()
    cache = root / ".mypy_cache"

    def run(*paths: Path) -> subprocess.CompletedProcess[str]:
        command = [tool, "--follow-imports=silent", "--cache-dir", str(cache)]
        command += ["--config-file", "", *map(str, paths)]
        env = {**__import__("os").environ, "MYPYPATH": str(root)}
        return subprocess.run(command, capture_output=True, text=True, env=env, cwd=root)

    return run


@pytest.mark.slow  # mypy over every module
def test_mypy_finds_every_generated_module_clean(generated, mypy):
    done = mypy(generated)
    assert done.returncode == 0, done.stdout
    assert f"no issues found in {len(SOURCES)} source files" in done.stdout


def test_mypy_sees_the_graph_a_misspelt_field_is_an_error(tmp_path, mypy):
    code = rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent")
    assert "feedback=critic.feedback" in code
    (tmp_path / "edited.py").write_text(
        code.replace("critic.feedback", "critic.feedbak")
        + "\nreveal_type(SelfRefine)\nreveal_type(rg.node(Critic, 'task', draft=None))\n"
    )
    done = mypy(tmp_path / "edited.py")
    assert done.returncode == 1
    assert '"Review" has no attribute "feedbak"' in done.stdout
    assert "Agent[edited.Answer]" in done.stdout
    assert 'Revealed type is "edited.Review"' in done.stdout


@pytest.fixture(scope="module")
def random_modules(tmp_path_factory) -> Path:
    """The modules of 40 random well-typed agents (loops, replicas, joins, guards)."""
    folder = tmp_path_factory.mktemp("random")
    agents: list[str] = []

    @settings(max_examples=40, deadline=None, derandomize=True, database=None)
    @given(well_typed_agents())
    def draw(agent: str) -> None:
        agents.append(agent)

    draw()
    for index, agent in enumerate(agents):
        code = rolegraph.compile_python("random.agent", text=PRELUDE + agent)
        (folder / f"random_{index}.py").write_text(code)
    return folder


def test_random_agents_compile_to_modules_mypy_and_ruff_format_accept(random_modules, mypy):
    done = mypy(random_modules)
    assert done.returncode == 0, done.stdout
    layout = subprocess.run(
        [_tool("ruff"), "format", "--isolated", "--check", str(random_modules)],
        capture_output=True,
        text=True,
    )
    assert layout.returncode == 0, layout.stdout
    assert len(list(random_modules.glob("*.py"))) == 40


def test_ruff_format_leaves_every_generated_module_unchanged(generated):
    done = subprocess.run(
        [_tool("ruff"), "format", "--isolated", "--check", str(generated)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout


def _comments(module: ast.Module) -> list[str]:
    """The text of every comment outside `test` blocks (which stay in the .agent file)."""
    found: list[str] = []

    def collect(node: ast.Node) -> None:
        if isinstance(node, ast.TestDecl):
            return
        for name in ("comments", "end_comments"):
            found.extend(c for c in getattr(node, name, ()) if c.strip())
        if getattr(node, "trailing_comment", None):
            found.append(node.trailing_comment)  # type: ignore[attr-defined]
        for child in node.children():
            collect(child)

    collect(module)
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_comment_of_the_agent_file_is_in_the_module(path):
    code = rolegraph.compile_python(path)
    comments = _comments(rolegraph.parse_file(path))
    lines = [line.strip() for line in code.splitlines()]
    python_comments = [line.partition("#")[2] for line in lines if "#" in line]
    for text in comments:
        assert any(text.removeprefix("//").strip() in c for c in python_comments), text
    if path.name == "self_refine.agent":
        assert len(comments) >= 4
        assert "    )  # never answer unreviewed" in code


def test_the_header_calls_the_module_source_and_a_hand_edit_reads_back(tmp_path):
    code = rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent")
    assert "edit it by hand" in code and "lost" not in code
    edited = code.replace("max=3", "max=5").replace(
        "    return rg.graph(locals())",
        "    rg.ensure(rg.eventually(rg.RETURN))  # added by hand\n    return rg.graph(locals())",
    )
    agent = load(edited, tmp_path).PROGRAM.module.decl("SelfRefine")
    assert agent.body[2].max == 5
    assert agent.body[-1] == ast.Constraint(
        mode="ensure", formula=ast.LtlUnary(op="eventually", operand=ast.LtlReturn())
    )


def test_a_role_stub_is_declared_not_elided(tmp_path):
    code = rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent")
    assert ": ...\n" not in code
    assert "async def Critic(task: str, draft: Answer) -> Review:\n    return rg.declared()" in code


def test_a_guard_is_a_python_expression_over_nodes_and_enum_members():
    code = rolegraph.compile_python(EXAMPLES[0].parent / "role_router.agent")
    assert "rg.edge(router, programmer, when=router.expert == Expertise.code)" in code
    assert "rg.edge(router, writer, otherwise=True)" in code


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_name_is_a_string_only_where_no_python_object_stands_for_it(path):
    """Nodes, parameters, roles and enum members are Python objects in every module; the
    strings left name a pattern's compile-time parameters (`"Solver"`, `"n"`) and, in
    reflexion, a node read above the line that declares it (`history(reflector)`)."""
    import ast as python

    tree = python.parse(rolegraph.compile_python(path))
    module = rolegraph.parse_file(path)
    compile_time = {p.name for agent in module.agents for p in agent.ct_params}
    refs, callees, edges = [], [], []
    for call in python.walk(tree):
        if not (isinstance(call, python.Call) and isinstance(call.func, python.Attribute)):
            continue
        if call.func.attr == "ref":
            refs.append(call.args[0].value)  # type: ignore[attr-defined]
        elif call.func.attr in ("node", "replicate"):
            callees.append(call.args[0 if call.func.attr == "node" else 1])
        elif call.func.attr == "edge":
            edges += call.args[:1]
    assert refs == (["reflector"] if path.stem == "reflexion" else [])
    for callee in callees:
        assert isinstance(callee, python.Name | python.Call) or callee.value in compile_time  # type: ignore[attr-defined]
    assert all(isinstance(source, python.Name) for source in edges)


# -- random bodies: every statement the language has, with names that collide -----------

POOL = ["a", "b", "writer", "class", "print", "rg", "locals", "Writer", "Route", "task"]
POOL += ["error", "_x", "step", "lambda", "__class__", "None_", "fn"]
ROLES = ["Writer", "Critic", "Router", "Merger", "Undeclared"]
FIELDS = ["text", "score", "ok", "feedback", "route", "why", "fast", "error", "class", "_x"]


def _pooled(name: str, pool: list[str]) -> str:
    return pool[sum(map(ord, name)) % len(pool)]


def _collide(_: ast.Node, node: ast.Node) -> ast.Node | None:
    """Names drawn into a small pool, so that references meet declarations: nodes,
    parameters, roles, record fields, map variables, Python's keywords and builtins."""
    if isinstance(node, ast.Ref):
        fields = (_pooled(p, FIELDS) for p in node.parts[1:])
        return ast.Ref(parts=(_pooled(node.parts[0], POOL), *fields))
    if isinstance(node, ast.NodeDecl):
        return node.with_changes(name=_pooled(node.name, POOL), role=_pooled(node.role, ROLES))
    if isinstance(node, ast.MapClause):
        return node.with_changes(var=_pooled(node.var, POOL))
    if isinstance(node, ast.NodeTarget | ast.LtlFired):
        return node.with_changes(node=_pooled(node.node, POOL))
    if isinstance(node, ast.EdgeDecl):
        return node.with_changes(source=_pooled(node.source, POOL))
    return None


_PARAMS = [
    (),
    (ast.Param(name="task", type=ast.NamedType(name="str")),),
    (ast.Param(name="class", type=ast.NamedType(name="Draft")),),
]
random_agents = st.builds(
    lambda body, params: ast.AgentDecl(
        name="A", params=params, returns=ast.NamedType(name="Draft"), body=tuple(body)
    ),
    st.lists(statements.map(lambda s: s.transform(_collide)), max_size=8),
    st.sampled_from(_PARAMS),
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(random_agents)
def test_random_agent_bodies_read_back_as_themselves(tmp_path, agent):
    # (unchecked: forward references, undeclared names and ill-typed guards included)
    prelude = rolegraph.parse(PRELUDE)
    module = prelude.with_changes(decls=(*prelude.decls, agent))
    program = load_program(module, "random.agent", lambda t, n: (None, []), "")
    code = compile_to_python(program, "random.agent", rolegraph.__version__)
    assert load(code, tmp_path).PROGRAM.module == module


def test_a_python_condition_on_a_node_is_refused_with_the_function_to_use(tmp_path):
    code = rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent")
    edited = code.replace(
        "    return rg.graph(locals())",
        "    if critic.ok:\n        rg.returns(writer)\n    return rg.graph(locals())",
    )
    with pytest.raises(rolegraph.DiagnosticError) as caught:
        load(edited, tmp_path)
    assert "rg.not_(x)" in caught.value.diagnostics[0].message


def test_an_agent_body_must_hand_its_nodes_over(tmp_path):
    code = rolegraph.compile_python(EXAMPLES[0].parent / "self_refine.agent")
    with pytest.raises(rolegraph.DiagnosticError) as caught:
        load(code.replace("    return rg.graph(locals())", "    return None"), tmp_path)
    assert "return rg.graph(locals())" in caught.value.diagnostics[0].message
