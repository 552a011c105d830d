"""The standard library: every pattern, run with a scripted mock, does what its design
says (how many calls, what each role sees, which answer wins, when the loop exits);
and the tools behave."""

import asyncio

import pytest

import rolegraph
from rolegraph.runtime import MockModel, run_agent
from rolegraph.stdlib import module_path
from rolegraph.stdlib.tools import calculator, majority_vote

NO = {"ok": False, "feedback": "be more precise"}
YES = {"ok": True, "feedback": ""}


def answer(text, confidence=0.5):
    return {"text": text, "confidence": confidence}


def run(module, agent, inputs, script):
    """Run a stdlib pattern (its default roles) on a scripted mock: (result, mock, trace)."""
    ir = rolegraph.load_agent(module_path(module), agent)
    mock = MockModel(script=script)
    outcome = asyncio.run(run_agent(ir, inputs, model=mock))
    return outcome.result, mock, outcome.trace


def seen(mock, role):
    """The prompts a role was sent, in order."""
    return [r.messages[-1]["content"] for r in mock.calls if r.role == role]


def test_every_stdlib_module_checks_clean():
    for name in rolegraph.stdlib.module_names():
        checked = rolegraph.check_source(module_path(name).read_text(), str(module_path(name)))
        assert not checked.diagnostics, (name, [str(d) for d in checked.diagnostics])


def test_chain_of_thought_returns_the_answer_field():
    result, mock, _ = run(
        "chain_of_thought",
        "ChainOfThought",
        {"question": "17 * 23?"},
        {"Reason": [{"reasoning": "17 * 23 = 391", "answer": "391"}]},
    )
    assert result == "391" and len(mock.calls) == 1


def test_self_consistency_samples_five_and_the_majority_wins():
    samples = [answer("12"), answer("13", 0.9), answer("12", 0.7), answer("14"), answer("12.")]
    result, mock, _ = run(
        "self_consistency", "SelfConsistency", {"question": "q"}, {"Solve": samples}
    )
    assert len(mock.calls) == 5  # the vote is a tool: no model call
    assert result == answer("12", 0.7)  # "12" three times; the most confident of those


def test_self_refine_revises_until_the_critic_accepts():
    drafts = [answer(f"draft {i}") for i in (1, 2, 3)]
    result, mock, _ = run(
        "self_refine", "SelfRefine", {"task": "t"}, {"Write": drafts, "Review": [NO, NO, YES]}
    )
    assert result == answer("draft 3")
    assert len(seen(mock, "Write")) == 3 and len(seen(mock, "Review")) == 3
    assert "be more precise" in seen(mock, "Write")[1]


def test_self_refine_stops_after_three_revisions():
    drafts = [answer(f"draft {i}") for i in range(1, 6)]
    result, mock, _ = run(
        "self_refine", "SelfRefine", {"task": "t"}, {"Write": drafts, "Review": [NO]}
    )
    assert result == answer("draft 4")  # the first draft and three revisions
    assert len(seen(mock, "Review")) == 4


def test_debate_two_rounds_then_a_judge_reading_the_rebuttals():
    openings = [answer(f"open {i}") for i in range(3)]
    rebuttals = [answer(f"rebut {i}") for i in range(3)]
    result, mock, _ = run(
        "debate",
        "Debate",
        {"question": "q"},
        {"Argue": openings + rebuttals, "Adjudicate": [answer("verdict")]},
    )
    assert result == answer("verdict") and len(mock.calls) == 7
    (judged,) = seen(mock, "Adjudicate")
    assert all(f"rebut {i}" in judged for i in range(3)) and "open 0" not in judged
    assert all("open 0" in prompt for prompt in seen(mock, "Argue")[3:])


def test_step_back_answers_with_the_principles_in_view():
    principles = {"concepts": ["conservation of energy"], "summary": "energy is conserved"}
    result, mock, _ = run(
        "step_back",
        "StepBack",
        {"question": "q"},
        {"Abstract": [principles], "Apply": [answer("a")]},
    )
    assert result == answer("a") and len(mock.calls) == 2
    assert "conservation of energy" in seen(mock, "Apply")[0]


def test_quality_diversity_tells_each_explorer_what_was_tried():
    tries = [answer("approach A"), answer("approach B"), answer("approach C")]
    result, mock, _ = run(
        "quality_diversity",
        "QualityDiversity",
        {"task": "t"},
        {"Explore": tries, "Decide": [answer("approach B")]},
    )
    assert result == answer("approach B") and len(mock.calls) == 4
    first, second, third = seen(mock, "Explore")
    assert "approach A" not in first and "approach A" in second
    assert "approach A" in third and "approach B" in third
    assert all(t["text"] in seen(mock, "Decide")[0] for t in tries)


@pytest.mark.parametrize(
    ("expert", "field", "node"),
    [
        ("math", "mathematics", "mathematician"),
        ("code", "computer programming", "programmer"),
        ("writing", "writing", "writer"),
    ],
)
def test_role_router_consults_only_the_chosen_expert(expert, field, node):
    result, mock, trace = run(
        "role_router",
        "RoleRouter",
        {"question": "q"},
        {"Route": [{"expert": expert, "reason": "r"}], "Consult": [answer("expert answer")]},
    )
    assert result == answer("expert answer") and len(mock.calls) == 2
    assert field in mock.calls[1].messages[0]["content"]  # the system prompt names the field
    assert {r.node for r in trace.firings if r.status == "ok"} == {"router", node}


def test_react_acts_with_tools_until_it_answers():
    script = {
        "Act": [
            {"tool": "calculator", "arguments": {"expression": "17 * 23"}},
            {"tool": "run_python", "arguments": {"code": "print(391 % 7)"}},
            answer("391, which leaves 6 divided by 7"),
        ]
    }
    result, mock, trace = run("react", "ReAct", {"question": "17 * 23, modulo 7?"}, script)
    assert result["text"].startswith("391") and len(mock.calls) == 3
    (firing,) = [r for r in trace.firings if r.node == "actor"]
    assert [c["result"] for c in firing.tool_calls] == [391.0, "6\n"]


def test_plan_execute_maps_the_steps_in_parallel():
    steps = [{"step": s, "result": f"done {s}"} for s in ("a", "b", "c")]
    result, mock, _ = run(
        "plan_execute",
        "PlanExecute",
        {"task": "t"},
        {
            "Decompose": [{"steps": ["a", "b", "c"]}],
            "Execute": steps,
            "Synthesize": [answer("all")],
        },
    )
    assert result == answer("all")
    assert len(seen(mock, "Execute")) == 3 and len(mock.calls) == 5
    assert all(f"done {s}" in seen(mock, "Synthesize")[0] for s in "abc")


def test_mixture_of_agents_layers_proposals_and_aggregates():
    proposals = [answer(f"p{i}") for i in range(3)] + [answer(f"r{i}") for i in range(3)]
    result, mock, _ = run(
        "mixture_of_agents",
        "MixtureOfAgents",
        {"question": "q"},
        {"Propose": proposals, "Aggregate": [answer("final")]},
    )
    assert result == answer("final") and len(mock.calls) == 7
    assert all("p0" in prompt and "p2" in prompt for prompt in seen(mock, "Propose")[3:])
    (aggregated,) = seen(mock, "Aggregate")
    assert all(f"r{i}" in aggregated for i in range(3)) and "p0" not in aggregated


def test_reflexion_reflects_after_each_failure_and_retries_with_the_lesson():
    attempts = [answer(f"attempt {i}") for i in (1, 2, 3)]
    lessons = [{"lesson": "check the units"}, {"lesson": "show the work"}]
    result, mock, _ = run(
        "reflexion",
        "Reflexion",
        {"task": "t"},
        {"Attempt": attempts, "Evaluate": [NO, NO, YES], "Reflect": lessons},
    )
    assert result == answer("attempt 3")
    assert [len(seen(mock, r)) for r in ("Attempt", "Evaluate", "Reflect")] == [3, 3, 2]
    assert "check the units" in seen(mock, "Attempt")[1]
    assert "show the work" in seen(mock, "Attempt")[2]
    assert "attempt 1" in seen(mock, "Reflect")[0]


def test_a_pattern_takes_the_user_s_roles():
    text = """
from std.types import Answer, Critique
from std.self_refine import SelfRefine

model m = "mock"

role Poet(task: str, feedback: str = "") -> Answer {
  model m
  prompt "Write a poem: {{ task }} {{ feedback }}"
}

role Editor(task: str, draft: Answer) -> Critique {
  model m
  prompt "Edit: {{ draft.text }}"
}

agent Poem(task: str) -> Answer {
  poem = SelfRefine[Poet, Editor](task)
  return poem
}
"""
    ir = rolegraph.load_agent("poem.agent", text=text)
    mock = MockModel(script={"Poet": [answer("v1"), answer("v2")], "Editor": [NO, YES]})
    outcome = asyncio.run(run_agent(ir, {"task": "the sea"}, model=mock))
    assert outcome.result == answer("v2")
    assert [r.role for r in mock.calls] == ["Poet", "Editor", "Poet", "Editor"]
    assert ir.worst_case_calls() == 8  # four drafts and four reviews at most


def test_calculator_and_vote():
    assert calculator("2 * (3 + 4) ** 2") == 98.0
    with pytest.raises(ValueError):
        calculator("__import__('os').system('true')")
    assert majority_vote([answer("a"), answer("b"), answer("b")])["text"] == "b"


def test_counts_are_compile_time_constants_of_the_patterns():
    text = """
from std.types import Answer
from std.self_consistency import SelfConsistency, Solve
from std.self_refine import SelfRefine

agent Three(question: str) -> Answer {
  vote = SelfConsistency[Solve, n: 3](question)
  return vote
}

agent Once(task: str) -> Answer {
  refined = SelfRefine[rounds: 1](task)
  return refined
}
"""
    three = rolegraph.load_agent("counts.agent", "Three", text=text)
    assert three.nodes["vote"].subgraph.nodes["samples"].replicate == 3
    outcome = asyncio.run(run_agent(three, {"question": "q"}, model="mock"))
    assert outcome.trace.summary()["calls"] == 3
    once = rolegraph.load_agent("counts.agent", "Once", text=text)
    mock = MockModel(script={"Review": [NO]})
    asyncio.run(run_agent(once, {"task": "t"}, model=mock))
    assert [r.role.split(".")[-1] for r in mock.calls] == ["Write", "Review", "Write", "Review"]
    assert once.worst_case_calls() == 4
    bad = text.replace("n: 3", "n: 0")
    checked = rolegraph.check_source(bad, "counts.agent")
    assert [d.code for d in checked.errors] == ["E0322"]
