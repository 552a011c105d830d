"""The command line: exit codes 0 (clean), 1 (diagnostics), 2 (usage)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import rolegraph
from rolegraph.cli import app

from .conftest import ROOT

runner = CliRunner()
SELF_REFINE = str(ROOT / "examples" / "self_refine.agent")
BROKEN = "agent A(q: str) -> str {\n  a = W(q,,)\n}\n"


def run(*args: str, input: str | None = None):
    return runner.invoke(app, list(args), input=input)


def test_check_is_clean_on_the_examples():
    result = run("check", str(ROOT / "examples"))
    assert result.exit_code == 0, result.output


def test_check_reports_diagnostics_with_exit_1(tmp_path):
    bad = tmp_path / "bad.agent"
    bad.write_text(BROKEN)
    result = run("check", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:2:11" in result.output
    assert "error[E0101]" in result.output


def test_check_json_is_machine_readable(tmp_path):
    bad = tmp_path / "bad.agent"
    bad.write_text(BROKEN)
    result = runner.invoke(app, ["check", "--json", str(bad)])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data[0]["code"] == "E0101" and data[0]["line"] == 2 and data[0]["column"] == 11


def test_missing_file_is_a_usage_error():
    result = run("check", "does/not/exist.agent")
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_unknown_option_is_a_usage_error():
    assert run("fmt", "--bogus").exit_code == 2


def test_fmt_check_and_rewrite(tmp_path):
    path = tmp_path / "x.agent"
    path.write_text("// keep me\nagent   A(q:str)->str{return q}\n")
    assert run("fmt", "--check", str(path)).exit_code == 1
    assert run("fmt", str(path)).exit_code == 0
    assert path.read_text() == "// keep me\nagent A(q: str) -> str {\n  return q\n}\n"
    assert run("fmt", "--check", str(path)).exit_code == 0


def test_fmt_diff_changes_nothing(tmp_path):
    path = tmp_path / "x.agent"
    path.write_text("agent A(q:str)->str{return q}\n")
    result = run("fmt", "--diff", str(path))
    assert result.exit_code == 1
    assert "+agent A(q: str) -> str {" in result.output
    assert path.read_text() == "agent A(q:str)->str{return q}\n"


def test_fmt_refuses_broken_files(tmp_path):
    path = tmp_path / "x.agent"
    path.write_text(BROKEN)
    assert run("fmt", str(path)).exit_code == 1
    assert path.read_text() == BROKEN


def test_fmt_reads_stdin():
    result = run("fmt", "-", input="agent A(q:str)->str{return q}")
    assert result.exit_code == 0
    assert result.stdout == "agent A(q: str) -> str {\n  return q\n}\n"


def test_parse_prints_canonical_source_or_json():
    assert run("parse", SELF_REFINE).stdout.startswith("model fast =")
    data = json.loads(run("parse", "--json", SELF_REFINE).stdout)
    assert data["kind"] == "Module"
    assert any(d["kind"] == "AgentDecl" for d in data["decls"])


def test_parse_schema():
    schema = json.loads(run("parse", "--schema").stdout)
    assert "NodeDecl" in schema["$defs"]


def test_explain_known_and_unknown_codes():
    assert "unclosed block" in run("explain", "E0107").stdout
    assert run("explain", "E9999").exit_code == 2


def _console_script() -> str | None:
    beside_python = Path(sys.executable).parent / "rolegraph"
    return str(beside_python) if beside_python.exists() else shutil.which("rolegraph")


@pytest.mark.skipif(_console_script() is None, reason="console script not installed")
def test_the_console_script_runs():
    done = subprocess.run([_console_script(), "check", SELF_REFINE], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_importing_rolegraph_does_not_import_the_cli_or_lark():
    code = (
        "import sys, rolegraph; "
        "print(any(m.startswith(('typer', 'rich', 'lark', 'litellm')) for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_check_cost_prints_the_worst_case_table():
    result = run("check", "--cost", SELF_REFINE)
    assert result.exit_code == 0
    assert "SelfRefine: worst case per run" in result.stdout
    assert "3,200" in result.stdout  # 8 calls of at most 400 output tokens


def test_check_cost_prints_a_model_name_as_written(tmp_path):
    """A model's name is the file's text: one that reads as rich's markup (`[/b]`, a
    closing tag that opens nothing) or an emoji code is printed as it is, not refused
    with a traceback or replaced."""
    path = tmp_path / "marked.agent"
    text = Path(SELF_REFINE).read_text()
    path.write_text(text.replace('"openai/gpt-4o-mini"', '"o/[/b]:smile:"'))
    result = run("check", "--cost", str(path))
    assert result.exit_code == 0, result.output
    assert "o/[/b]:smile:" in result.stdout


def test_check_reports_proven_constraints():
    result = run("check", SELF_REFINE)
    assert "`ensure always(return -> once critic)` proven on every run" in result.output


def test_strict_turns_warnings_into_errors(tmp_path):
    path = tmp_path / "w.agent"
    path.write_text('role Free(task: str) -> str {\n  prompt "{{ task }}"\n}\n')
    assert run("check", str(path)).exit_code == 0
    assert run("check", "--strict", str(path)).exit_code == 1


def test_graph_mermaid_and_dot():
    mermaid = run("graph", SELF_REFINE).stdout
    assert mermaid.startswith("flowchart TD")
    assert 'n_critic -. "when not critic.ok max 3 (feedback)" .-> n_writer' in mermaid
    dot = run("graph", "--format", "dot", SELF_REFINE).stdout
    assert dot.startswith('digraph "SelfRefine"')
    assert '"writer" -> "critic";' in dot


def test_graph_usage_errors():
    assert run("graph", "--format", "svgz", SELF_REFINE).exit_code == 2
    assert run("graph", SELF_REFINE, "Nope").exit_code == 2


def test_the_runtime_does_not_import_the_front_end():
    code = (
        "import sys, rolegraph.runtime, rolegraph.runtime.executor; "
        "print(sorted(m for m in sys.modules if m.startswith('rolegraph.grammar') "
        "or m.startswith('lark')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_edit_lists_applies_and_refuses(tmp_path):
    listed = run("edit", SELF_REFINE, "--list")
    assert listed.exit_code == 0, listed.output
    edits = [json.loads(line) for line in listed.output.splitlines()]
    assert {"op": "refine_loop"} not in edits and len(edits) > 5
    proposal = json.dumps({"op": "change_model", "role": "Critic", "model": "fast"})
    out = tmp_path / "edited.agent"
    changed = run("edit", SELF_REFINE, json.dumps(edits[0]), "-o", str(out))
    assert changed.exit_code == 0, changed.output
    assert run("check", str(out)).exit_code == 0
    assert run("edit", SELF_REFINE, proposal).exit_code == 1  # Critic's model is fast already
    broken = run(
        "edit",
        SELF_REFINE,
        '{"op": "change_role", "agent": "SelfRefine", "node": "critic", "role": "Writer"}',
    )
    assert (
        broken.exit_code == 1 and "E0604" in broken.output and "has no field `ok`" in broken.output
    )
    # a diff script from one file to the edited one, applied back
    script = run("edit", SELF_REFINE, "--diff", str(out))
    assert script.exit_code == 0
    rebuilt = run("edit", SELF_REFINE, script.output.strip())
    assert rebuilt.exit_code == 0
    assert rolegraph.parse(rebuilt.output) == rolegraph.parse(out.read_text())


def test_compile_writes_a_module_or_reports_diagnostics(tmp_path):
    out = tmp_path / "refine.py"
    result = run("compile", SELF_REFINE, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "def SelfRefine(task: str) -> Answer:\n    writer = rg.node(Writer, task)" in (
        out.read_text()
    )
    graph = tmp_path / "refine_lg.py"
    assert run("compile", SELF_REFINE, "--target", "langgraph", "-o", str(graph)).exit_code == 0
    assert "def build_SelfRefine() -> StateGraph:" in graph.read_text()
    broken = tmp_path / "broken.agent"
    broken.write_text(BROKEN)
    assert run("compile", str(broken)).exit_code == 1
    assert run("compile", SELF_REFINE, "--target", "cobol").exit_code == 2
