"""The Ray backend runs what the local one runs: the same results, scores and costs,
blanked nodes included, and a search makes the same choices on either. Ray is an
optional extra (heavy): these tests run where it is installed."""

import asyncio

import pytest

import rolegraph
from rolegraph.search import Evaluator, Objective, SearchStore, contains, random_search

from .test_search import SELF_REFINE, TASKS

pytestmark = pytest.mark.slow  # a Ray cluster per session

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def evaluator(backend, **options):
    objective = Objective(TASKS, contains, seeds=(0, 1))
    return Evaluator(objective, filename=str(SELF_REFINE), backend=backend, **options)


def test_a_run_on_ray_is_the_run_here():
    module = rolegraph.parse_file(SELF_REFINE)
    for blank in (frozenset(), frozenset({"critic"})):
        here = evaluator("local", blank=blank).evaluate_sync(module)
        there = evaluator("ray", blank=blank).evaluate_sync(module)
        assert [(r.result, r.error, r.calls, r.tokens) for r in there.runs] == [
            (r.result, r.error, r.calls, r.tokens) for r in here.runs
        ]
        assert (there.score, there.cost) == (here.score, here.cost)


def test_a_search_on_ray_makes_the_same_choices_and_resumes(tmp_path):
    module = rolegraph.parse_file(SELF_REFINE)

    def search(backend, store):
        run = random_search(module, evaluator(backend, store=store), evaluations=5, seed=3)
        return asyncio.run(run)

    here = search("local", SearchStore())
    path = tmp_path / "ray.sqlite"
    there = search("ray", SearchStore(path))
    assert [s.made_by for s in there.evaluated] == [s.made_by for s in here.evaluated]
    assert [s.point for s in there.evaluated] == [s.point for s in here.evaluated]
    assert search("ray", SearchStore(path)).calls == 0
