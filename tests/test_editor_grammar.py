"""The TextMate grammar of `.agent` files (editors/textmate): tokenized as VS Code does
(vscode-textmate and Oniguruma, in node) where node and the editor's npm packages are
installed, and checked as JSON and regular expressions everywhere."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT

GRAMMAR = ROOT / "editors" / "textmate" / "rolegraph.tmLanguage.json"
VSCODE = ROOT / "editors" / "vscode"


def _patterns(node):
    if isinstance(node, dict):
        for key in ("match", "begin", "end"):
            if key in node:
                yield node[key]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for item in node:
            yield from _patterns(item)


def test_the_grammar_is_a_textmate_grammar_for_agent_files():
    grammar = json.loads(GRAMMAR.read_text())
    assert grammar["scopeName"] == "source.rolegraph"
    assert grammar["fileTypes"] == ["agent"]
    included = {p["include"].lstrip("#") for p in grammar["patterns"]}
    assert included <= set(grammar["repository"])


def test_every_pattern_is_a_regular_expression():
    # (written in the subset Oniguruma and Python share, so Python can check them)
    for pattern in _patterns(json.loads(GRAMMAR.read_text())):
        re.compile(pattern)


def _scopes(text: str) -> list[list[tuple[str, str]]]:
    """(token, innermost scope) for each line, as VS Code would tokenize `text`."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (VSCODE / "node_modules" / "vscode-textmate").exists():
        pytest.skip("the editor's npm packages are not installed (npm ci in editors/vscode)")
    source = VSCODE / "scripts" / "tokenize.js"
    sample = Path(__import__("tempfile").mkdtemp()) / "sample.agent"
    sample.write_text(text)
    output = subprocess.run(
        ["node", str(source), str(GRAMMAR), str(sample)],
        capture_output=True,
        text=True,
        check=True,
        cwd=VSCODE,
    ).stdout
    return [
        [(t["text"], t["scopes"][-1]) for t in line if t["text"].strip()]
        for line in json.loads(output)
    ]


SAMPLE = """\
// a comment
model fast = "openai/gpt-4o-mini" { temperature: 0.2 }
type Review { ok: bool, feedback: str }
role Critic(draft: Answer?) -> Review {
  prompt "Check {{ draft.text | trim }} {% if draft %}again{% endif %}\\n"
}
agent Loop(task: str) -> Review {
  critic = Critic(task) x 3
  critic -> writer(feedback: critic.feedback) when not critic.ok max 3
  ensure always(return -> once critic) and (writer U critic)
}
"""


def test_comments_strings_and_numbers_have_their_scopes():
    lines = _scopes(SAMPLE)
    assert lines[0] == [("// a comment", "comment.line.double-slash.rolegraph")]
    assert ("openai/gpt-4o-mini", "string.quoted.double.rolegraph") in lines[1]
    assert ("0.2", "constant.numeric.float.rolegraph") in lines[1]
    assert ("\\n", "constant.character.escape.rolegraph") in lines[4]


def test_declarations_and_types_have_their_scopes():
    lines = _scopes(SAMPLE)
    assert ("model", "storage.type.model.rolegraph") in lines[1]
    assert ("Review", "entity.name.type.rolegraph") in lines[2]
    assert ("bool", "support.type.primitive.rolegraph") in lines[2]
    assert ("Critic", "entity.name.function.rolegraph") in lines[3]
    assert ("Answer", "entity.name.type.rolegraph") in lines[3]


def test_edges_guards_and_bounds_have_their_scopes():
    lines = _scopes(SAMPLE)
    assert ("critic", "variable.other.definition.node.rolegraph") in lines[7]
    assert ("x", "keyword.operator.replicate.rolegraph") in lines[7]
    assert ("->", "keyword.operator.arrow.edge.rolegraph") in lines[8]
    assert ("when", "keyword.control.conditional.guard.rolegraph") in lines[8]
    assert ("max", "keyword.control.bound.rolegraph") in lines[8]


def test_temporal_operators_in_words_and_letters_have_their_scope():
    lines = _scopes(SAMPLE)
    operators = [t for t, scope in lines[9] if scope == "keyword.operator.temporal.rolegraph"]
    assert operators == ["always", "once", "U"]
    assert ("->", "keyword.operator.implication.rolegraph") in lines[9]


def test_jinja_inside_prompt_strings_is_embedded():
    line = _scopes(SAMPLE)[4]
    assert ("{{", "punctuation.section.embedded.begin.jinja") in line
    assert ("text", "variable.other.property.jinja") in line
    assert ("trim", "support.function.filter.jinja") in line
    assert ("if", "keyword.control.jinja") in line
