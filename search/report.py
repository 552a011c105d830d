"""A search's report, `search.json`: what was searched, every candidate evaluated (in
order, with its score, cost, parent and the edit that made it, and its source), which
are on the Pareto front, and the totals. `rolegraph search -o DIR` writes it beside the
front's `.agent` files; `rolegraph serve` shows it (rolegraph/serve/searches.py).

    {"format": "rolegraph.search/1", "file": ..., "agent": ..., "objective": {...},
     "candidates": [{"index": 0, "fingerprint": ..., "score": ..., "cost": ...,
                     "calls": ..., "parent": null, "made_by": "the start",
                     "source": ..., "tests": [names of its test blocks],
                    "tests_changed": {"renamed": [{"test", "change"}], "dropped":
                                      [{"test", "why"}]}, "on_front": true}, ...],
     "front": [fingerprints, cheapest first], "totals": {...}}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from .candidates import Scored, SearchResult
from .objective import Objective

FORMAT = "rolegraph.search/1"
REPORT = "search.json"


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity: such a value is written as null."""
    return value if math.isfinite(value) else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def describe(objective: Objective) -> dict[str, Any]:
    """What the candidates were scored on, as far as the objective says it."""
    score = getattr(objective.score, "__qualname__", None) or type(objective.score).__name__
    return {
        "examples": len(objective.examples),
        "seeds": len(objective.seeds),
        "score": score.split(".<locals>")[0],
        "cost": objective.cost,
        "description": (
            f"the mean score over {_count(len(objective.examples), 'example')} x "
            f"{_count(len(objective.seeds), 'seed')}; cost in {objective.cost}"
        ),
    }


def _candidate(index: int, scored: Scored, on_front: bool) -> dict[str, Any]:
    evaluation = scored.evaluation
    return {
        "index": index,
        "fingerprint": evaluation.fingerprint,
        "score": _number(evaluation.score),
        "cost": _number(evaluation.cost),
        "calls": evaluation.calls,
        "tokens": evaluation.tokens,
        "failures": evaluation.failures,
        "parent": scored.parent,
        "made_by": scored.made_by,
        "source": scored.source,
        "tests": [test.name for test in scored.module.tests],
        "tests_changed": scored.tests.to_json(),
        "on_front": on_front,
    }


def report(
    result: SearchResult, file: str | Path | None = None, objective: Objective | None = None
) -> dict[str, Any]:
    """The report of a search, as JSON data."""
    front = {s.evaluation.fingerprint for s in result.front}
    best = result.best.evaluation
    return {
        "format": FORMAT,
        "file": None if file is None else str(file),
        "agent": result.start.evaluation.agent,
        "objective": None if objective is None else describe(objective),
        "candidates": [
            _candidate(i, s, s.evaluation.fingerprint in front)
            for i, s in enumerate(result.evaluated)
        ],
        "front": [s.evaluation.fingerprint for s in result.front],
        "totals": {
            "candidates": len(result.evaluated),
            "front": len(result.front),
            "calls": result.calls,
            "proposer_calls": result.proposer_calls,
            "refused": len(result.refused),
            "best": best.fingerprint,
            "best_score": _number(best.score),
            "start_score": _number(result.start.evaluation.score),
        },
    }


def write_report(
    result: SearchResult,
    directory: str | Path,
    file: str | Path | None = None,
    objective: Objective | None = None,
) -> Path:
    """Write `DIR/search.json`, the report of `result` (the folder is made if need be)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / REPORT
    text = json.dumps(report(result, file, objective), indent=1, allow_nan=False)
    path.write_text(text + "\n", encoding="utf-8")
    return path
