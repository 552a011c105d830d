"""A candidate that only adds a proven `ensure` takes its parent's runs
(search/candidates.py `unchanged_runs`), judged from the edited program's check alone;
held here to the rule it replaces, both programs checked: the checker proves of the edited
agent some constraint it does not prove of the parent's. (Half the edited programs are
first checked by the search's editor, whose IRs the evaluator then explores; the others
by the evaluator itself.)"""

import pytest

import rolegraph
from rolegraph.compiler.check import check_module
from rolegraph.compiler.edits import AddConstraint, EditError
from rolegraph.grammar import parse_module
from rolegraph.search import Evaluator, Example, Objective, SearchStore, contains
from rolegraph.search.candidates import unchanged_runs
from rolegraph.search.program import without_tests

from .conftest import ROOT

EXAMPLES = sorted((ROOT / "examples").glob("*.agent"))


def _parse(text, name):
    result = parse_module(text, name)
    return result.module, result.diagnostics


def _proven(module, filename, agent):
    """Both programs checked afresh, no session: the oracle's verdicts."""
    checked = check_module(without_tests(module), filename, _parse, "")
    return {
        (c.agent, c.text)
        for c in checked.constraints
        if c.status == "proven" and c.agent.rsplit(".", 1)[-1] == agent
    }


def _edits(module):
    """Every `ensure` the editor offers; each formula already there, added again; and an
    `enforce` of an offered formula."""
    offered = list(AddConstraint.sites(module))
    again = [
        AddConstraint(agent=agent.name, formula=rolegraph.to_source(c.formula))
        for agent in module.agents
        for c in agent.constraints
    ]
    shields = [AddConstraint(agent=e.agent, formula=e.formula, mode="enforce") for e in offered[:2]]
    return offered + again + shields


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_added_ensure_is_judged_as_both_checks_judge_it(path):
    module = rolegraph.parse_file(path)
    filename = str(path)
    if check_module(module, filename, _parse, "").errors:
        pytest.skip("the example does not check")
    evaluator = Evaluator(
        Objective([Example({})], contains), store=SearchStore(), filename=filename
    )
    judged = 0
    for edit in _edits(module):
        try:
            edited = edit.apply(module)
        except (EditError, ValueError):
            continue
        if check_module(without_tests(edited), filename, _parse, "").errors:
            continue
        if judged % 2:  # (the editor's check first: the evaluator then takes its IRs)
            evaluator.editor().admit(module, edited, "the edit")
        proven = _proven(edited, filename, edit.agent)
        oracle = (
            edit.mode == "ensure"
            and bool(proven)
            and bool(proven - _proven(module, filename, edit.agent))
        )
        assert unchanged_runs(evaluator, module, edited, edit) is oracle, edit
        assert unchanged_runs(evaluator, module, edited, [edit]) is oracle, edit
        judged += 1
    assert judged or not module.agents
