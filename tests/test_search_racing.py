"""Fewer evaluations: racing over rungs of examples (search/racing.py) and the surrogate
value model that orders proposals (search/surrogate.py), each with fixed seeds."""

import asyncio
import json
import random

import pytest

import rolegraph
from rolegraph.compiler.edits import AddConstraint, RemoveEdge, ReplicateVote
from rolegraph.runtime import ModelReply, ModelRequest
from rolegraph.search import (
    Evaluator,
    Example,
    Objective,
    Racing,
    SearchStore,
    Surrogate,
    contains,
    probability_better,
    random_search,
)
from rolegraph.search.racing import default_rungs
from rolegraph.search.surrogate import ridge_fit

PROGRAM = """model m = "mock"
type Answer {{ text: str }}
role Solve(question: str) -> Answer {{ model m  prompt "{prompt} {{{{ question }}}}" }}
agent Main(question: str) -> Answer {{
  solve = Solve(question)
  return solve
}}
"""


class Teacher:
    """Answers right ("fjord") when the prompt says GOOD, right on one example in four
    when it says MEH, never otherwise: what makes candidates differ, with no model."""

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelReply:
        self.calls += 1
        prompt = request.messages[-1]["content"]
        number = int(prompt.split("question ")[1].split()[0])
        right = "GOOD" in prompt or ("MEH" in prompt and number % 4 == 0)
        return ModelReply(json.dumps({"text": "fjord" if right else "no"}))


def evaluator(tmp_path, model, examples=8):
    objective = Objective(
        [Example({"question": f"question {i} ?"}, "fjord") for i in range(examples)], contains
    )
    return Evaluator(objective, model=model, store=SearchStore(tmp_path / "s.sqlite"))


def program(prompt: str):
    return rolegraph.parse(PROGRAM.format(prompt=prompt), "p.agent")


# -- the statistic ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("s_new", "s_best", "n"), [(0, 2, 2), (1, 1, 4), (3, 1, 4), (0.5, 3, 6), (5, 9, 10)]
)
def test_the_probability_of_being_better_agrees_with_sampling_the_posteriors(s_new, s_best, n):
    rng = random.Random(7)
    draws = 40_000
    wins = sum(
        rng.betavariate(1 + s_new, 1 + n - s_new) > rng.betavariate(1 + s_best, 1 + n - s_best)
        for _ in range(draws)
    )
    assert probability_better(s_new, s_best, n) == pytest.approx(wins / draws, abs=0.01)


def test_equal_records_are_even_odds_and_the_probability_is_complementary():
    assert probability_better(2, 2, 4) == pytest.approx(0.5, abs=1e-3)
    assert probability_better(1, 3, 4) + probability_better(3, 1, 4) == pytest.approx(1, abs=1e-3)


def test_the_rungs_are_a_quarter_a_half_and_all_of_the_examples():
    assert default_rungs(8) == (2, 4, 8)
    assert default_rungs(20) == (5, 10, 20)
    assert default_rungs(3) == (2, 3)
    assert default_rungs(1) == (1,)


# -- racing -----------------------------------------------------------------------------------


def test_a_candidate_clearly_worse_than_the_best_is_dropped_on_the_first_rung(tmp_path):
    teacher = Teacher()
    ev = evaluator(tmp_path, teacher)
    best = ev.evaluate_sync(program("GOOD"))
    race = Racing(threshold=0.1)
    evaluation, complete = asyncio.run(race.evaluate(ev, program("BAD"), best))
    assert not complete and evaluation.partial
    assert len(evaluation.runs) == 2  # the first rung: a quarter of 8
    assert race.runs_saved == 6 and race.dropped == 1


def test_a_candidate_as_good_as_the_best_runs_on_every_example(tmp_path):
    ev = evaluator(tmp_path, Teacher())
    best = ev.evaluate_sync(program("GOOD"))
    race = Racing(threshold=0.1)
    evaluation, complete = asyncio.run(race.evaluate(ev, program("GOOD too"), best))
    assert complete and not evaluation.partial
    assert evaluation.score == 1.0 and len(evaluation.runs) == 8
    assert race.runs_saved == 0


def test_the_rungs_runs_are_reused_when_a_candidate_is_promoted(tmp_path):
    teacher = Teacher()
    ev = evaluator(tmp_path, teacher)
    meh = ev.evaluate_sync(program("MEH"))  # 2 of 8 right
    teacher.calls = 0
    asyncio.run(Racing(threshold=0.01).evaluate(ev, program("GOOD"), meh))
    assert teacher.calls == 8  # 2 + 2 + 4: no example run twice


def test_a_search_with_racing_keeps_dropped_candidates_off_the_front(tmp_path):
    start = rolegraph.parse_file("examples/self_refine.agent")
    objective = Objective([Example({"task": f"t{i}"}, "x") for i in range(8)], contains)
    ev = Evaluator(objective, model="mock", filename="examples/self_refine.agent")
    result = asyncio.run(random_search(start, ev, evaluations=8, seed=3, racing=Racing(0.5)))
    assert all(not s.evaluation.partial for s in result.front)
    assert not result.best.evaluation.partial


# -- the surrogate ------------------------------------------------------------------------------


def test_ridge_regression_recovers_a_linear_rule_from_noiseless_data():
    rng = random.Random(3)
    xs = [[1.0, rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(30)]
    ys = [0.5 + 2.0 * x[1] - 1.0 * x[2] for x in xs]
    weights = ridge_fit(xs, ys, ridge=1e-9)
    assert weights == pytest.approx([0.5, 2.0, -1.0], abs=1e-6)


def test_ridge_regression_matches_numpys_least_squares_with_the_penalty():
    numpy = pytest.importorskip("numpy")
    rng = random.Random(5)
    xs = [[1.0] + [rng.gauss(0, 1) for _ in range(4)] for _ in range(12)]
    ys = [rng.random() for _ in range(12)]
    penalty = numpy.diag([0.0, 2.0, 2.0, 2.0, 2.0])
    x, y = numpy.array(xs), numpy.array(ys)
    expected = numpy.linalg.solve(x.T @ x + penalty, x.T @ y)
    assert ridge_fit(xs, ys, ridge=2.0) == pytest.approx(list(expected), abs=1e-9)


class _Scored:
    """What the surrogate reads of a parent: its module and its evaluation's score."""

    def __init__(self, module, score):
        self.module = module
        self.evaluation = type("E", (), {"score": score})()


def test_the_surrogate_orders_first_the_kind_of_edit_that_raised_scores_before(tmp_path):
    start = rolegraph.parse_file("examples/self_refine.agent")
    ev = Evaluator(
        Objective([Example({"task": "t"})], contains), filename="examples/self_refine.agent"
    )
    editor = ev.editor()
    vote = ReplicateVote(agent="SelfRefine", node="writer", n=3)
    cut = RemoveEdge(agent="SelfRefine", index=0)
    pin = AddConstraint(agent="SelfRefine", formula="always(return -> once writer)")
    model = Surrogate(warmup=3)
    parent = _Scored(start, 0.4)
    edited = {e.op: editor.apply(start, e) for e in (vote, cut, pin)}
    assert (
        model.order(parent, [(cut, edited["remove_edge"]), (vote, edited["replicate_vote"])], ev)[
            0
        ][0]
        is cut
    )  # nothing learnt: the proposals' own order
    for _ in range(2):
        model.observe(parent, vote, edited["replicate_vote"], 0.8, ev)
        model.observe(parent, cut, edited["remove_edge"], 0.1, ev)
        model.observe(parent, pin, edited["add_constraint"], 0.4, ev)
    ordered = model.order(
        parent,
        [
            (cut, edited["remove_edge"]),
            (pin, edited["add_constraint"]),
            (vote, edited["replicate_vote"]),
        ],
        ev,
    )
    assert [edit.op for edit, _ in ordered] == ["replicate_vote", "add_constraint", "remove_edge"]


def test_a_search_with_the_surrogate_is_reproducible_with_its_seed(tmp_path):
    start = rolegraph.parse_file("examples/self_refine.agent")
    objective = Objective([Example({"task": f"t{i}"}, "x") for i in range(2)], contains)

    def fingerprints(folder):
        ev = Evaluator(
            objective,
            model="mock",
            store=SearchStore(folder / "s.sqlite"),
            filename="examples/self_refine.agent",
        )
        result = asyncio.run(
            random_search(start, ev, evaluations=8, seed=4, surrogate=Surrogate(warmup=2))
        )
        return [s.evaluation.fingerprint for s in result.evaluated]

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert fingerprints(tmp_path / "a") == fingerprints(tmp_path / "b")
