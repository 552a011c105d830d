"""A small search end to end on the real model (SmolLM2-135M on loopback): a capitals task
from bench/tasks, a hard budget counted at the model, racing, the best judged on held-out
examples; and the structured proposer driven by the small model itself."""

from __future__ import annotations

import asyncio
import sys

import pytest

import rolegraph
from rolegraph.search import (
    Evaluator,
    Racing,
    SearchBudget,
    SearchStore,
    meta_search,
    random_search,
)

from .conftest import ROOT
from .llama_server import smollm2
from .recording_model import RecordingModel

pytestmark = pytest.mark.real_model

sys.path.insert(0, str(ROOT))
from bench.tasks import TASKS  # noqa: E402

DIRECT = ROOT / "bench" / "tasks" / "agents" / "direct.agent"


def capitals(search: int, held_out: int):
    task = TASKS["capitals"]()
    return task, *task.split(search=search, held_out=held_out)


def test_a_budgeted_search_with_racing_on_a_real_task(llama_server: str, tmp_path):
    task, search_set, held_out = capitals(4, 3)
    model = RecordingModel(smollm2(llama_server, max_tokens=48))
    budget = SearchBudget(calls=40, prompt=1024)
    evaluator = Evaluator(
        task.objective(search_set, agent="Baseline"),
        model=model,
        store=SearchStore(tmp_path / "s.sqlite"),
        filename=str(DIRECT),
        concurrency=1,
        budget=budget,
    )
    start = rolegraph.parse_file(DIRECT)
    result = asyncio.run(
        random_search(start, evaluator, evaluations=4, seed=0, racing=Racing(threshold=0.2))
    )
    assert len(model.calls) <= 40  # counted where the calls reach the model
    assert budget.spent.calls == len(model.calls) == result.calls
    assert 1 <= len(result.evaluated) <= 4
    for scored in result.evaluated:
        assert all(0.0 <= run.score <= 1.0 for run in scored.evaluation.runs)
    judge = Evaluator(
        task.objective(held_out, agent="Baseline"),
        model=model,
        filename=str(DIRECT),
        concurrency=1,
    )
    held = judge.evaluate_sync(result.best.module)
    assert len(held.runs) == 3 and 0.0 <= held.score <= 1.0


def test_the_small_model_drives_the_structured_proposer(llama_server: str, tmp_path):
    task, search_set, _ = capitals(2, 0)
    proposer = RecordingModel(smollm2(llama_server, max_tokens=96))
    evaluator = Evaluator(
        task.objective(search_set, agent="Baseline"),
        model=smollm2(llama_server, max_tokens=48),
        store=SearchStore(tmp_path / "s.sqlite"),
        filename=str(DIRECT),
        concurrency=1,
    )
    start = rolegraph.parse_file(DIRECT)
    result = asyncio.run(
        meta_search(start, evaluator, proposer=proposer, evaluations=2, max_proposals=3)
    )
    proposals = [text for text, _ in result.refused] + [
        s.made_by for s in result.evaluated if s.parent is not None
    ]
    assert len(proposals) >= 1
    # every proposal is an edit of the catalogue, never prose or a failed reply
    for text in proposals:
        assert text.startswith('{"op"') or text.startswith('{"op":'), text
    assert result.proposer_calls == len(proposer.calls) >= 2
