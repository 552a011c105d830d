"""The check memo (what an editor reuses between checks) never changes what the checker
says: on every candidate of every operator, accepted or not, and on programs that share
statements whose names mean something else."""

import pytest

import rolegraph
from rolegraph.compiler import ast
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import OPERATORS, ChangeRole
from rolegraph.compiler.typecheck import CheckMemo
from rolegraph.grammar import parse_module

from .conftest import EXAMPLES
from .test_edit_operators import FIXTURE


def _parse(text, name):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def said(module, memo=None):
    checked = check_module(module, "memo.agent", _parse, "", errors_only=True, memo=memo)
    return [(d.is_error, str(d)) for d in checked.diagnostics]


def candidates(module):
    """Every site of every operator, and every change of role a person could propose
    (sites offer only the roles that fit: the others are candidates with errors)."""
    for operator in OPERATORS:
        yield from operator.sites(module)
    for agent in module.agents:
        for node in agent.nodes:
            for role in module.roles:
                yield ChangeRole(agent=agent.name, node=node.name, role=role.name)


def agrees_on_every_candidate(module) -> int:
    """Check every candidate with and without a memo (twice with it: the second time
    from the memo); the number of candidates with errors."""
    memo = CheckMemo()
    said(module, memo)
    with_errors = 0
    for edit in candidates(module):
        edited = edit.apply(module)
        fresh = said(edited)
        assert said(edited, memo) == fresh, edit
        assert said(edited, memo) == fresh, edit
        with_errors += any(is_error for is_error, _ in fresh)
    return with_errors


@pytest.mark.parametrize("path", EXAMPLES[:6], ids=lambda p: p.stem)
def test_memo_says_what_a_fresh_check_says_on_every_candidate(path):
    agrees_on_every_candidate(rolegraph.parse_file(path))


def test_memo_says_what_a_fresh_check_says_on_candidates_with_errors():
    assert agrees_on_every_candidate(rolegraph.parse(FIXTURE)) > 10


PROGRAM = """
model m = "mock"
type A { text: str }
type B { score: float }
role MakeA(task: str) -> A { model m  prompt "{{ task }}" }
role MakeB(task: str) -> B { model m  prompt "{{ task }}" }
role Use(task: str, previous: A) -> A { model m  prompt "{{ task }}" }
agent Flow(task: str) -> A {
  first = MakeA(task)
  second = Use(task, previous: first)
  second -> return(second) when second.text == "done"
  second -> return(first) else
  ensure eventually return
}
"""


def test_a_statement_reused_where_its_names_mean_another_type_is_checked_again():
    module = rolegraph.parse(PROGRAM)
    memo = CheckMemo()
    assert not [line for is_error, line in said(module, memo) if is_error]
    agent = module.find(ast.AgentDecl)
    first = agent.nodes[0]
    # the same `second`, edges and constraint objects; only `first` now makes a B
    edited = module.with_changes(
        decls=tuple(
            agent.with_changes(
                body=tuple(s.with_changes(role="MakeB") if s is first else s for s in agent.body)
            )
            if s is agent
            else s
            for s in module.decls
        )
    )
    fresh = said(edited)
    assert any(is_error and "previous" in line for is_error, line in fresh), fresh
    assert said(edited, memo) == fresh
