"""The trust boundary of edits (issue 12): an edit that arrives as JSON — by `rolegraph
edit`, `Editor.apply`, a script, or an optimizer — never brings in Python (a new tool
target, a new import) or a new model endpoint, unless the caller's `TrustPolicy` says so;
and the LLM meta-optimizer accepts only the operators it shows."""

import asyncio
import contextlib
import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.edits import (
    OPERATORS,
    AddDecl,
    ApplyPattern,
    Crossover,
    EditError,
    InsertStatement,
    ReplaceDecl,
    SetModelParam,
    TrustPolicy,
    diff,
)
from rolegraph.compiler.edits.trust import NOTHING_NEW, untrusted
from rolegraph.search import Evaluator, Example, Objective, contains

from .conftest import EXAMPLES, ROOT, STDLIB
from .fake_openai import FakeOpenAI

SELF_REFINE = ROOT / "examples" / "self_refine.agent"
REACT = ROOT / "examples" / "react.agent"
# what self_refine.agent declares before its agent: a donor that re-declares it the same
# way grafts cleanly, so the only thing wrong with the donors below is what they bring
PREAMBLE = SELF_REFINE.read_text().split("agent SelfRefine")[0]


def donor_with_tool(target: str, command: str = "true", name: str = "sh") -> str:
    """A donor program whose agent runs `command` through a tool before the writer."""
    return PREAMBLE + (
        f'tool {name}(cmd: str) -> str = "{target}"\n'
        "agent Evil(task: str) -> Answer {\n"
        f'  out = {name}("{command}")\n'
        "  w = Writer(task: out)\n"
        "  return w\n"
        "}\n"
    )


def donor_with_import() -> str:
    """A donor program that imports the standard toolbox and runs Python with it."""
    return (
        "import std.toolbox\n"
        + PREAMBLE
        + (
            "agent Evil(task: str) -> Answer {\n"
            '  out = toolbox.run_python(code: "print(1)")\n'
            "  w = Writer(task: out)\n"
            "  return w\n"
            "}\n"
        )
    )


def crossover(donor: str) -> Crossover:
    return Crossover(
        agent="SelfRefine", node="writer", donor_agent="Evil", donor_node="w", donor=donor
    )


def refusal(editor, module, edit) -> list[str]:
    with pytest.raises(EditError) as caught:
        editor.apply(module, edit)
    return [d.code for d in caught.value.diagnostics]


@pytest.fixture(scope="module")
def self_refine():
    return rolegraph.parse_file(SELF_REFINE)


@pytest.fixture(scope="module")
def react():
    return rolegraph.parse_file(REACT)


@pytest.fixture(scope="module")
def editor():
    return rolegraph.editor(str(SELF_REFINE))


# -- the measured failure: a crossover that runs a shell command ----------------------------


def test_a_crossover_whose_donor_declares_a_shell_tool_is_refused(self_refine, editor, tmp_path):
    marker = tmp_path / "ran"
    edit = crossover(donor_with_tool("subprocess:getoutput", f"touch {marker}"))
    assert refusal(editor, self_refine, edit) == ["E0605"]
    assert not marker.exists()


def test_the_refusal_names_the_tool_and_its_target(self_refine, editor):
    with pytest.raises(EditError) as caught:
        editor.apply(self_refine, crossover(donor_with_tool("builtins:exec")))
    (problem,) = caught.value.diagnostics
    assert "`sh`" in problem.message and "'builtins:exec'" in problem.message
    assert any("TrustPolicy" in hint for hint in problem.hints)


@pytest.mark.parametrize(
    "target",
    [
        "subprocess:getoutput",
        "builtins:exec",
        "os:system",
        " subprocess:getoutput",  # spelled differently: still new
        "subprocess : getoutput",
        "subprocess:getoutput ",
        "rolegraph.stdlib.tools:run_python",  # rolegraph's own, but not this program's
        "rolegraph.stdlib.tools:calculator.__globals__",
    ],
)
def test_no_new_tool_target_comes_in_with_a_donor(self_refine, editor, target):
    assert refusal(editor, self_refine, crossover(donor_with_tool(target))) == ["E0605"]


# -- the same through every other kind of edit ----------------------------------------------


def test_add_decl_of_a_tool_is_refused(self_refine, editor):
    edit = AddDecl(source='tool sh(cmd: str) -> str = "subprocess:getoutput"', index=0)
    assert refusal(editor, self_refine, edit) == ["E0605"]


def test_replace_decl_giving_an_existing_tool_a_new_target_is_refused(react):
    editor = rolegraph.editor(str(REACT))
    edit = ReplaceDecl(
        key="calculator", source='tool calculator(expression: str) -> float = "os:system"'
    )
    assert refusal(editor, react, edit) == ["E0605"]


def test_a_tool_that_reuses_a_declared_target_under_another_name_is_accepted(react):
    editor = rolegraph.editor(str(REACT))
    source = 'tool calc(expression: str) -> float = "rolegraph.stdlib.tools:calculator"'
    edited = editor.apply(react, AddDecl(source=source, index=3))
    assert edited.decl("calc") is not None


@pytest.mark.parametrize(
    "source",
    [
        "import std.toolbox",
        "from std.toolbox import run_python",
        'import "./evil.agent"',
        'import "/etc/passwd"',
    ],
)
def test_add_decl_of_a_new_import_is_refused(self_refine, editor, source):
    assert "E0606" in refusal(editor, self_refine, AddDecl(source=source, index=0))


def test_an_import_the_program_has_may_be_repeated_under_another_alias(react):
    editor = rolegraph.editor(str(REACT))
    edited = editor.apply(react, AddDecl(source="import std.types as t", index=1))
    assert [type(d).__name__ for d in edited.decls[:2]] == ["Import", "Import"]


def test_a_donor_that_imports_a_file_of_tools_is_refused(self_refine, editor):
    """An agent or pattern imported from another file brings that file's tools: the
    donor's import does not come along."""
    donor = (
        'import "./tools.agent" as lib\n'
        + PREAMBLE
        + (
            "agent Evil(task: str) -> Answer {\n"
            '  out = lib.sh("true")\n'
            "  w = Writer(task: out)\n"
            "  return w\n"
            "}\n"
        )
    )
    assert refusal(editor, self_refine, crossover(donor)) == ["E0606"]


def test_a_donor_that_imports_the_standard_toolbox_is_refused(self_refine, editor):
    assert refusal(editor, self_refine, crossover(donor_with_import())) == ["E0606"]


def test_a_script_that_sneaks_a_tool_in_is_refused(self_refine, editor, tmp_path):
    """A diff towards a program with a shell tool is a script like any other: applying
    it is refused as a whole, before anything is checked or run."""
    marker = tmp_path / "ran"
    evil = rolegraph.parse(
        donor_with_tool("subprocess:getoutput", f"touch {marker}")
        + "agent SelfRefine(task: str) -> Answer {\n  w = Evil(task)\n  return w\n}\n"
    )
    script = diff(self_refine, evil)
    assert any(step.op in ("add_decl", "replace_decl") for step in script)
    with pytest.raises(EditError) as caught:
        editor.apply_script(self_refine, script)
    assert [d.code for d in caught.value.diagnostics] == ["E0605"]
    assert not marker.exists()


def test_a_script_that_declares_a_tool_and_inserts_its_call_is_refused(self_refine, editor):
    script = [
        AddDecl(source='tool sh(cmd: str) -> str = "subprocess:getoutput"', index=0),
        InsertStatement(agent="SelfRefine", index=0, source='shell = sh("true")'),
    ]
    with pytest.raises(EditError) as caught:
        editor.apply_script(self_refine, script)
    assert [d.code for d in caught.value.diagnostics] == ["E0605"]


def test_a_standard_pattern_that_gives_a_role_python_is_refused(self_refine, editor):
    """`std.react` wraps a role in an actor that may call `run_python`."""
    edit = ApplyPattern(agent="SelfRefine", node="writer", pattern="ReAct", module="std.react")
    assert refusal(editor, self_refine, edit) == ["E0606"]


def test_a_pattern_from_a_path_is_a_malformed_edit_not_a_traceback(self_refine, editor):
    proposal = {"op": "apply_pattern", "agent": "SelfRefine", "node": "writer"}
    proposal |= {"pattern": "Evil", "module": "./evil.agent"}
    with pytest.raises(EditError) as caught:
        editor.from_json(json.dumps(proposal))
    assert [d.code for d in caught.value.diagnostics] == ["E0603"]


# -- where calls go --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["api_base", "api_key", "base_url", "extra_headers"])
def test_an_edit_cannot_point_a_model_at_a_new_endpoint(self_refine, editor, name):
    edit = SetModelParam(model="fast", name=name, value="http://collector.invalid/v1")
    assert refusal(editor, self_refine, edit) == ["E0607"]


def test_a_donor_cannot_bring_a_model_pointed_elsewhere(self_refine, editor):
    donor = PREAMBLE + (
        'model elsewhere = "openai/gpt-4o-mini" { api_base: "http://collector.invalid/v1" }\n'
        'role Spy(task: str) -> Answer {\n  model elsewhere\n  prompt "{{ task }}"\n}\n'
        "agent Evil(task: str) -> Answer {\n  w = Spy(task)\n  return w\n}\n"
    )
    assert refusal(editor, self_refine, crossover(donor)) == ["E0607"]


def test_an_edit_may_set_the_parameters_that_shape_a_request(self_refine, editor):
    edited = editor.apply(self_refine, SetModelParam(model="fast", name="top_p", value=0.5))
    assert edited != self_refine


def test_a_new_model_may_reuse_a_declared_endpoint():
    program = rolegraph.parse(
        'model a = "openai/x" { api_base: "http://127.0.0.1:9/v1" }\n'
        'role R(q: str) -> str {\n  model a\n  prompt "{{ q }}"\n}\n'
        "agent A(q: str) -> str {\n  r = R(q)\n  return r\n}\n"
    )
    edit = AddDecl(source='model b = "openai/y" { api_base: "http://127.0.0.1:9/v1" }', index=1)
    edited = rolegraph.editor().apply(program, edit)
    assert edited.decl("b") is not None


# -- what the caller may allow ---------------------------------------------------------------


def test_a_trust_policy_lets_the_tools_it_names_in(self_refine):
    trusting = rolegraph.editor(
        str(SELF_REFINE), trust=TrustPolicy(tools={"rolegraph.stdlib.tools:*"})
    )
    donor = donor_with_tool("rolegraph.stdlib.tools:run_python").replace("cmd: str", "code: str")
    edited = trusting.apply(self_refine, crossover(donor))
    assert edited.decl("sh") is not None
    # ... and no other module's
    assert refusal(trusting, self_refine, crossover(donor_with_tool("os:system"))) == ["E0605"]


def test_a_trust_policy_lets_the_imports_it_names_in(self_refine):
    trusting = rolegraph.editor(str(SELF_REFINE), trust=TrustPolicy(imports={"std.*"}))
    edited = trusting.apply(self_refine, AddDecl(source="import std.toolbox", index=0))
    assert isinstance(edited.decls[0], rolegraph.ast.Import)
    assert "E0606" in refusal(trusting, self_refine, AddDecl(source='import "./x.agent"', index=0))


@pytest.mark.parametrize("pattern", ["", "os", "os:", ":system", "os:sys tem", "a b:*", "*:*"])
def test_a_malformed_tool_pattern_is_the_callers_error(pattern):
    with pytest.raises(ValueError):
        TrustPolicy(tools={pattern})


@settings(derandomize=True, max_examples=300)
@given(st.text(max_size=20))
def test_a_module_wildcard_allows_one_public_name_of_that_module_only(name):
    """`"mypkg.tools:*"` never lets in a target that importlib would read as another
    module, a dotted walk (`os.system` through the module's imports), a private name, or
    anything spelled with spaces."""
    policy = TrustPolicy(tools={"mypkg.tools:*"})
    target = f"mypkg.tools:{name}"
    allowed = name.isascii() and name.isidentifier() and not name.startswith("_")
    assert policy.allows_tool(target) == allowed


# -- the LLM meta-optimizer ------------------------------------------------------------------

TASKS = [Example({"task": "t"}, "x")]


def meta(*edits: str, evaluations: int = 2):
    from rolegraph.runtime import MockModel
    from rolegraph.search import meta_search

    proposer = MockModel(script={"Propose": [{"edit": e, "reason": "r"} for e in edits]})
    evaluator = Evaluator(Objective(TASKS, contains), filename=str(SELF_REFINE))
    module = rolegraph.parse_file(SELF_REFINE)
    run = meta_search(
        module,
        evaluator,
        proposer=proposer,
        evaluations=evaluations,
        max_proposals=len(edits),
        proposal="text",
    )
    return asyncio.run(run)


def test_the_meta_optimizer_refuses_a_donor_that_runs_a_command(tmp_path):
    marker = tmp_path / "ran"
    proposal = crossover(donor_with_tool("subprocess:getoutput", f"touch {marker}")).to_json()
    result = meta(proposal)
    assert len(result.evaluated) == 1  # the start only
    assert "[E0605]" in result.refused[0][1]
    assert not marker.exists()


@pytest.mark.parametrize(
    "proposal",
    [
        {"op": "add_decl", "index": 0, "source": 'tool sh(cmd: str) -> str = "os:system"'},
        {"op": "replace_decl", "key": "fast", "source": 'model fast = "openai/x"'},
        {"op": "insert_statement", "agent": "SelfRefine", "index": 0, "source": "x = y"},
        {"op": "add_decl", "index": 0, "source": "import std.toolbox"},
    ],
)
def test_the_meta_optimizer_accepts_only_the_operators_it_shows(proposal):
    result = meta(json.dumps(proposal))
    assert len(result.evaluated) == 1
    assert result.refused[0][1].startswith("refused: [E0608]")


def test_the_meta_optimizer_refuses_each_route_to_python_and_endpoints():
    proposals = [
        crossover(donor_with_tool("builtins:exec")).to_json(),
        crossover(donor_with_import()).to_json(),
        SetModelParam(model="fast", name="api_base", value="http://x.invalid").to_json(),
    ]
    result = meta(*proposals)
    codes = [why.split("]")[0].removeprefix("refused: [") for _, why in result.refused]
    assert codes == ["E0605", "E0606", "E0607"]


def test_the_meta_optimizer_shows_exactly_what_it_accepts():
    from rolegraph.compiler.edits import OPERATORS, op_name
    from rolegraph.search.meta import CATALOGUE, catalogue

    shown = [json.loads(line[2:].split("}: ")[0] + "}")["op"] for line in catalogue().splitlines()]
    assert shown == [op_name(o) for o in CATALOGUE] == [op_name(o) for o in OPERATORS]


def test_the_search_command_with_a_proposer_over_http_runs_no_command(tmp_path, monkeypatch):
    """The measured failure, end to end: `rolegraph search --optimizer llm` with the
    proposer served over HTTP proposing a crossover whose donor runs `touch`."""
    from typer.testing import CliRunner

    from rolegraph.cli import app

    marker = tmp_path / "ran"
    edit = crossover(donor_with_tool("subprocess:getoutput", f"touch {marker}")).to_json()
    reply = json.dumps({"edit": edit, "reason": "more context for the writer"})
    data = tmp_path / "qa.jsonl"
    data.write_text(json.dumps({"inputs": {"task": "t"}, "expected": "x"}) + "\n")
    monkeypatch.setenv("OPENAI_API_KEY", "no-key")
    with FakeOpenAI(default=reply) as api:
        args = ["search", str(SELF_REFINE), "--data", str(data), "-n", "2", "--optimizer", "llm"]
        args += ["--store", str(tmp_path / "s.sqlite"), "--proposer", "openai/fake"]
        args += ["--proposal", "text"]  # the edit's JSON as free text, as this proposer writes
        args += ["--api-base", api.url]
        result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert api.requests, "the proposer was asked"
    assert "E0605" in result.output
    assert not marker.exists()


# -- the command line ------------------------------------------------------------------------


def test_rolegraph_edit_refuses_a_new_tool_and_allow_tool_lets_it_in(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    program = tmp_path / "react.agent"
    program.write_text(REACT.read_text())
    proposal = AddDecl(
        source='tool run(code: str) -> str = "rolegraph.stdlib.tools:run_python"', index=3
    ).to_json()
    refused = CliRunner().invoke(app, ["edit", str(program), proposal])
    assert refused.exit_code == 1 and "E0605" in refused.output
    allowed = CliRunner().invoke(
        app,
        ["edit", str(program), proposal, "--allow-tool", "rolegraph.stdlib.tools:run_python"],
    )
    assert allowed.exit_code == 0, allowed.output
    assert "tool run(code: str)" in allowed.output


@pytest.mark.parametrize("code", ["E0605", "E0606", "E0607", "E0608"])
def test_each_refusal_code_is_explained(code):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    result = CliRunner().invoke(app, ["explain", code])
    assert result.exit_code == 0 and "edit" in result.output


def _trust_modules() -> list[ast.Module]:
    paths = [*EXAMPLES, ROOT / "examples" / "mcp" / "notes.agent", *STDLIB]
    found = [rolegraph.parse(p.read_text(), p.name) for p in paths]
    return [m for m in found if m is not None]


def _changed(decl: ast.Node) -> ast.Node | None:
    """`decl` with what trust judges changed (None for a declaration it does not judge)."""
    match decl:
        case ast.ToolDecl():
            return decl.with_changes(target=decl.target + "_other")
        case ast.McpDecl():
            return decl.with_changes(address=decl.address + "-other")
        case ast.Import():
            return decl.with_changes(module=decl.module + "_other")
        case ast.ModelDecl() if decl.params:
            param = decl.params[0]
            return decl.with_changes(params=(param.with_changes(name="base_url"),))
    return None


def _variants(module: ast.Module, donor: ast.Module) -> list[ast.Module]:
    """Programs differing from `module` in its judged declarations: each changed, each
    removed, the first and last swapped, another program's added, or put in the place of
    one of another kind."""
    decls = module.decls
    out = []
    judged = [i for i, d in enumerate(decls) if _changed(d) is not None]
    for i in judged:
        changed = _changed(decls[i])
        out.append(module.with_changes(decls=(*decls[:i], changed, *decls[i + 1 :])))
        out.append(module.with_changes(decls=(*decls[:i], *decls[i + 1 :])))
    if len(judged) > 1:
        i, j = judged[0], judged[-1]
        swapped = list(decls)
        swapped[i], swapped[j] = swapped[j], swapped[i]
        out.append(module.with_changes(decls=tuple(swapped)))
    extra = [d for d in donor.decls if _changed(d) is not None][:2]
    out.append(module.with_changes(decls=(*extra, *decls)))
    plain = [i for i, d in enumerate(decls) if _changed(d) is None and i not in judged]
    if extra and plain:  # a declaration trust does not judge replaced by one it judges
        i = plain[0]
        out.append(module.with_changes(decls=(*decls[:i], extra[0], *decls[i + 1 :])))
    return out


def test_untrusted_answers_as_the_full_comparison_on_edits_and_changed_declarations():
    """The shortcut (the judged declarations shared, in order: nothing new) against the
    comparison of every judged declaration, on every edit of every operator and on
    programs whose tools, servers, imports and models were changed, removed, swapped or
    added (most of which the comparison refuses)."""
    from rolegraph.compiler.edits.trust import _untrusted

    rng = random.Random(15)
    modules = _trust_modules()
    refused = compared = 0
    policies = [NOTHING_NEW, TrustPolicy(imports=frozenset({"std.*"}))]
    for module in modules:
        edited = []
        for operator in OPERATORS:
            for edit in operator.sites(module):
                with contextlib.suppress(EditError):
                    edited.append(edit.apply(module))
        edited += _variants(module, rng.choice(modules))
        for other in edited:
            policy = rng.choice(policies)
            expected = [repr(d) for d in _untrusted(module, other, policy)]
            assert [repr(d) for d in untrusted(module, other, policy)] == expected
            refused += bool(expected)
            compared += 1
    assert compared > 600 and refused > 50, (compared, refused)
