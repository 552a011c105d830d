"""A proposer a small model can drive (search/proposals.py): the operator from an enum of
the catalogue, its fields typed (names from the program as enums), a bounded prompt; and
edits that cannot change a run reuse the parent's runs."""

import asyncio
import json

import rolegraph
from rolegraph.compiler.edits import OPERATORS, AddConstraint, ReplicateVote, op_name
from rolegraph.runtime import MockModel
from rolegraph.search import Evaluator, Example, Objective, contains, meta_search
from rolegraph.search.candidates import Trail
from rolegraph.search.meta import Attempt
from rolegraph.search.proposals import (
    LINE,
    SHOWN,
    chooser_source,
    edit_json,
    filler_source,
    load,
    names,
    tried_summary,
)

from .conftest import ROOT

SELF_REFINE = ROOT / "examples" / "self_refine.agent"


def start():
    return rolegraph.parse_file(SELF_REFINE)


def evaluator(examples=2):
    objective = Objective([Example({"task": f"t{i}"}, "x") for i in range(examples)], contains)
    return Evaluator(objective, filename=str(SELF_REFINE))


def result_schema(ir):
    from rolegraph.runtime.values import schema

    return schema(ir.nodes[next(iter(ir.nodes))].result)


def test_the_operator_is_an_enum_of_the_catalogue_shown():
    ops = [op_name(o) for o in OPERATORS]
    chooser = load(chooser_source(ops), "Chooser")
    text = json.dumps(result_schema(chooser))
    for op in ops:
        assert f'"{op}"' in text
    assert "add_decl" not in text  # not shown, so not proposable


def test_fields_that_name_program_parts_are_enums_of_the_programs_names():
    filler = load(filler_source(ReplicateVote, names(start())), "Filler")
    schema = result_schema(filler)
    text = json.dumps(schema)
    assert '"writer"' in text and '"critic"' in text and '"SelfRefine"' in text
    assert '"n"' in text and '"integer"' in text  # the replica count is an int


def test_every_operator_has_a_filler_that_checks():
    known = names(start())
    for operator in OPERATORS:
        load(filler_source(operator, known), "Filler")  # raises when it does not check


def test_a_structured_proposal_reads_back_as_the_edit():
    text = edit_json("set_model_param", {"model": "fast", "name": "temperature", "value": "0.7"})
    assert json.loads(text) == {
        "op": "set_model_param",
        "model": "fast",
        "name": "temperature",
        "value": 0.7,
    }


def test_what_was_tried_stays_bounded_however_long_the_search():
    refusal = "refused: [E0602] agent `SelfRefine` has no node `x`\n  hint: " + "long " * 200
    few = [Attempt('{"op": "bypass_node"}', refusal, False)]
    many = few * 500
    assert len(tried_summary(many)) <= (SHOWN + 1) * (LINE + 1)
    assert "494 earlier attempts; refused: 494 E0602" in tried_summary(many)
    assert len(tried_summary(many)) - len(tried_summary(few * SHOWN)) < 100


def test_the_proposers_prompt_does_not_grow_with_refusals():
    again = {"op": "rewrite_prompt", "reason": "clearer"}  # accepted, then already tried
    text = {"role": "Writer", "text": "Answer well: {{ task }} {{ feedback }}"}
    proposer = MockModel(script={"Choose": [again] * 12, "Fill": [text] * 12})
    run = meta_search(start(), evaluator(), proposer=proposer, evaluations=3, max_proposals=12)
    result = asyncio.run(run)
    assert len(result.refused) == 11 and result.proposer_calls == 24
    sizes = [len(call.messages[-1]["content"]) for call in proposer.calls if call.role == "Choose"]
    assert max(sizes[SHOWN:]) - sizes[SHOWN] < 100  # past the window: flat


def test_the_mock_proposer_held_to_the_types_makes_edits_that_check():
    def accepted(proposal):
        run = meta_search(start(), evaluator(), proposer="mock", evaluations=3, proposal=proposal)
        return len(asyncio.run(run).evaluated) - 1

    assert accepted("structured") >= 1
    assert accepted("text") == 0  # free text: the mock never writes an edit's JSON


def test_a_proven_constraint_added_reuses_the_parents_runs():
    ev = evaluator(examples=3)
    module = start()

    async def go():
        trail = Trail(ev, 5, None)
        parent = await trail.start(module)
        edit = AddConstraint(agent="SelfRefine", formula="always(return -> once writer)")
        child = await trail.visit(ev.editor().apply(module, edit), parent, edit)
        return parent, child, trail

    parent, child, trail = asyncio.run(go())
    assert trail.inherited == 3 and child.evaluation.fresh_calls == 0
    assert [r.result for r in child.evaluation.runs] == [r.result for r in parent.evaluation.runs]


def test_a_constraint_the_checker_does_not_prove_is_evaluated_again():
    ev = evaluator(examples=2)
    module = start()

    async def go():
        trail = Trail(ev, 5, None)
        parent = await trail.start(module)
        edit = AddConstraint(agent="SelfRefine", formula="eventually critic.ok")
        child = await trail.visit(ev.editor().apply(module, edit), parent, edit)
        return child, trail

    child, trail = asyncio.run(go())
    # run again, not taken from the store (the response cache answers their calls)
    assert trail.inherited == 0 and not any(r.cached for r in child.evaluation.runs)


def test_an_enforced_constraint_is_evaluated_again():
    ev = evaluator(examples=2)
    module = start()

    async def go():
        trail = Trail(ev, 5, None)
        parent = await trail.start(module)
        edit = AddConstraint(
            agent="SelfRefine", formula="always(return -> once writer)", mode="enforce"
        )
        child = await trail.visit(ev.editor().apply(module, edit), parent, edit)
        return child, trail

    child, trail = asyncio.run(go())
    # run again, not taken from the store (the response cache answers their calls)
    assert trail.inherited == 0 and not any(r.cached for r in child.evaluation.runs)


def test_an_edge_is_an_enum_of_the_programs_edges_read_back_as_its_key():
    from rolegraph.compiler.edits import RewireEdge
    from rolegraph.compiler.queries import edge_keys
    from rolegraph.search.proposals import edge_members

    module = start()
    members = edge_members(module)
    agent = next(d for d in module.decls if isinstance(d, rolegraph.ast.AgentDecl))
    assert sorted(members.values()) == sorted(edge_keys(agent))  # every edge, once
    assert all(m.isidentifier() for m in members)
    schema = json.dumps(result_schema(load(filler_source(RewireEdge, names(module)), "Filler")))
    for member in members:
        assert f'"{member}"' in schema  # the field is the enum, not a free string
    member, key = next(iter(members.items()))
    fields = {"agent": "SelfRefine", "key": member, "target": "critic"}
    assert json.loads(edit_json("rewire_edge", fields, {"key": members}))["key"] == key


def test_edge_members_that_would_read_alike_stay_apart():
    from rolegraph.search.proposals import edge_members

    module = rolegraph.parse(
        'role R(q: str) -> str { prompt "{{ q }}" }\n'
        "agent A(q: str) -> str {\n  a = R(q)\n  b = R(q)\n"
        '  a -> b(q: a) when a == "x"\n  a -> b(q: a) else\n  b -> return(b)\n}\n'
    )
    members = edge_members(module)
    assert len(members) == len(set(members.values())) == 3
    assert all(m.isidentifier() for m in members)


def test_a_proposer_that_names_an_edge_by_its_member_makes_the_edit():
    from rolegraph.search.proposals import edge_members

    member = next(m for m, k in edge_members(start()).items() if k.endswith("when"))
    proposer = MockModel(
        script={
            "Choose": [{"op": "remove_edge", "reason": "cheaper"}],
            "Fill": [{"agent": "SelfRefine", "key": member}],
        }
    )
    run = meta_search(start(), evaluator(), proposer=proposer, evaluations=2, max_proposals=1)
    result = asyncio.run(run)
    assert not result.refused, result.refused
    assert len(result.evaluated) == 2


def test_the_proposer_is_offered_only_operators_that_can_edit_the_program():
    # Measured on the local model: offered every operator, it chose `change_model` in
    # each proposal for a program with one model, and every proposal was refused.
    from rolegraph.compiler.edits import ChangeModel, RewritePrompt
    from rolegraph.search.meta import CATALOGUE
    from rolegraph.search.proposals import offered

    direct = rolegraph.parse(
        'model fast = "mock"\nrole R(q: str) -> str {\n  model fast\n  prompt "{{ q }}"\n}\n'
        "agent A(q: str) -> str {\n  a = R(q)\n  return a\n}\n"
    )
    shown = offered(direct, CATALOGUE)
    assert ChangeModel not in shown  # one model: nothing to change it to
    assert RewritePrompt in shown  # its text is the proposer's own
    assert all(op in shown for op in CATALOGUE if list(op.sites(direct)))
    assert ChangeModel in offered(start(), CATALOGUE) or not list(ChangeModel.sites(start()))
    # the operator's enum holds what was offered and nothing else
    text = json.dumps(result_schema(load(chooser_source([op_name(o) for o in shown]), "Chooser")))
    assert '"change_model"' not in text and '"rewrite_prompt"' in text


def test_a_model_field_is_an_enum_of_the_programs_models():
    from rolegraph.compiler.edits import ChangeModel

    source = filler_source(ChangeModel, names(start()))
    assert "  model: ModelName" in source and "  role: RoleName" in source


def program_files():
    from rolegraph import stdlib

    files = sorted((ROOT / "examples").glob("*.agent"))
    files += [stdlib.module_path(name) for name in stdlib.module_names()]
    return files + sorted((ROOT / "bench" / "tasks" / "agents").glob("*.agent"))


def test_every_site_is_a_choice_the_proposer_can_make_and_reads_back_as_itself():
    # a field whose sites give it texts is an enum of them; each site, given as members,
    # is read back as the same edit (on every example, stdlib and baseline program)
    from rolegraph.compiler.edits import OPERATORS
    from rolegraph.search.proposals import site_choices

    checked = 0
    for path in program_files():
        module = rolegraph.parse_file(path)
        known = names(module)
        for operator in OPERATORS:
            choices = site_choices(operator, module)
            load(filler_source(operator, known, choices), "Filler")  # checks
            back = {name: {v: m for m, v in chosen.items()} for name, chosen in choices.items()}
            for edit in operator.sites(module):
                data = edit.model_dump(exclude_none=True)
                fields = {k: back[k][v] if k in back else v for k, v in data.items() if k != "op"}
                assert all(m.isidentifier() for chosen in choices.values() for m in chosen)
                assert json.loads(edit_json(data["op"], fields, choices)) == data
                checked += 1
    assert checked > 200


def test_a_critic_is_chosen_from_the_program_not_written():
    # Measured on the local model: asked for refine_loop's critic as free text, it wrote
    # `answer` and `Answer` (a node, a type), never a role; every proposal was refused.
    from rolegraph.compiler.edits import RefineLoop
    from rolegraph.search.proposals import site_choices

    direct = rolegraph.parse_file(ROOT / "bench" / "tasks" / "agents" / "direct.agent")
    choices = site_choices(RefineLoop, direct)
    assert choices["critic"] == {"default": ""}  # a new critic: no role here reviews a str
    source = filler_source(RefineLoop, names(direct), choices)
    assert "enum RefineLoopCriticChoice { default }" in source
    fields = {"agent": "Baseline", "node": "answer", "critic": "default", "max": "v_2"}
    assert json.loads(edit_json("refine_loop", fields, choices))["critic"] == ""
    # a count too is chosen from the sites' (the local model wrote `max: 0`, `n: 1`)
    assert json.loads(edit_json("refine_loop", fields, choices))["max"] == 2
    assert "enum RefineLoopMaxChoice { v_2 }" in source


def test_an_edit_already_made_is_not_offered_again():
    # Measured on the local model: shown an edit it had made, it proposed it again in
    # every later proposal ("a program already tried").
    from rolegraph.search.proposals import edge_members

    member = next(m for m, k in edge_members(start()).items() if k.endswith("when"))
    once = {"op": "remove_edge", "reason": "cheaper"}
    rewrite = {"op": "rewrite_prompt", "reason": "clearer"}
    proposer = MockModel(
        script={
            "Choose": [once, rewrite],
            "Fill": [
                {"agent": "SelfRefine", "key": member},
                {"role": "Writer", "text": "Answer well: {{ task }} {{ feedback }}"},
            ],
        }
    )
    run = meta_search(start(), evaluator(), proposer=proposer, evaluations=3, max_proposals=2)
    result = asyncio.run(run)
    assert len(result.evaluated) == 3 and not result.refused
    chooses = [json.dumps(call.schema) for call in proposer.calls if call.role == "Choose"]
    assert '"remove_edge"' in chooses[0]
    assert '"remove_edge"' not in chooses[1]  # its one edit that applies was made
