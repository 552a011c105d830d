"""An evaluation makes its runs with at most `concurrency` workers, each taking the next
run to make (search/evaluate.py `_make_runs`), not one task per case behind a semaphore.
The oracle is the plain loop: every case run one after the other, in order, by the same
backend, with nothing else in flight."""

import asyncio

import pytest

import rolegraph
from rolegraph.search import Evaluator, Example, Objective, SearchStore, contains
from rolegraph.search.run import LocalBackend

from .test_search import SELF_REFINE

EXAMPLES = [Example({"task": f"task {i}"}, "fjord") for i in range(5)]


class Counting(LocalBackend):
    """Local runs that give the loop a turn first, counting the runs in flight."""

    def __init__(self):
        self.now = self.most = 0
        self.started: list[tuple[dict, int]] = []

    async def run(self, job, settings, budget):
        self.now += 1
        self.most = max(self.most, self.now)
        self.started.append((job.inputs, job.seed))
        try:
            await asyncio.sleep(0)  # (another worker may start a run now)
            return await super().run(job, settings, budget)
        finally:
            self.now -= 1


def evaluator(concurrency, backend, store=None):
    objective = Objective(EXAMPLES, contains, seeds=(0, 1), agent="SelfRefine")
    return Evaluator(
        objective,
        filename=str(SELF_REFINE),
        store=store or SearchStore(),
        concurrency=concurrency,
        backend=backend,
        share=False,  # (no response cache: each run its own, whatever ran before)
    )


def module():
    return rolegraph.parse(SELF_REFINE.read_text(), str(SELF_REFINE))


def one_by_one():
    """Each case of the objective run alone, in order: the runs an evaluation must give."""
    backend = LocalBackend()
    plain = evaluator(1, backend)
    ir = plain.ir_of(module())
    records = []

    async def all_runs():
        from rolegraph.search.run import RunJob

        for example in EXAMPLES:
            for seed in (0, 1):
                job = RunJob(ir, "", "", str(SELF_REFINE), None, example.inputs, seed)
                records.append((await backend.run(job, plain.settings, None)).record)

    asyncio.run(all_runs())
    return records


@pytest.mark.parametrize("concurrency", [1, 3, 8, 64])
def test_the_workers_make_every_run_once_in_order_at_most_concurrency_at_once(concurrency):
    backend = Counting()
    found = evaluator(concurrency, backend).evaluate_sync(module())
    expected = one_by_one()
    assert [(run.result, run.error, run.calls, run.tokens) for run in found.runs] == [
        (record.result, record.error, record.calls, record.tokens) for record in expected
    ]
    assert [(run.example, run.seed) for run in found.runs] == [
        (index, seed) for index in range(len(EXAMPLES)) for seed in (0, 1)
    ]
    assert backend.most == min(concurrency, len(expected))
    # started in the cases' order, as one task a case behind a semaphore started them
    assert backend.started == [(e.inputs, seed) for e in EXAMPLES for seed in (0, 1)]


def test_the_runs_the_store_holds_start_no_worker():
    store = SearchStore()
    first = evaluator(4, Counting(), store)
    partial = asyncio.run(first.evaluate(module(), examples=[0, 2]))
    assert partial.partial and first.runs_made == 4
    backend = Counting()
    again = evaluator(4, backend, store)
    told = []
    again.on_run = lambda record, held: told.append(held)
    whole = again.evaluate_sync(module())
    assert again.runs_made == 6 and len(backend.started) == 6
    assert [run.cached for run in whole.runs] == [
        index in (0, 2) for index in range(len(EXAMPLES)) for _ in (0, 1)
    ]
    assert sorted(told) == [False] * 6 + [True] * 4
    assert whole.runs[0].result == partial.runs[0].result  # (held: the stored record)


class Failing(Counting):
    """Raises at its second run (what a backend's own failure, or `on_run`, may raise)."""

    async def run(self, job, settings, budget):
        if len(self.started) == 1:
            self.started.append((job.inputs, job.seed))
            raise RuntimeError("the backend broke")
        return await super().run(job, settings, budget)


@pytest.mark.parametrize("concurrency", [1, 3])
def test_a_run_that_raises_ends_the_evaluation_and_starts_no_run_after(concurrency):
    backend = Failing()

    async def evaluate_then_wait():
        with pytest.raises(RuntimeError, match="the backend broke"):
            await evaluator(concurrency, backend).evaluate(module())
        started = len(backend.started)
        for _ in range(50):  # (the loop goes on: a search's next evaluation)
            await asyncio.sleep(0)
        return started

    started = asyncio.run(evaluate_then_wait())
    assert len(backend.started) == started <= 1 + concurrency  # (those in flight, no more)
    assert backend.now == 0  # (none left running)
