"""The reflective optimizer (search/reflect.py): the critic reads the failing runs'
traces, its per-node notes become typed edits (prompt rewrites first), and every edit
passes the checker like any proposal. The critic here is scripted (deterministic)."""

import asyncio
import json

import rolegraph
from rolegraph.runtime import MockModel
from rolegraph.search import Evaluator, Objective, SearchBudget, contains, exact
from rolegraph.search.reflect import Note, _edits, reflect_search

from .test_search import SELF_REFINE, TASKS

NOTES = [
    {"node": "critic", "problem": "too lenient", "fix": "samples", "instruction": ""},
    {"node": "writer", "problem": "vague", "fix": "prompt", "instruction": "Answer: fjord."},
    {"node": "writer", "problem": "no review", "fix": "review", "instruction": ""},
    {"node": "critic", "problem": "fine", "fix": "none", "instruction": ""},
]


def search(notes=NOTES, evaluations=4, objective=None, **options):
    critic = MockModel(script={"Reflect": [{"notes": notes}]})
    ev = Evaluator(objective or Objective(TASKS, contains), filename=str(SELF_REFINE), **options)
    module = rolegraph.parse_file(SELF_REFINE)
    result = asyncio.run(reflect_search(module, ev, critic=critic, evaluations=evaluations))
    return result, critic, ev


def test_the_notes_become_checked_edits_prompt_rewrites_first():
    result, critic, _ = search()
    ops = [json.loads(s.made_by)["op"] for s in result.evaluated[1:]]
    assert ops[:2] == ["rewrite_prompt", "replicate_vote"]
    rewrite = json.loads(result.evaluated[1].made_by)
    assert rewrite["role"] == "Writer" and rewrite["text"].rstrip().endswith("Answer: fjord.")
    # the prompt rewrite made the writer say the expected word: the mock echoes no prompt,
    # so the score is the checker's business here, not the critic's
    for scored in result.evaluated:
        assert not rolegraph.check_source(scored.source, str(SELF_REFINE)).errors
    # a structural edit the checker refuses is refused with its reason, not evaluated
    refused = [json.loads(text)["op"] for text, _ in result.refused]
    assert "refine_loop" in refused
    checker = [why for _, why in result.refused if why != "a program already tried"]
    assert checker and all("refused: [E" in why for why in checker)
    assert result.proposer_calls == len(critic.calls) >= 1


def test_the_critic_reads_the_failing_runs_traces():
    _, critic, _ = search(evaluations=2)
    shown = critic.calls[0].messages[-1]["content"]
    assert "Example 1 (score 0.00)" in shown and 'expected: "fjord"' in shown
    assert "node writer: given" in shown and "node critic: given" in shown
    assert "test revises" not in shown  # (the program without its tests)
    # the critic's reply names nodes of the agent: an enum of them
    schema = json.dumps(critic.calls[0].schema)
    assert '"critic"' in schema and '"writer"' in schema


def test_a_run_made_again_for_its_trace_makes_no_model_call():
    ev = Evaluator(Objective(TASKS, contains), filename=str(SELF_REFINE))
    module = rolegraph.parse_file(SELF_REFINE)
    evaluation = ev.evaluate_sync(module)
    before = ev.calls_made
    ran = asyncio.run(ev.traced(module, 1, 0))
    assert ev.calls_made == before  # the response cache answered every call
    assert ran.trace is not None and ran.record.result == evaluation.runs[1].result
    assert ran.record.calls == evaluation.runs[1].calls


def test_a_best_that_fails_nothing_ends_the_search():
    def always(result, example):
        return 1.0

    result, critic, _ = search(objective=Objective(TASKS, always))
    assert len(result.evaluated) == 1 and critic.calls == []


def test_notes_on_unknown_nodes_and_empty_instructions_make_no_edit():
    module = rolegraph.parse_file(SELF_REFINE)
    notes = [
        Note("nobody", "", "prompt", "x"),
        Note("writer", "", "prompt", "   "),
        Note("writer", "", "bogus", ""),
        Note("critic", "", "review", ""),
        Note("critic", "", "prompt", "Be strict."),
    ]
    edits = [json.loads(e) for e in _edits(module, "SelfRefine", notes)]
    assert [e["op"] for e in edits] == ["rewrite_prompt", "refine_loop"]
    assert edits[0]["role"] == "Critic"


def test_the_critic_is_held_to_the_search_budget():
    budget = SearchBudget.parse("calls=400")
    result, critic, _ = search(evaluations=6, budget=budget, objective=Objective(TASKS, exact))
    assert budget.spent.calls <= 400
    assert result.proposer_calls == len(critic.calls)


DIRECT = """
model fast = "openai/gpt-4o-mini" { temperature: 0.0 }
role Respond(task: str) -> str {
  model fast
  prompt "{{ task }}"
}
agent Direct(task: str) -> str {
  answer = Respond(task)
  return answer
}
"""


def test_a_budget_spent_while_reading_traces_ends_the_search_without_an_error():
    # Found on the local model (bench/bench_search_real.py): without the response cache,
    # the runs made again for their traces are paid from the budget, and a budget spent
    # there raised BudgetSpent out of the search instead of ending it.
    from rolegraph.search import BudgetSpent

    notes = [{"node": "answer", "problem": "vague", "fix": "prompt", "instruction": "Be brief."}]
    ended = 0
    for calls in range(0, 16):
        budget = SearchBudget.parse(f"calls={calls}")
        critic = MockModel(script={"Reflect": [{"notes": notes}] * 4})
        ev = Evaluator(Objective(TASKS, exact), budget=budget, share=False)
        run = reflect_search(rolegraph.parse(DIRECT), ev, critic=critic, evaluations=4)
        try:
            result = asyncio.run(run)
        except BudgetSpent:
            assert ev.calls_made == 0  # (the start itself does not fit: nothing was run)
            continue
        assert budget.spent.calls <= calls
        ended += result.stopped is not None
    assert ended > 0  # some budgets ran out part way, and each ended the search


def test_the_command_runs_the_reflective_optimizer(tmp_path):
    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "tasks.jsonl"
    data.write_text(
        "\n".join(json.dumps({"inputs": e.inputs, "expected": e.expected}) for e in TASKS)
    )
    out = tmp_path / "out"
    answer = CliRunner().invoke(
        app,
        [
            "search",
            str(SELF_REFINE),
            "--data",
            str(data),
            "--optimizer",
            "reflect",
            "--evaluations",
            "3",
            "--store",
            str(tmp_path / "s.sqlite"),
            "-o",
            str(out),
            "--quiet",
        ],
    )
    assert answer.exit_code == 0, answer.output
    report = json.loads((out / "search.json").read_text())
    assert len(report["candidates"]) >= 2
    assert report["totals"]["proposer_calls"] >= 1


def test_a_critic_that_repeats_itself_is_not_asked_forever():
    # Found on the local model: with the response cache, the runs read for their traces
    # cost nothing, and a critic giving the same notes every round (whose edits were all
    # tried) was asked again and again until the budget was spent on it (42 of 48 calls).
    notes = [{"node": "answer", "problem": "vague", "fix": "prompt", "instruction": "Be brief."}]
    critic = MockModel(script={"Reflect": [{"notes": notes}] * 50})
    ev = Evaluator(Objective(TASKS, exact))
    run = reflect_search(rolegraph.parse(DIRECT), ev, critic=critic, evaluations=20, patience=2)
    result = asyncio.run(run)
    assert len(result.evaluated) == 2  # the start, and its one prompt rewrite
    assert len(critic.calls) == 3  # the rewrite's round, then two rounds with nothing new
    assert result.stopped == "the critic's last 2 rounds led to no new candidate"
