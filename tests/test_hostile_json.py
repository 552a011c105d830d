"""JSON from users and models: nested too deep, or holding lone surrogates.

JSON nested more than 100 levels deep (a run's `--input`, an edit proposal, a dataset
line, a model's reply) is refused as malformed, naming the limit, before `json.loads`
could recurse. A lone surrogate (`"\\ud800"` is valid JSON) runs like any other text
and comes back out as its escape; written as `\\u{D800}` in a `.agent` string it is E0104.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from rolegraph.cli import app
from rolegraph.compiler.depth import MAX_JSON_NESTING, loads_json
from rolegraph.grammar import parse_module
from rolegraph.runtime.budget import prompt_bound
from rolegraph.runtime.models import ModelRequest
from rolegraph.runtime.repair import read_reply
from rolegraph.search.objective import ObjectiveError, load_examples

from .conftest import ROOT

runner = CliRunner()
SELF_REFINE = str(ROOT / "examples" / "self_refine.agent")
DEEP = "[" * 30_000 + "]" * 30_000
ECHO = "agent Echo(task: str) -> str {\n  return task\n}\n"


def _invoke(*args: str):
    result = runner.invoke(app, list(args))
    assert not result.exception or isinstance(result.exception, SystemExit), result.exception
    return result


def test_json_at_the_limit_loads():
    text = "[" * MAX_JSON_NESTING + "]" * MAX_JSON_NESTING
    assert loads_json(text) is not None


def test_json_past_the_limit_is_malformed_at_the_bracket_that_goes_past():
    with pytest.raises(json.JSONDecodeError) as refused:
        loads_json('{"a": ' + "[" * MAX_JSON_NESTING + "]" * MAX_JSON_NESTING + "}")
    assert refused.value.pos == 6 + MAX_JSON_NESTING - 1
    assert f"{MAX_JSON_NESTING} levels" in refused.value.msg


def test_brackets_inside_json_strings_are_not_nesting():
    text = json.dumps({"text": "[" * 1000 + "{" * 1000, "quote": '\\"[['})
    assert loads_json(text)["text"].startswith("[[[")


def test_an_input_nested_too_deep_is_a_usage_error_naming_the_limit():
    result = _invoke("run", SELF_REFINE, "--model", "mock", "--no-store", "--input", DEEP)
    assert result.exit_code == 2
    assert f"nested more than {MAX_JSON_NESTING} levels deep" in result.output


def test_an_edit_proposal_nested_too_deep_is_a_malformed_edit():
    result = _invoke("edit", SELF_REFINE, '{"op": ' + DEEP + "}")
    assert result.exit_code == 1
    assert "E0603" in result.output and f"{MAX_JSON_NESTING} levels" in result.output


def test_an_edit_script_nested_too_deep_is_a_malformed_edit():
    result = _invoke("edit", SELF_REFINE, DEEP)
    assert result.exit_code == 1
    assert "E0603" in result.output and f"{MAX_JSON_NESTING} levels" in result.output


def test_a_dataset_line_nested_too_deep_is_an_error_naming_the_line(tmp_path):
    data = tmp_path / "data.jsonl"
    data.write_text('{"inputs": {"task": "x"}}\n' + DEEP + "\n")
    with pytest.raises(ObjectiveError, match=rf"data.jsonl:2: .*{MAX_JSON_NESTING} levels"):
        load_examples(data)


def test_a_model_reply_nested_too_deep_is_not_json():
    with pytest.raises(ValueError):
        read_reply(DEEP)


def test_a_surrogate_escape_in_a_string_is_e0104_at_its_place():
    result = parse_module('agent A(q: str) -> str {\n  return "ab\\u{D800}"\n}\n', "s.agent")
    (problem,) = result.diagnostics
    assert (problem.code, problem.line, problem.column) == ("E0104", 2, 13)
    assert "surrogate" in problem.message


def test_a_lone_surrogate_in_a_result_is_written_as_its_json_escape(tmp_path):
    path = tmp_path / "echo.agent"
    path.write_text(ECHO)
    result = _invoke("run", str(path), "--no-store", "-q", "--input", '{"task": "\\ud800é"}')
    assert result.exit_code == 0
    assert "\\ud800" in result.stdout and "é" in result.stdout
    assert json.loads(result.stdout) == "\ud800é"


def _request(content: str) -> ModelRequest:
    return ModelRequest("R", "r", "mock", ({"role": "user", "content": content},), {})


def test_a_lone_surrogate_in_a_prompt_counts_toward_the_budget():
    assert prompt_bound(_request("\ud800")) == prompt_bound(_request("")) + 3
