"""Incremental checking (compiler/incremental.py) says exactly what the full checker says.

Random walks of edits over every example. At each step the edited program is checked by a
session that has checked the walk so far (only what the edit touched is checked again)
and by a fresh `check_module` with no memo: the same diagnostics (code, span, message,
labels, hints, notes: their whole `repr`), the same IRs (`repr` of their dump) and the
same constraint verdicts. Rejected candidates are compared too — an incremental checker
goes wrong where a statement it skips would now report something. Every edit the
incremental editor accepts also checks clean under the full checker from its printed
source.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.check import CheckedModule, check_module
from rolegraph.compiler.edits import OPERATORS, ChangeRole, EditError
from rolegraph.compiler.incremental import CheckSession, check_edited
from rolegraph.grammar import parse_module

from .conftest import EXAMPLES, ROOT, STDLIB
from .test_check_memo import PROGRAM
from .test_edit_operators import FIXTURE

RESTART = 12  # a walk goes back to its start after this many steps


def _parse(text: str, name: str):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def fresh(module: ast.Module, filename: str, **options) -> CheckedModule:
    """The full checker, from scratch: no memo, imports parsed again."""
    return check_module(module, filename, _parse, "", **options)


def said(checked: CheckedModule) -> tuple[list[str], dict[str, str], list[str]]:
    return (
        [repr(d) for d in checked.diagnostics],
        {name: repr(ir.model_dump()) for name, ir in checked.irs.items()},
        [repr(c) for c in checked.constraints],
    )


def candidates(module: ast.Module) -> list:
    found = [edit for operator in OPERATORS for edit in operator.sites(module)]
    for agent in module.agents:  # changes of role a person could propose, fitting or not
        for node in agent.nodes:
            found += [
                ChangeRole(agent=agent.name, node=node.name, role=r.name) for r in module.roles
            ]
    return found


def agrees(session: CheckSession, module: ast.Module, filename: str, **options) -> CheckedModule:
    incremental = session.check(module, **options)
    assert said(incremental) == said(fresh(module, filename, **options)), options
    return incremental


def walk(start: ast.Module, filename: str, steps: int, rng: random.Random) -> int:
    """A walk of `steps` accepted edits from `start`, each compared as the module says;
    returns how many rejected candidates were compared on the way."""
    session = CheckSession(filename)
    editor = rolegraph.editor(filename, session=session)
    module = start
    agrees(session, module, filename)
    rejected = 0
    for step in range(1, steps + 1):
        sites = candidates(module)
        for edit in rng.sample(sites, min(3, len(sites))):  # accepted or not, errors-only
            try:
                edited = edit.apply(module)
            except (EditError, ValueError):
                continue
            checked = agrees(session, edited, filename, errors_only=True)
            rejected += bool(checked.errors)
        found = editor.sample(module, rng)
        if found is None:
            break
        edit, edited = found
        # what the editor accepted (incrementally) is clean for the full checker, from source
        reparsed = rolegraph.parse(rolegraph.to_source(edited), filename)
        assert not fresh(reparsed, filename).errors, edit
        # and the session's full check and its evaluator's check agree with a fresh one
        agrees(session, edited, filename)
        agrees(session, edited, filename, explore=False)
        # a search's editor asks for the IRs too; its evaluator takes them, unchecked again
        assert not agrees(session, edited, filename, errors_only=True, irs=True).errors
        runnable = session.runnable(edited)
        assert runnable.irs and not runnable.errors
        assert said(runnable)[1] == said(fresh(edited, filename, explore=False))[1]
        module = edited if step % RESTART else start
    return rejected


def test_an_incremental_walk_over_a_few_examples_says_what_the_full_checker_says():
    rng = random.Random(20261206)
    rejected = 0
    for path in EXAMPLES[:4]:
        rejected += walk(rolegraph.parse_file(path), str(path), 8, rng)
    rejected += walk(rolegraph.parse(FIXTURE), "walk.agent", 8, rng)
    assert rejected > 0  # candidates with errors were compared too


def test_incremental_walks_over_stdlib_files_say_what_the_full_checker_says():
    rng = random.Random(20261207)
    for path in STDLIB:
        walk(rolegraph.parse_file(path), str(path), 4, rng)


@pytest.mark.parametrize("nodes", [12, 30])
def test_incremental_walks_over_generated_agents_say_what_the_full_checker_says(nodes: int):
    """The bench's agents (bench/generate.py: replication, maps, merges, bounded loops,
    `ensure`s): every sampled candidate, accepted or refused, as the full checker says."""
    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from generate import large_program

    module = rolegraph.parse(large_program(roles=6, nodes=nodes), "generated.agent")
    assert walk(module, "generated.agent", 6, random.Random(nodes)) > 0


@pytest.mark.slow  # a random walk of edits over every example
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_incremental_walks_over_every_example_say_what_the_full_checker_says(path: Path):
    walk(rolegraph.parse_file(path), str(path), 30, random.Random(path.stem))


def test_runnable_takes_the_irs_of_a_clean_errors_only_check_of_the_same_declarations():
    module = rolegraph.parse(FIXTURE)
    session = CheckSession("walk.agent")
    checked = session.check(module, errors_only=True, irs=True)
    assert not checked.errors and checked.irs
    assert session.runnable(module) is checked
    # the same declarations in another module object: the same program
    assert session.runnable(module.with_changes(decls=module.decls)) is checked
    # one declaration another object (an equal one): checked again, to the same IRs
    again = module.with_changes(decls=(*module.decls[:-1], module.decls[-1].model_copy()))
    rechecked = session.runnable(again)
    assert rechecked is not checked
    assert said(rechecked) == said(fresh(again, "walk.agent", explore=False))
    # a check without IRs, or one with errors, is not taken
    other = CheckSession("walk.agent")
    other.check(module, errors_only=True)
    assert other.runnable(module).irs and said(other.runnable(module)) == said(
        fresh(module, "walk.agent", explore=False)
    )
    broken = module.with_changes(decls=(*module.decls, module.decls[-1]))  # (a duplicate)
    assert session.check(broken, errors_only=True, irs=True).errors
    assert session.runnable(broken).errors


def test_check_edited_is_the_check_of_the_edited_program():
    module = rolegraph.parse(FIXTURE)
    session = CheckSession("walk.agent")
    parent = session.check(module)
    assert parent.session is session
    tried = 0
    for edit in candidates(module)[:: max(1, len(candidates(module)) // 40)]:
        try:
            child = check_edited(parent, edit)
        except EditError:
            continue
        tried += 1
        edited = child.program.main.module
        assert edited == edit.apply(module)
        assert said(child) == said(fresh(edited, "walk.agent"))
        assert child.session is session
    assert tried >= 20


def test_an_edit_that_changes_what_an_unchanged_statement_reads_is_checked_again():
    # `second` is the same statement before and after; only `first` changes: it now makes
    # a B, and `second` must be checked again (a checker that skips it would miss the error)
    module = rolegraph.parse(PROGRAM)
    session = CheckSession("flow.agent")
    parent = session.check(module)
    assert not parent.errors
    child = check_edited(parent, ChangeRole(agent="Flow", node="first", role="MakeB"))
    assert any("previous" in d.message for d in child.errors)
    assert said(child) == said(fresh(child.program.main.module, "flow.agent"))
