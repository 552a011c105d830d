"""One run of a candidate on one example, and where runs happen.

    ran = await run_candidate(ir, {"task": "..."}, seed=0, settings=RunSettings("mock"))
    evaluator = Evaluator(objective, backend=RayBackend())   # or LocalBackend(), the default

`run_candidate` is the one place a candidate runs: the local backend calls it in this
process (asyncio), the Ray backend in a worker, from plain data (`RunTask`: the
candidate's canonical source, checked there once per program). Either way the result
comes back to the evaluator, which stores and scores it, so the store, the cache and
resuming behave the same on every backend.

Ray is an optional extra (`pip install rolegraph[ray]`), imported only when the Ray
backend runs something. `RayBackend(address=...)` connects to an existing cluster
(else `RAY_ADDRESS`, else a running `ray.init`, else it starts a local one).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from rolegraph.compiler.schema_fold import SchemaFold
from rolegraph.runtime import (
    Model,
    ModelReply,
    ModelRequest,
    ModelsByName,
    RunError,
    provider_of,
    run_agent,
)
from rolegraph.runtime.budget import Budget
from rolegraph.runtime.sync import run_sync
from rolegraph.runtime.values import plain

from .sharing import ResponseCache, RunsCache
from .store import RunRecord

Limits = tuple[int | None, int | None, float | None]  # a run's budget: calls, tokens, cost
Spent = tuple[int, int, float]  # what a run charged: calls, tokens, cost


@dataclass(frozen=True)
class RunSettings:
    """What every run of an evaluation shares. `model` serves every role (a provider
    string, "mock", a `Model`; None: each role's own); `params` lie over every role's
    model parameters; `blank`: nodes answered with the blank value of their type;
    `max_calls` bounds a run that has no budget of its own."""

    model: str | Model | None = "mock"
    params: dict[str, Any] = field(default_factory=dict)
    blank: frozenset[str] = frozenset()
    max_calls: int | None = 50
    # model replies shared by the runs of a search (search/sharing.py; in this process)
    cache: ResponseCache | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Ran:
    record: RunRecord  # what the run costs (the calls the response cache answered too)
    spent: Spent  # what was sent: charged against its budget (its usage when it had none)
    trace: Any = field(default=None, compare=False, repr=False)  # (not sent back by Ray)


async def run_candidate(
    ir: Any, inputs: dict[str, Any], seed: int, settings: RunSettings, budget: Budget | None = None
) -> Ran:
    """One run of the agent `ir` on `inputs` with `seed`, held to `budget` (else to
    `settings.max_calls`). A run that fails is a record with its error, not an exception."""
    params = {**settings.params, "seed": seed} if seed else settings.params
    provider = provider_of(settings.model, params)  # (a model object may say where it calls)
    model: Model | None = None if isinstance(settings.model, str) else settings.model
    if settings.blank:
        model = Blank(model if model is not None else ModelsByName(), settings.blank)
    if budget is None and settings.max_calls is not None:
        budget = Budget(calls=settings.max_calls)
    cache = RunsCache(settings.cache, budget) if settings.cache is not None else None
    result: Any = None
    error: str | None = None
    try:
        outcome = await run_agent(
            ir, inputs, model=model, provider=provider, budget=budget, cache=cache
        )
    except RunError as failed:
        trace = getattr(failed, "trace", None)
        error = f"{type(failed).__name__}: {failed}".splitlines()[0]
    else:
        trace, result = outcome.trace, plain(outcome.result)
    calls, tokens, dollars = _usage(trace)  # (what was sent)
    spent = (calls, tokens, dollars)
    if budget is not None:
        spent = (budget.spent_calls, budget.spent_tokens, budget.spent_cost)
    if cache is not None:  # the run costs what the cache answered too; the search did not spend it
        calls, tokens, dollars = calls + cache.calls, tokens + cache.tokens, dollars + cache.dollars
        if budget is not None:
            spent = (spent[0] - cache.calls, spent[1] - cache.tokens, spent[2] - cache.dollars)
    return Ran(RunRecord(result, error, calls, tokens, dollars), spent, trace)


def _usage(trace: Any) -> tuple[int, int, float]:
    if trace is None:
        return 0, 0, 0.0
    summary = trace.summary()
    return (
        summary["calls"],
        summary["input_tokens"] + summary["output_tokens"],
        float(summary["cost"]),
    )


class Blank:
    """A model whose calls from the nodes `nodes` are answered with the blank value of
    the reply's type (empty strings and lists, zeros, false, the first member of an
    enum, none where allowed) and cost nothing; other calls go to `inner`. The program
    and its graph stay as they are: the node fires, and what reads it reads a valid,
    empty value."""

    def __init__(self, inner: Model, nodes: frozenset[str]):
        self.inner, self.nodes = inner, nodes

    async def complete(self, request: ModelRequest) -> ModelReply:
        if request.node in self.nodes:
            return ModelReply(json.dumps(blank_value(request.schema)), input_tokens=0)
        return await self.inner.complete(request)

    def price(self, request: ModelRequest) -> Any:
        lookup = getattr(self.inner, "price", None)
        return lookup(request) if lookup is not None else None


def blank_value(schema: dict[str, Any]) -> Any:
    """The emptiest value valid for a JSON schema."""
    return _Blank().fold(schema)


class _Blank(SchemaFold[Any]):
    def any_of(self, options: list[dict[str, Any]], path: str) -> Any:
        if any(option.get("type") == "null" for option in options):
            return None
        return self.fold(options[0])

    def enum(self, members: list[Any], path: str) -> Any:
        return members[0]

    def record(self, properties: dict[str, dict[str, Any]], path: str) -> Any:
        return {name: self.fold(sub) for name, sub in properties.items()}

    def mapping(self, values: dict[str, Any] | None, path: str) -> Any:
        return {}

    def array(self, items: dict[str, Any], path: str) -> Any:
        return []

    def scalar(self, kind: str | None, path: str) -> Any:
        return {"string": "", "integer": 0, "number": 0.0, "boolean": False}.get(str(kind))


# -- where runs happen --------------------------------------------------------------------


@dataclass(frozen=True)
class RunJob:
    """One run an evaluation asks a backend for: the candidate (its checked IR, its
    fingerprint, and its canonical source for a backend that checks it elsewhere), the
    example's inputs and the seed."""

    ir: Any
    digest: str
    source: str
    filename: str
    root: str | None
    inputs: dict[str, Any]
    seed: int


class Backend(Protocol):
    name: str
    sends_source: bool  # whether jobs need the candidate's source (else "" will do)

    def accepts(self, settings: RunSettings) -> str | None:
        """Why this backend cannot make runs with `settings` (None: it can)."""

    async def run(self, job: RunJob, settings: RunSettings, budget: Budget | None) -> Ran: ...


class LocalBackend:
    """Runs in this process, concurrently on its event loop."""

    name = "local"
    sends_source = False

    def accepts(self, settings: RunSettings) -> str | None:
        return None

    async def run(self, job: RunJob, settings: RunSettings, budget: Budget | None) -> Ran:
        return await run_candidate(job.ir, job.inputs, job.seed, settings, budget)


@dataclass(frozen=True)
class RunTask:
    """One run, as plain data a Ray worker can receive."""

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
    limits: Limits | None = None  # the run's budget


class RayBackend:
    """Each run is a Ray task. `address`: the cluster to connect to ("auto", or
    "ray://host:10001"; default: `RAY_ADDRESS` when set, else a local Ray started on
    the first run); `options`: more `ray.init` arguments (`num_cpus=4`). Ray already
    running in this process (`ray.init(...)` called before) is used as it is."""

    name = "ray"
    sends_source = True

    def __init__(self, address: str | None = None, **options: Any):
        self.address, self.options = address, options

    def accepts(self, settings: RunSettings) -> str | None:
        if settings.model is None or isinstance(settings.model, str):
            return None
        return "the ray backend sends the model by name: a string, or None"

    async def run(self, job: RunJob, settings: RunSettings, budget: Budget | None) -> Ran:
        limits = None if budget is None else (budget.calls, budget.tokens, budget.cost)
        task = RunTask(
            job.source,
            job.filename,
            job.ir.name,
            job.inputs,
            job.seed,
            settings.model if isinstance(settings.model, str) else None,
            settings.blank,
            settings.max_calls,
            settings.params,
            job.root,
            limits,
        )
        ran: Ran = await _remote(self._ray()).remote(task)
        return ran

    def _ray(self) -> Any:
        try:
            import ray
        except ImportError:
            from .objective import ObjectiveError

            raise ObjectiveError(
                "the ray backend needs Ray: pip install 'rolegraph[ray]'"
            ) from None
        if not ray.is_initialized():
            if self.address or os.environ.get("RAY_ADDRESS"):  # (a cluster: as it was started)
                ray.init(address=self.address, **self.options)
            else:
                options = {"include_dashboard": False, "log_to_driver": False, **self.options}
                ray.init(**options)
        return ray


def backend_named(name: str) -> Backend:
    """`local` or `ray` (`ValueError` otherwise): what `--backend` names."""
    if name == "local":
        return LocalBackend()
    if name == "ray":
        return RayBackend()
    raise ValueError(f"the backend is local or ray, not {name!r}")


@lru_cache(maxsize=1)
def _remote(ray: Any) -> Any:
    return ray.remote(run_task)


def run_task(task: RunTask) -> Ran:
    """One run, in a worker process: the candidate checked from its source (once per
    program and worker), then `run_candidate`, as a local run."""
    settings = RunSettings(task.model, task.params, task.blank, task.max_calls)
    budget = Budget(*task.limits) if task.limits is not None else None
    ir = _ir(task.source, task.filename, task.agent, task.root)
    ran = run_sync(run_candidate(ir, task.inputs, task.seed, settings, budget))
    return Ran(ran.record, ran.spent)  # (the trace stays in the worker)


@lru_cache(maxsize=64)
def _ir(source: str, filename: str, agent: str, root: str | None) -> Any:
    from .program import agent_ir, parse

    return agent_ir(parse(source, filename), filename, agent, root)
