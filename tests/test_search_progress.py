"""What a search and an attribution tell a progress display: each run as it ends, each
coalition as it is scored."""

import asyncio

import pytest

import rolegraph
from rolegraph.search import Evaluator, Objective, contains, shapley

from .test_search import PAIR, SELF_REFINE, TASKS, pair_score


def test_the_evaluator_tells_each_run_as_it_ends_and_whether_the_store_held_it():
    told = []
    evaluator = Evaluator(
        Objective(TASKS, contains, seeds=(0, 1)),
        filename=str(SELF_REFINE),
        on_run=lambda record, cached: told.append((record.calls, cached)),
    )
    module = rolegraph.parse_file(SELF_REFINE)
    evaluation = evaluator.evaluate_sync(module)
    assert len(told) == len(TASKS) * 2
    assert sum(calls for calls, _ in told) == evaluation.calls
    assert not any(cached for _, cached in told)
    evaluator.evaluate_sync(module)  # again: every run from the store
    assert [cached for _, cached in told[len(TASKS) * 2 :]] == [True] * len(TASKS) * 2


def test_attribution_tells_each_coalition_with_how_many_there_are_at_most():
    told = []
    evaluator = Evaluator(Objective(TASKS, pair_score), filename="pair.agent")
    found = asyncio.run(
        shapley(
            rolegraph.parse(PAIR),
            evaluator,
            progress=lambda done, most, score: told.append((done, most, score)),
        )
    )
    assert [(done, most) for done, most, _ in told] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    scores = sorted(score for _, _, score in told)
    assert scores == pytest.approx(sorted([found.full, found.empty, 0.5, 0.2]))


def test_a_sampled_attribution_never_evaluates_more_than_it_said():
    told = []
    evaluator = Evaluator(Objective(TASKS, pair_score), filename="pair.agent")
    asyncio.run(
        shapley(
            rolegraph.parse(PAIR),
            evaluator,
            exact_up_to=0,
            samples=3,
            progress=lambda done, most, score: told.append((done, most)),
        )
    )
    assert all(done <= most for done, most in told)


def test_a_blanked_evaluator_tells_its_runs_too():
    told = []
    evaluator = Evaluator(
        Objective(TASKS, pair_score),
        filename="pair.agent",
        on_run=lambda record, cached: told.append(record),
    )
    evaluator.blanking(frozenset({"left"})).evaluate_sync(rolegraph.parse(PAIR))
    assert len(told) == len(TASKS)
