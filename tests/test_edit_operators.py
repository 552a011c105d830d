"""Each structural edit operator does what it says, and what it builds checks and runs."""

import asyncio
from pathlib import Path

import pytest

import rolegraph
from rolegraph.compiler.edits import (
    OPERATORS,
    AddConstraint,
    AddEdge,
    ApplyPattern,
    BypassNode,
    Crossover,
    EditError,
    InsertRole,
    InvalidEdit,
    RefineLoop,
    ReplicateVote,
    RewireEdge,
    TrustPolicy,
    op_name,
)

EDITOR = rolegraph.editor("fixture.agent")
EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"

FIXTURE = """
model m = "mock"
model big = "mock" { temperature: 0.9 }

type Answer { text: str, confidence: float }
type Review { ok: bool, feedback: str }

role Solver(question: str, feedback: str = "") -> Answer {
  model m
  prompt "Solve: {{ question }} {{ feedback }}"
}

role Polish(draft: Answer) -> Answer {
  model m
  prompt "Polish this answer: {{ draft.text }}"
}

role Critic(question: str, draft: Answer) -> Review {
  model m
  prompt "Question: {{ question }} Draft: {{ draft.text }}"
}

role Pick(candidates: list[Answer]) -> Answer {
  model m
  prompt "{% for c in candidates %}{{ c.text }}{% endfor %}"
}

agent Best[Solve: role(question: str) -> Answer](question: str) -> Answer {
  first = Solve(question)
  second = Solve(question)
  pick = Pick(candidates: [first, second])
  return pick
}

agent Main(question: str) -> Answer {
  solver = Solver(question)
  polished = Polish(draft: solver)
  return polished
}

agent Revised(question: str) -> Answer {
  draft = Solver(question)
  review = Critic(question, draft: draft)
  review -> draft(feedback: review.feedback) when not review.ok max 2
  review -> return(draft) else
}
"""


@pytest.fixture(scope="module")
def module():
    return rolegraph.parse(FIXTURE, "fixture.agent")


def agent_text(module, name):
    return rolegraph.to_source(module.decl(name))


def run(module, agent, model="mock", **inputs):
    """Run an edited program on the mock model (what an optimizer's evaluation does);
    return the number of model calls."""
    from rolegraph.runtime import run_agent

    checked = rolegraph.check_source(rolegraph.to_source(module), "fixture.agent")
    assert not checked.errors, [str(d) for d in checked.errors]
    result = asyncio.run(run_agent(checked.irs[agent], inputs or {"question": "2+2?"}, model=model))
    return result.trace.summary()["calls"]


def test_every_operator_has_sites_in_the_fixture_and_offers_only_valid_edits(module):
    offered = {op_name(op): list(EDITOR.applicable(module, [op])) for op in OPERATORS}
    without = [name for name, edits in offered.items() if not edits]
    assert without == ["rewrite_prompt"]  # prompts come from an LLM: no sites
    for edits in offered.values():
        for edit in edits:
            edited = EDITOR.apply(module, edit)
            checked = rolegraph.check_source(rolegraph.to_source(edited), "fixture.agent")
            assert not checked.errors, (edit, [str(d) for d in checked.errors])


def test_insert_role_puts_a_node_on_a_data_edge(module):
    edited = EDITOR.apply(
        module, InsertRole(agent="Main", source="solver", target="polished", role="Polish")
    )
    assert "polish = Polish(draft: solver)\n  polished = Polish(draft: polish)" in agent_text(
        edited, "Main"
    )
    assert run(edited, "Main") == 3
    with pytest.raises(EditError) as caught:
        EDITOR.apply(
            module, InsertRole(agent="Main", source="polished", target="solver", role="Polish")
        )
    assert caught.value.diagnostics[0].code == "E0602"  # solver does not read polished


def test_bypass_removes_a_node_and_its_readers_read_its_input(module):
    edited = EDITOR.apply(module, BypassNode(agent="Main", node="polished"))
    assert agent_text(edited, "Main").splitlines()[1:3] == [
        "  solver = Solver(question)",
        "  return solver",
    ]


def test_replicate_vote_samples_in_parallel_and_votes(module):
    edited = EDITOR.apply(module, ReplicateVote(agent="Main", node="solver", n=5))
    text = agent_text(edited, "Main")
    assert "solver_samples = Solver(question) x 5" in text
    assert "solver = SolverVote(candidates: solver_samples)" in text
    assert "role SolverVote(candidates: list[Answer]) -> Answer" in rolegraph.to_source(edited)
    assert run(edited, "Main") == 5 + 1 + 1  # five samples, the vote, the polish
    # with a voter of the program's own
    picked = EDITOR.apply(module, ReplicateVote(agent="Main", node="solver", n=3, voter="Pick"))
    assert "solver = Pick(candidates: solver_samples)" in agent_text(picked, "Main")
    assert "SolverVote" not in rolegraph.to_source(picked)


def test_replicate_vote_moves_the_edges_that_refire_the_node_to_the_samples(module):
    edited = EDITOR.apply(module, ReplicateVote(agent="Revised", node="draft", n=3))
    assert "review -> draft_samples(feedback: review.feedback) when not review.ok max 2" in (
        agent_text(edited, "Revised")
    )


def test_refine_loop_adds_a_critic_a_bounded_revision_and_an_else_return():
    module = rolegraph.parse(
        FIXTURE.replace("  polished = Polish(draft: solver)\n  return polished", "  return solver")
    )
    edited = EDITOR.apply(module, RefineLoop(agent="Main", node="solver", max=3))
    text = agent_text(edited, "Main")
    assert "solver_critic = SolverCritic(question, draft: solver)" in text
    assert (
        "solver_critic -> solver(feedback: solver_critic.feedback) when not solver_critic.ok max 3"
        in text
    )
    assert "solver_critic -> return(solver) else" in text
    assert "return solver\n" not in text
    # an existing record of the right shape is reused for the critic's reply
    assert "type Critique" not in rolegraph.to_source(edited)
    assert "role SolverCritic(question: str, draft: Answer) -> Review" in rolegraph.to_source(
        edited
    )
    # the critic rejects twice, then accepts: two revisions, and the third draft returned
    from rolegraph.runtime.mock import MockModel

    verdicts = [{"ok": False, "feedback": "more"}, {"ok": False, "feedback": "again"}]
    mock = MockModel(script={"SolverCritic": [*verdicts, {"ok": True, "feedback": ""}]})
    assert run(edited, "Main", model=mock) == 3 + 3  # three drafts, three reviews


def test_refine_loop_teaches_a_role_to_take_feedback():
    module = rolegraph.parse(
        FIXTURE.replace(
            'role Solver(question: str, feedback: str = "")', "role Solver(question: str)"
        )
        .replace("{{ feedback }}", "")
        .replace("  polished = Polish(draft: solver)\n  return polished", "  return solver")
        .replace("review -> draft(feedback: review.feedback) when not review.ok max 2\n", "")
    )
    edited = EDITOR.apply(module, RefineLoop(agent="Main", node="solver", critic="Critic"))
    solver = rolegraph.to_source(edited.decl("Solver"))
    assert 'role Solver(question: str, feedback: str = "") -> Answer' in solver
    assert "{% if feedback %}" in solver
    assert "solver_critic = Critic(question, draft: solver)" in agent_text(edited, "Main")


def test_refine_loop_refuses_a_node_others_read(module):
    with pytest.raises(EditError) as caught:
        EDITOR.apply(module, RefineLoop(agent="Main", node="solver"))
    assert "other nodes read `solver`" in caught.value.diagnostics[0].message


def test_add_and_rewire_edges(module):
    looped = EDITOR.apply(
        module,
        AddEdge(agent="Main", edge="polished -> solver(feedback: polished.text) max 1"),
    )
    assert "polished -> solver(feedback: polished.text) max 1" in agent_text(looped, "Main")
    with pytest.raises(InvalidEdit):  # an unbounded cycle
        EDITOR.apply(module, AddEdge(agent="Main", edge="polished -> solver"))
    with pytest.raises(EditError) as caught:
        EDITOR.apply(module, AddEdge(agent="Main", edge="polished -> -> solver"))
    assert caught.value.diagnostics[0].code == "E0603"
    rewired = EDITOR.apply(looped, RewireEdge(agent="Main", index=0, target="polished"))
    # Polish takes no `feedback`: the port goes with the old target
    assert "polished -> polished max 1" in agent_text(rewired, "Main")


def test_add_constraint_checks_the_formula(module):
    edited = EDITOR.apply(
        module, AddConstraint(agent="Revised", formula="always(return -> once review)")
    )
    assert "ensure always(return -> once review)" in agent_text(edited, "Revised")
    checked = rolegraph.check_source(rolegraph.to_source(edited))
    assert [c.status for c in checked.constraints] == ["proven"]
    with pytest.raises(InvalidEdit):  # a node the agent does not have
        EDITOR.apply(module, AddConstraint(agent="Revised", formula="eventually ghost"))


def test_apply_pattern_wraps_a_node_s_role(module):
    edited = EDITOR.apply(module, ApplyPattern(agent="Main", node="solver", pattern="Best"))
    assert "solver = Best[Solver](question)" in agent_text(edited, "Main")
    assert run(edited, "Main") == 2 + 1 + 1  # two solves, the pick, the polish
    standard = ApplyPattern(
        agent="Main", node="solver", pattern="SelfConsistency", module="std.self_consistency"
    ).apply(module)
    assert rolegraph.to_source(standard).startswith(
        "from std.self_consistency import SelfConsistency"
    )


def test_standard_patterns_are_offered_where_the_types_match_and_their_import_is_trusted():
    trusting = rolegraph.editor("fixture.agent", trust=TrustPolicy(imports={"std.*"}))
    module = rolegraph.parse_file(EXAMPLES_DIR / "react.agent")
    offered = list(trusting.applicable(module, [ApplyPattern]))
    edit = ApplyPattern(
        agent="ReAct", node="solver", pattern="SelfConsistency", module="std.self_consistency"
    )
    assert offered == [edit]  # Solver fits `role(question: str) -> Answer`; the rest do not
    edited = trusting.apply(module, edit)
    text = rolegraph.to_source(edited)
    assert text.startswith("from std.self_consistency import SelfConsistency\n")
    assert "solver = SelfConsistency[Solver](question)" in text
    step_back = rolegraph.parse_file(EXAMPLES_DIR / "step_back.agent")
    assert not list(trusting.applicable(step_back, [ApplyPattern]))  # Reasoner needs principles


def test_a_standard_pattern_is_not_offered_when_its_import_is_not_trusted():
    """A standard pattern's module brings tools (std.react gives its actor `run_python`):
    the default editor lets no edit import it."""
    module = rolegraph.parse_file(EXAMPLES_DIR / "react.agent")
    assert not list(EDITOR.applicable(module, [ApplyPattern]))


def test_crossover_grafts_a_subgraph_from_another_program(module):
    donor = rolegraph.parse(
        """
model big = "mock" { temperature: 0.9 }
type Answer { text: str, confidence: float }
type Outline { points: list[str] }
role Outliner(question: str) -> Outline {
  model big
  prompt "Outline an answer to {{ question }}"
}
role Writer(question: str, outline: Outline) -> Answer {
  model big
  prompt "{{ question }} {% for p in outline.points %}{{ p }}{% endfor %}"
}
agent Planned(question: str) -> Answer {
  outline = Outliner(question)
  writer = Writer(question, outline: outline)
  return writer
}
"""
    )
    sites = list(Crossover.between(module, donor))
    assert (
        Crossover(
            agent="Main",
            node="solver",
            donor_agent="Planned",
            donor_node="writer",
            donor=rolegraph.to_source(donor),
        )
        in sites
    )
    edit = next(
        e for e in sites if e.agent == "Main" and e.node == "solver" and e.donor_node == "writer"
    )
    edited = EDITOR.apply(module, edit)
    text = rolegraph.to_source(edited)
    assert "  outline = Outliner(question)\n  solver = Writer(question, outline: outline)" in text
    for name in ("model big", "type Outline", "role Outliner", "role Writer"):
        assert name in text  # the declarations the graft needs came along
    assert text.count("type Answer") == 1  # the same declaration is not copied twice
    assert run(edited, "Main") == 3
    # grafting the donor's root in place of polished leaves solver unread: it goes
    replaced = EDITOR.apply(
        module, next(e for e in sites if e.node == "polished" and e.donor_node == "writer")
    )
    assert "solver = " not in agent_text(replaced, "Main")


def test_crossover_between_agents_of_one_program(module):
    edit = Crossover(agent="Main", node="solver", donor_agent="Revised", donor_node="draft")
    assert edit in list(Crossover.sites(module))
    with pytest.raises(EditError):  # Revised's draft is Main's solver: nothing changes
        EDITOR.apply(module, edit)


def test_a_clash_of_declarations_is_not_a_crossover(module):
    donor = rolegraph.parse(
        'model m = "mock"\ntype Answer { text: str }\nrole Solo(q: str) -> Answer {\n  model m\n'
        '  prompt "{{ q }}"\n}\nagent D(question: str) -> Answer {\n  s = Solo(q: question)\n'
        "  return s\n}\n"
    )
    clash = Crossover(
        agent="Main",
        node="solver",
        donor_agent="D",
        donor_node="s",
        donor=rolegraph.to_source(donor),
    )
    with pytest.raises(EditError) as caught:
        EDITOR.apply(module, clash)
    assert "both programs declare `Answer`, differently" in caught.value.diagnostics[0].message


def test_change_role_offers_the_roles_that_fit_and_only_those():
    """Sites of `change_role` keep to roles that surely fit (same result, same parameter
    types for what is passed, nothing more required): on the fixture and the examples they
    are exactly the changes of role that check; a change proposed by hand is still judged
    by the checker alone."""
    from rolegraph.compiler.edits import ChangeRole

    modules = [rolegraph.parse(FIXTURE)]
    modules += [rolegraph.parse_file(p) for p in sorted(EXAMPLES_DIR.glob("*.agent"))]
    for module in modules:
        every = [
            ChangeRole(agent=agent.name, node=node.name, role=role.name)
            for agent in module.agents
            for node in agent.nodes
            for role in module.roles
            if role.name != node.role
        ]
        valid = [edit for edit in every if EDITOR.accepts(module, edit)]
        assert list(ChangeRole.sites(module)) == valid
    fixture = rolegraph.parse(FIXTURE)
    sites = list(ChangeRole.sites(fixture))
    assert ChangeRole(agent="Best", node="first", role="Solver") in sites  # a role parameter
    assert ChangeRole(agent="Main", node="solver", role="Critic") not in sites  # a Review
    with pytest.raises(InvalidEdit):
        EDITOR.apply(fixture, ChangeRole(agent="Main", node="solver", role="Critic"))


def test_refine_loop_reviews_the_draft_when_the_question_has_the_drafts_type():
    # Found searching on the local model (bench/bench_search_real.py): a role `str -> str`
    # got a critic `(question: str, draft: str)`, and the edit bound the node's output to
    # the first `str` parameter, the question, leaving `draft` unbound (E0602).
    direct = rolegraph.parse(
        'model fast = "mock"\n'
        'role Respond(question: str) -> str {\n  model fast\n  prompt "{{ question }}"\n}\n'
        "agent Baseline(question: str) -> str {\n  answer = Respond(question)\n"
        "  return answer\n}\n",
        "direct.agent",
    )
    edited = EDITOR.apply(direct, RefineLoop(agent="Baseline", node="answer"))
    text = agent_text(edited, "Baseline")
    assert "answer_critic = RespondCritic(question, draft: answer)" in text, text
    assert run(edited, "Baseline") >= 2  # the answer, then its review
