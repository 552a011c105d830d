"""Typed edits: every edit the editor offers checks clean; edits are JSON values; bad
proposals are refused with a diagnostic."""

import pytest

import rolegraph
from rolegraph.compiler.edits import (
    OPERATORS,
    ChangeModel,
    ChangeRole,
    EditError,
    InvalidEdit,
    RemoveEdge,
    RewritePrompt,
    SetModelParam,
    edit_from_json,
)

from .conftest import EXAMPLES

EDITOR = rolegraph.editor(str(EXAMPLES[0]))


def module_of(path):
    return rolegraph.parse_file(path)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_offered_edit_checks_clean_and_round_trips(path):
    module = module_of(path)
    offered = list(EDITOR.applicable(module))
    for edit in offered:
        edited = EDITOR.apply(module, edit)
        assert not [d for d in EDITOR.check(edited) if d.is_error]
        assert rolegraph.parse(rolegraph.to_source(edited)) == edited  # prints as source
        assert rolegraph.fingerprint(edited) != rolegraph.fingerprint(module)
        assert edit_from_json(edit.to_json()) == edit


def test_the_editor_offers_only_valid_candidates():
    module = module_of(EXAMPLES[0].parent / "self_refine.agent")
    candidates = [e for op in OPERATORS for e in op.sites(module)]
    offered = list(EDITOR.applicable(module))
    assert 0 < len(offered) < len(candidates)  # some candidates do not check: filtered
    # swapping the critic for the writer breaks `critic.ok`: never offered
    assert ChangeRole(agent="SelfRefine", node="critic", role="Writer") not in offered
    with pytest.raises(InvalidEdit) as caught:
        EDITOR.apply(module, ChangeRole(agent="SelfRefine", node="critic", role="Writer"))
    assert caught.value.diagnostics[0].code == "E0604"


def test_each_operator_changes_what_it_says():
    module = module_of(EXAMPLES[0].parent / "debate.agent")
    hotter = EDITOR.apply(module, SetModelParam(model="debater", name="temperature", value=1.0))
    assert 'model debater = "openai/gpt-4o-mini" { temperature: 1.0 }' in str(hotter)
    judged = EDITOR.apply(module, ChangeModel(role="Debater", model="judge"))
    assert judged.decl("Debater").model.name == "judge"
    terse = EDITOR.apply(
        module,
        RewritePrompt(
            role="Judge", text="Pick the best: {% for a in answers %}{{ a.text }}{% endfor %}"
        ),
    )
    assert terse.decl("Judge").prompt.text.startswith("Pick the best")
    refine = module_of(EXAMPLES[0].parent / "self_refine.agent")
    single = EDITOR.apply(refine, RemoveEdge(agent="SelfRefine", index=0))
    assert len(single.decl("SelfRefine").edges) == 1


def test_a_prompt_rewrite_that_breaks_the_template_is_refused():
    module = module_of(EXAMPLES[0].parent / "debate.agent")
    with pytest.raises(InvalidEdit) as caught:
        EDITOR.apply(module, RewritePrompt(role="Judge", text="{{ qeustion }}"))
    assert "E0309" in caught.value.diagnostics[0].notes[0]


@pytest.mark.parametrize(
    ("proposal", "code"),
    [
        ("not json", "E0603"),
        ('{"op": "delete_everything"}', "E0601"),
        ('{"op": "change_modle", "role": "Writer", "model": "fast"}', "E0601"),
        ('{"op": "change_model", "role": "Writer"}', "E0603"),
        ('{"op": "remove_edge", "agent": "SelfRefine", "index": "first"}', "E0603"),
    ],
)
def test_bad_proposals_get_a_diagnostic(proposal, code):
    with pytest.raises(EditError) as caught:
        edit_from_json(proposal)
    assert caught.value.diagnostics[0].code == code


@pytest.mark.parametrize(
    "edit",
    [
        ChangeModel(role="Wrter", model="fast"),
        ChangeModel(role="Writer", model="nope"),
        ChangeRole(agent="SelfRefine", node="ghost", role="Writer"),
        RemoveEdge(agent="SelfRefine", index=7),
    ],
)
def test_edits_at_sites_that_do_not_exist_are_refused(edit):
    module = module_of(EXAMPLES[0].parent / "self_refine.agent")
    with pytest.raises(EditError) as caught:
        EDITOR.apply(module, edit)
    assert caught.value.diagnostics[0].code == "E0602"


def test_a_did_you_mean_for_a_misspelt_operator():
    with pytest.raises(EditError) as caught:
        edit_from_json('{"op": "change_modle"}')
    assert caught.value.diagnostics[0].hints == ("did you mean `change_model`?",)


def test_edits_are_plain_json_values():
    edit = SetModelParam(model="fast", name="temperature", value=0.7)
    assert edit.to_json() == (
        '{"op":"set_model_param","model":"fast","name":"temperature","value":0.7}'
    )
    assert isinstance(edit_from_json(edit.to_json()), SetModelParam)


def test_the_editor_remembers_the_sites_of_the_programs_it_samples():
    editor = rolegraph.editor(str(EXAMPLES[0]))
    module, other = module_of(EXAMPLES[0]), module_of(EXAMPLES[1])
    sites = editor.sites(module)
    assert sites == {operator: list(operator.sites(module)) for operator in OPERATORS}
    assert editor.sites(module)[ChangeModel] is sites[ChangeModel]  # remembered
    assert editor.sites(other)[ChangeModel] == list(ChangeModel.sites(other))
    assert editor.sites(module, [ChangeModel]) == {ChangeModel: sites[ChangeModel]}
