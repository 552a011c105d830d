"""Properties of edits over many random edits: every edit the editor returns checks clean
under the full checker, prints as source that parses back to it, and round-trips through
JSON; `diff` scripts turn one program into another exactly.

Between them, the two random-walk tests make at least 5,000 accepted edits per run.
"""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rolegraph
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import (
    EditError,
    Editor,
    TrustPolicy,
    apply_script,
    diff,
    edit_from_json,
    script_from_json,
    script_to_json,
)
from rolegraph.grammar import parse_module

from . import strategies
from .checking import PRELUDE
from .conftest import EXAMPLES
from .test_check_property import well_typed_agents
from .test_edit_operators import FIXTURE

EDITOR = rolegraph.editor("walk.agent")
RESTART = 15  # a walk goes back to its source after this many steps (programs stay small)


def _parse(text, name):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def full_errors(module, filename: str = "walk.agent"):
    """Every error the full checker (exploration included) finds in a module, read as the
    file `filename` (its tools' modules are found beside it)."""
    return [str(d) for d in check_module(module, filename, _parse, "").errors]


def walk(
    editor: Editor,
    start,
    steps: int,
    rng: random.Random,
    source_every: int = 10,
    filename: str = "walk.agent",
):
    """A random walk of accepted edits from `start`, each checked by the full checker and
    round-tripped through JSON; every `source_every`-th also printed and parsed back.
    Returns the number of edits accepted and the programs visited."""
    module, accepted, visited = start, 0, [start]
    for step in range(1, steps + 1):
        found = editor.sample(module, rng)
        if found is None:
            break
        edit, edited = found
        assert not full_errors(edited, filename), (edit, full_errors(edited, filename))
        assert edit_from_json(edit.to_json()) == edit
        if accepted % source_every == 0:
            assert rolegraph.parse(rolegraph.to_source(edited)) == edited
            assert rolegraph.fingerprint(edited) != rolegraph.fingerprint(module)
        accepted += 1
        module = edited if step % RESTART else start
        visited.append(module)
    return accepted, visited


@pytest.mark.slow  # a random walk of edits over every example
def test_random_edits_of_the_examples_all_check_clean():
    rng = random.Random(20261123)
    # each example edited where it lies: its tools' modules are found beside it
    sources = [(rolegraph.editor(str(p)), rolegraph.parse_file(p), str(p)) for p in EXAMPLES]
    sources.append((EDITOR, rolegraph.parse(FIXTURE), "walk.agent"))
    total = 0
    for editor, start, filename in sources:
        accepted, visited = walk(editor, start, 300, rng, filename=filename)
        assert accepted >= 250, (start, accepted)
        total += accepted
        # the diff between the start and where the walk went gives back that program
        for end in visited[:: max(1, len(visited) // 6)]:
            script = diff(start, end)
            assert apply_script(start, script) == end
            assert script_from_json(script_to_json(script)) == script
    assert total >= 3_000


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(well_typed_agents(), st.integers(0, 2**32))
def test_random_edits_of_random_agents_all_check_clean(agent, seed):
    start = rolegraph.parse(PRELUDE + agent)
    accepted, visited = walk(EDITOR, start, 20, random.Random(seed), source_every=4)
    assert accepted == 20
    script = diff(start, visited[-1])
    assert apply_script(start, script) == visited[-1]
    assert diff(visited[-1], visited[-1]) == []


def test_diff_between_any_two_examples():
    modules = [rolegraph.parse_file(p) for p in EXAMPLES]
    for a in modules:
        for b in modules:
            script = diff(a, b)
            assert apply_script(a, script) == b
            assert (script == []) == (a == b)
    # the script between two valid programs is accepted by the editor as a whole, once
    # the caller trusts what it brings in (here, a standard module the first lacks)
    by_name = dict(zip((p.stem for p in EXAMPLES), modules, strict=True))
    plain, importing = by_name["aflow_codegen"], by_name["react"]  # react imports std.types
    script = diff(plain, importing)
    with pytest.raises(EditError) as refused:
        EDITOR.apply_script(plain, script)
    assert "E0606" in [d.code for d in refused.value.diagnostics]
    trusting = rolegraph.editor(
        "walk.agent",
        trust=TrustPolicy(imports={"std.*"}, tools={"rolegraph.stdlib.tools:calculator"}),
    )
    assert trusting.apply_script(plain, script) == importing


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.modules, strategies.modules)
def test_diff_between_random_modules(a, b):
    # any two trees the printer can write, valid programs or not
    a, b = (rolegraph.parse(rolegraph.to_source(m)) for m in (a, b))
    assert apply_script(a, diff(a, b)) == b


def test_rejected_candidates_do_not_check():
    """The editor's fast check (errors only, memoized) agrees with the full checker."""
    from rolegraph.compiler.edits import OPERATORS, EditError

    for path in EXAMPLES[:4]:
        module = rolegraph.parse_file(path)
        for operator in OPERATORS:
            for edit in list(operator.sites(module))[:15]:
                edited = edit.apply(module)
                try:
                    EDITOR.apply(module, edit)
                    accepted = True
                except EditError:
                    accepted = False
                if edited != module:
                    assert accepted == (not full_errors(edited)), edit
