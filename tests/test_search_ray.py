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


def test_the_command_on_ray_writes_the_report_the_local_backend_writes(tmp_path):
    """`rolegraph search --backend ray` on the local Ray of two workers (the fixture)."""
    import json

    from typer.testing import CliRunner

    from rolegraph.cli import app

    data = tmp_path / "tasks.jsonl"
    lines = [json.dumps({"inputs": e.inputs, "expected": e.expected}) for e in TASKS]
    data.write_text("\n".join(lines))

    def search(backend):
        out = tmp_path / backend
        answer = CliRunner().invoke(
            app,
            [
                "search",
                str(SELF_REFINE),
                "--data",
                str(data),
                "--backend",
                backend,
                "--evaluations",
                "6",
                "--seeds",
                "2",
                "--seed",
                "4",
                "--quiet",
                "--store",
                str(tmp_path / f"{backend}.sqlite"),
                "-o",
                str(out),
            ],
        )
        assert answer.exit_code == 0, answer.output
        report = json.loads((out / "search.json").read_text())
        return [
            (c["fingerprint"], c["score"], c["cost"], c["calls"], c["made_by"])
            for c in report["candidates"]
        ], report["front"]

    assert search("ray") == search("local")
