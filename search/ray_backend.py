"""Evaluation on Ray: each run of a candidate is a Ray task, for when one machine is not
enough (`Evaluator(..., backend="ray")`, `rolegraph search --backend ray`).

What travels to a worker is plain data: the candidate's canonical source and file name,
the agent, the example's inputs, the seed, the model (a provider string, "mock", or
None for each role's own) and the nodes to blank. The worker checks the source once
per program and runs it exactly as the local backend does (`Evaluator.run`). The
results come back to the driver, which stores and scores them, so the store, the cache
and resuming behave the same on both backends.

Ray is an optional extra (`pip install rolegraph[ray]`), imported only when this
backend is used. Without a running Ray, the first run starts a local one; connect to a
cluster first (`ray.init(address=...)`) to spread the runs over it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from .store import RunRecord


@dataclass(frozen=True)
class RunTask:
    """One run, as plain data a worker can receive."""

    source: str  # the candidate's canonical source
    filename: str
    agent: str
    inputs: dict[str, Any]
    seed: int
    model: str | None  # a provider string, "mock", or None: each role's own
    blank: frozenset[str]
    max_calls: int | None
    params: dict[str, Any]  # over every role's model parameters (api_base, timeout, ...)
    root: str | None = None  # where the candidate's file imports must stay
    limits: tuple[int | None, int | None, float | None] | None = None  # the run's budget


def submit(task: RunTask) -> Any:
    """Start one run as a Ray task; the returned reference can be awaited."""
    return _remote(_ray()).remote(task)


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        from .objective import ObjectiveError

        raise ObjectiveError("the ray backend needs Ray: pip install 'rolegraph[ray]'") from None
    if not ray.is_initialized():
        ray.init(include_dashboard=False, log_to_driver=False)
    return ray


@lru_cache(maxsize=1)
def _remote(ray: Any) -> Any:
    return ray.remote(run_in_worker)


def run_in_worker(task: RunTask) -> RunRecord:
    """One run, in a worker process: the same code as a local run."""
    from .evaluate import Evaluator
    from .objective import Example, Objective, exact

    example = Example(task.inputs)
    evaluator = Evaluator(
        Objective([example], exact, agent=task.agent),
        model=task.model,
        params=task.params,
        filename=task.filename,
        root=task.root,
        max_calls=task.max_calls,
        blank=task.blank,
    )
    ir = _ir(task.source, task.filename, task.agent, evaluator)
    budget = None
    if task.limits is not None:
        from rolegraph.runtime.budget import Budget

        budget = Budget(*task.limits)
    return asyncio.run(evaluator.run(ir, example, task.seed, budget))


_IRS: dict[tuple[str, str, str], Any] = {}


def _ir(source: str, filename: str, agent: str, evaluator: Any) -> Any:
    """The agent's IR for this source, checked once per worker process."""
    key = (source, filename, agent)
    if key not in _IRS:
        import rolegraph

        if len(_IRS) > 64:
            _IRS.clear()
        _IRS[key] = evaluator.ir_of(rolegraph.parse(source, filename))
    return _IRS[key]
