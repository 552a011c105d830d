"""Evaluating a candidate: run one of its agents on every example of an objective (once
per seed), in parallel, and score the results.

    evaluator = Evaluator(objective, model="mock", store=SearchStore("search.sqlite"))
    evaluation = await evaluator.evaluate(module)     # or evaluator.evaluate_sync(module)

Runs are cached in the store by (fingerprint, agent, example, seed, model): a candidate
seen before, or a killed search started again, costs no model call. A run that fails
(a stall, a violated `ensure`, a budget, a model that keeps answering badly) scores 0 and
its error is kept; it does not stop the evaluation.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from rolegraph.compiler import ast
from rolegraph.compiler.incremental import CheckSession
from rolegraph.compiler.paths import explore_agent
from rolegraph.runtime import Model, provider_of
from rolegraph.runtime.sync import run_sync

from .budget import Allotment, Hold, SearchBudget, run_allotment
from .fingerprints import fingerprint_of, source_of
from .objective import Example, Objective, ObjectiveError
from .program import NoAgent, agent_ir, check, program_editor, without_tests
from .run import Backend, Ran, RunJob, RunSettings, backend_named
from .sharing import ResponseCache, runs_fingerprint
from .store import RunRecord, SearchStore


@dataclass(frozen=True)
class RunOutcome:
    example: int  # its index in the objective's examples
    seed: int
    result: Any  # plain data; None when the run failed
    error: str | None
    score: float
    calls: int
    tokens: int
    dollars: float
    cached: bool  # answered by the store, no run made
    sent: int = 0  # model calls sent (those the response cache answered are in `calls` only)


@dataclass(frozen=True)
class Evaluation:
    fingerprint: str
    agent: str
    score: float  # the mean over every example and seed
    cost: float  # the objective's measure, summed over the runs
    calls: int
    tokens: int
    dollars: float
    runs: tuple[RunOutcome, ...]
    partial: bool = False  # on some examples only (racing dropped it): not comparable

    @property
    def failures(self) -> int:
        return sum(1 for run in self.runs if run.error is not None)

    @property
    def fresh_calls(self) -> int:
        """Model calls sent for this evaluation (runs the store held sent none, and
        calls the response cache answered were not sent)."""
        return sum(run.sent for run in self.runs)


MAX_CALLS = 50  # an evaluation's default limit of model calls per run

# (a place in an evaluation's records that a run will fill)
_NOT_YET: tuple[RunRecord, bool, int] = (RunRecord(None, "not run", 0, 0, 0.0), False, 0)


class Evaluator:
    """Runs candidates on an objective. `model` serves every role ("mock", a provider
    string, or a `Model`); None: each role's own model, as its candidate declares it
    (an edit that changes a role's model then changes what runs). `params` are laid over
    every role's model parameters (`api_base`, `timeout`, `concurrency`, ...). `max_calls` bounds
    each run; `concurrency` bounds the runs in flight at once. `blank` names nodes whose
    model calls are answered with the blank value of their type instead (see `Blank`):
    an ablation, for attribution. `backend`: where runs happen (search/run.py:
    `LocalBackend()`, the default, or `RayBackend()`: each run a Ray task; "local" and
    "ray" name them); the store and the scores stay here. Candidates' file
    imports resolve relative to `filename`, inside `root` (default: its directory).
    `on_run` is told each run as it ends (its record, and whether the store held it):
    what a progress display counts inside one long evaluation. `budget`: a hard limit on
    the whole search (search/budget.py): each evaluation reserves the worst case of the
    runs it makes before it starts, and raises `BudgetSpent` instead when they do not fit."""

    def __init__(
        self,
        objective: Objective,
        *,
        model: str | Model | None = "mock",
        params: dict[str, Any] | None = None,
        store: SearchStore | None = None,
        filename: str = "<candidate>",
        concurrency: int = 8,
        max_calls: int | None = MAX_CALLS,
        blank: frozenset[str] = frozenset(),
        backend: str | Backend = "local",
        root: str | None = None,
        on_run: Callable[[RunRecord, bool], None] | None = None,
        budget: SearchBudget | None = None,
        share: bool = True,
    ):
        if isinstance(backend, str):
            try:
                backend = backend_named(backend)
            except ValueError as error:
                raise ObjectiveError(str(error)) from None
        self.share = share
        cache = ResponseCache() if share and not backend.sends_source else None
        self.settings = RunSettings(model, dict(params or {}), blank, max_calls, cache)
        refused = backend.accepts(self.settings)
        if refused is not None:
            raise ObjectiveError(refused)
        self.objective = objective
        self.model = model
        self.params = self.settings.params
        self.blank = blank
        self.backend = backend
        self.model_label = (
            "declared"
            if model is None
            else model
            if isinstance(model, str)
            else type(model).__name__
        )
        if blank:  # runs with blanked nodes are other runs
            self.model_label += " blank:" + ",".join(sorted(blank))
        self.store = store if store is not None else SearchStore()
        self.filename = filename
        self.root = root
        self.concurrency = concurrency
        self.max_calls = max_calls
        self.on_run = on_run
        self.budget = budget
        self.runs_made = 0  # runs made, not answered by the store (all evaluations)
        self.calls_made = 0  # the model calls those runs made
        self._irs: OrderedDict[str, Any] = OrderedDict()
        # one check session: a candidate is checked against those checked before (an edit
        # re-checks only what it touched: compiler/incremental.py)
        self.session = CheckSession(filename, root=root)
        self._allotments: dict[str, Allotment] = {}
        self._runs_keys: dict[str, str] = {}  # a program's fingerprint: its runs' key
        # a program's fingerprint: its constraints' verdicts (`verdicts`)
        self._verdicts: dict[str, tuple[tuple[str, str, str], ...]] = {}
        # the agents' signatures every example fits (`_check_inputs`): its parameters, and
        # those with a default, all that check reads of an agent
        self._inputs_fit: set[tuple[frozenset[str], frozenset[str]]] = set()

    def evaluate_sync(self, module: ast.Module) -> Evaluation:
        return run_sync(self.evaluate(module))

    async def evaluate(
        self, module: ast.Module, examples: Iterable[int] | None = None
    ) -> Evaluation:
        """Every example of the objective, run once per seed, on `module` (those the store holds
        are not run again), scored. Raises `DiagnosticError` when `module` has errors.
        `examples`: the indices of the examples to run, when not all (the evaluation is
        then `partial`)."""
        digest = fingerprint_of(module)
        ir = self._ir(module, digest)
        key = self._runs_key(module, digest, ir)
        self._check_inputs(ir)
        chosen = (
            sorted(set(examples)) if examples is not None else range(len(self.objective.examples))
        )
        cases = [
            (index, self.objective.examples[index], seed)
            for index in chosen
            for seed in self.objective.seeds
        ]
        source = source_of(module) if self.backend.sends_source else ""
        held = self._held(key, ir, ((example, seed) for _, example, seed in cases))
        hold = self._reserve(ir, key, sum(1 for _, ex, seed in cases if (ex.key, seed) not in held))
        made: list[tuple[tuple[str, str, str, int, str], RunRecord]] = []
        records: list[tuple[RunRecord, bool, int]] = []
        pending: list[int] = []  # (the places of the runs to make, in order)
        for place, (_, example, seed) in enumerate(cases):
            stored = held.get((example.key, seed))
            if stored is None:
                pending.append(place)
            elif self.on_run is not None:
                self.on_run(stored, True)
            records.append((stored, True, 0) if stored is not None else _NOT_YET)
        partial = len(chosen) < len(self.objective.examples)
        done = False
        try:
            await self._make_runs(ir, key, source, cases, pending, records, hold, made)
            runs = tuple(  # scored in order, once every run is in
                self._outcome(index, example, seed, record, cached, sent)
                for (index, example, seed), (record, cached, sent) in zip(
                    cases, records, strict=True
                )
            )
            done = True
        finally:
            if hold is not None:
                hold.close()
            # (one transaction; what ran is kept on a failure too, and the candidate
            # waiting for its runs, `SearchStore.waiting`, goes with them when its
            # evaluation ends here: scored, and not a rung of racing, which an
            # evaluation of every example may follow and fail, over the budget)
            self.store.put_runs(made, waiting=done and not partial)
        calls = sum(r.calls for r in runs)
        tokens = sum(r.tokens for r in runs)
        dollars = sum(r.dollars for r in runs)
        cost = {"tokens": tokens, "dollars": dollars, "calls": calls}[self.objective.cost]
        return Evaluation(
            fingerprint=digest,
            agent=ir.name,
            score=sum(r.score for r in runs) / len(runs),
            cost=float(cost),
            calls=calls,
            tokens=tokens,
            dollars=round(dollars, 6),
            runs=runs,
            partial=partial,
        )

    # -- the budget ---------------------------------------------------------------------------

    def allotment(self, module: ast.Module) -> Allotment:
        """The static worst case of one run of `module`'s agent (see search/budget.py)."""
        digest = fingerprint_of(module)
        ir = self._ir(module, digest)
        return self._allotment(ir, self._runs_key(module, digest, ir))

    def _allotment(self, ir: Any, runs: str) -> Allotment:
        found = self._allotments.get(runs)
        if found is None:
            budget = self.budget or SearchBudget()
            model = None if isinstance(self.model, str) else self.model
            found = run_allotment(
                ir,
                provider_of(self.model, self.params),
                model,
                prompt=budget.prompt,
                attempts=budget.attempts,
                priced=budget.cost is not None,
            )
            if self.max_calls is not None and found.calls > self.max_calls:
                # a run is stopped at max_calls: it can spend no more than that many calls
                scale = self.max_calls / found.calls
                found = Allotment(
                    self.max_calls, math.ceil(found.tokens * scale), found.cost * scale
                )
            self._allotments[runs] = found
        return found

    def pending_runs(self, module: ast.Module) -> int:
        """How many runs an evaluation of `module` would make (those the store does not hold)."""
        return len(self.objective.examples) * len(self.objective.seeds) - len(self.measured(module))

    def measured(self, module: ast.Module) -> list[RunRecord]:
        """The runs of `module` the store holds (what its runs cost, measured)."""
        digest = fingerprint_of(module)
        ir = self._ir(module, digest)
        held = self._held(self._runs_key(module, digest, ir), ir, self._every_case())
        return [
            record
            for example in self.objective.examples
            for seed in self.objective.seeds
            if (record := held.get((example.key, seed))) is not None
        ]

    def _every_case(self) -> list[tuple[Example, int]]:
        return [
            (example, seed) for example in self.objective.examples for seed in self.objective.seeds
        ]

    def _held(
        self, runs: str, ir: Any, cases: Iterable[tuple[Example, int]]
    ) -> dict[tuple[str, int], RunRecord]:
        """The runs of `cases` the store holds, by (example key, seed): one look-up."""
        wanted = [(example.key, seed) for example, seed in cases]
        return self.store.runs(runs, ir.name, self.model_label, wanted)

    def _reserve(self, ir: Any, runs: str, pending: int) -> Hold | None:
        """Reserve the worst case of the `pending` runs (those the store does not hold;
        `BudgetSpent` when they do not fit: then no run starts)."""
        if self.budget is None or not pending:
            return None
        return self.budget.reserve(self._allotment(ir, runs), pending)

    # -- one run ------------------------------------------------------------------------------

    async def _make_runs(
        self,
        ir: Any,
        digest: str,
        source: str,
        cases: list[tuple[int, Example, int]],
        pending: list[int],
        records: list[tuple[RunRecord, bool, int]],
        hold: Hold | None,
        made: list[tuple[tuple[str, str, str, int, str], RunRecord]],
    ) -> None:
        """The runs of `cases` at the places `pending`, into `records` at their places:
        at most `concurrency` in flight, each worker taking the next run to make as it
        finishes one, so that the runs start in the cases' order (as one task a case
        behind a semaphore started them) and an evaluation starts as many tasks as runs
        it makes at once, not one a case (none of its own for one run at a time)."""
        order = iter(pending)

        async def worker() -> None:
            for place in order:  # (one iterator: each run is taken by one worker)
                _, example, seed = cases[place]
                records[place] = await self._record(ir, digest, source, example, seed, hold, made)

        workers = min(self.concurrency, len(pending))
        if workers == 1:
            await worker()  # (in this task)
        elif workers > 1:
            tasks = [asyncio.ensure_future(worker()) for _ in range(workers)]
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                # one worker failed (or this evaluation was cancelled): the others stop
                # too, not taking run after run once the evaluation has ended (its budget
                # hold closed, its runs stored: theirs would be paid for and lost)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise

    async def _record(
        self,
        ir: Any,
        digest: str,
        source: str,
        example: Example,
        seed: int,
        hold: Hold | None = None,
        made: list[tuple[tuple[str, str, str, int, str], RunRecord]] | None = None,
    ) -> tuple[RunRecord, bool, int]:
        """The run of `example` with `seed`, made (and stored, or added to `made` for the
        caller to store with the others); with whether the store held it (no) and the
        model calls it sent."""
        key = (digest, ir.name, example.key, seed, self.model_label)
        run_budget = (
            self.budget.run_budget(hold.per_run, self.max_calls)
            if hold is not None and self.budget is not None
            else None
        )
        job = RunJob(ir, digest, source, self.filename, self.root, example.inputs, seed)
        ran = await self.backend.run(job, self.settings, run_budget)
        record = ran.record
        if hold is not None:
            hold.settle(*ran.spent)
        self.runs_made += 1
        self.calls_made += ran.spent[0]
        if made is None:
            self.store.put_run(key, record)
        else:
            made.append((key, record))
        if self.on_run is not None:
            self.on_run(record, False)
        return record, False, ran.spent[0]

    def _outcome(
        self, index: int, example: Example, seed: int, record: RunRecord, cached: bool, sent: int
    ) -> RunOutcome:
        score = 0.0 if record.error is not None else self._score(record.result, example, index)
        return RunOutcome(
            index,
            seed,
            record.result,
            record.error,
            score,
            record.calls,
            record.tokens,
            record.dollars,
            cached,
            sent,
        )

    async def traced(self, module: ast.Module, index: int, seed: int) -> Ran:
        """Example `index` run again with `seed` on `module`, with its trace (what a
        reflective optimizer reads; the Ray backend sends no trace back). Its calls were
        made when the example was evaluated: the response cache answers them
        (search/sharing.py). Held to the search's budget like any run; not stored."""
        digest = fingerprint_of(module)
        ir = self._ir(module, digest)
        key = self._runs_key(module, digest, ir)
        source = source_of(module) if self.backend.sends_source else ""
        example = self.objective.examples[index]
        job = RunJob(ir, key, source, self.filename, self.root, example.inputs, seed)
        hold = None
        run_budget = None
        if self.budget is not None:
            hold = self.budget.reserve(self._allotment(ir, key), 1)
            run_budget = self.budget.run_budget(hold.per_run, self.max_calls)
        try:
            ran = await self.backend.run(job, self.settings, run_budget)
            if hold is not None:
                hold.settle(*ran.spent)
        finally:
            if hold is not None:
                hold.close()
        self.calls_made += ran.spent[0]
        return ran

    def judging(self, objective: Objective) -> Evaluator:
        """This evaluator (same model, store and budget) on another objective: the
        held-out examples a search's result is judged on (no node blanked, no progress
        reported)."""
        return self._twin(objective, blank=frozenset(), on_run=None)

    def blanking(self, nodes: frozenset[str]) -> Evaluator:
        """This evaluator (same objective, model and store) with `nodes` blanked."""
        return self._twin(self.objective, blank=nodes, on_run=self.on_run)

    def _twin(
        self,
        objective: Objective,
        *,
        blank: frozenset[str],
        on_run: Callable[[RunRecord, bool], None] | None,
    ) -> Evaluator:
        """An evaluator with this one's model, store, limits and budget, sharing its IRs."""
        twin = Evaluator(
            objective,
            model=self.model,
            params=self.params,
            store=self.store,
            filename=self.filename,
            concurrency=self.concurrency,
            max_calls=self.max_calls,
            blank=blank,
            backend=self.backend,
            root=self.root,
            on_run=on_run,
            budget=self.budget,
            share=self.share,
        )
        twin._irs, twin._runs_keys, twin._verdicts = self._irs, self._runs_keys, self._verdicts
        twin.session = self.session
        if blank == self.blank:  # (a blanked node's replies are other replies)
            twin.settings = replace(twin.settings, cache=self.settings.cache)
        return twin

    def _score(self, result: Any, example: Example, index: int) -> float:
        try:
            value = float(self.objective.score(result, example))
        except Exception as error:  # a scorer is user code: say which one failed, and where
            name = getattr(self.objective.score, "__name__", "the scorer")
            raise ObjectiveError(
                f"scorer `{name}` failed on example {index + 1}: {type(error).__name__}: {error}"
            ) from error
        if not 0.0 <= value <= 1.0:
            raise ObjectiveError(f"scores are between 0 and 1; example {index + 1} scored {value}")
        return value

    def _check_inputs(self, ir: Any) -> None:
        """Examples whose inputs the agent does not take would fail every run and score
        0 in silence: say so instead. (Checked once a signature: most edits keep the
        agent's parameters, and every evaluation asks.)"""
        signature = (frozenset(ir.param_types), frozenset(ir.param_defaults))
        if signature in self._inputs_fit:
            return
        takes = list(ir.param_types)
        for index, example in enumerate(self.objective.examples, 1):
            unknown = [name for name in example.inputs if name not in ir.param_types]
            missing = [
                name
                for name in takes
                if name not in example.inputs and name not in ir.param_defaults
            ]
            if unknown or missing:
                problem = f"gives `{unknown[0]}`" if unknown else f"does not give `{missing[0]}`"
                raise ObjectiveError(
                    f"example {index} {problem}; agent `{ir.name}` takes: "
                    f"{', '.join(takes) or 'nothing'}"
                )
        self._inputs_fit.add(signature)

    def inherit_runs(self, parent: ast.Module, module: ast.Module) -> int:
        """Store `parent`'s runs as `module`'s, for an edit that cannot change any run
        (the caller's judgement: see `unchanged_runs`); returns how many were inherited.
        Only runs of the same agent are inherited, never over runs `module` has."""
        parent_digest, digest = fingerprint_of(parent), fingerprint_of(module)
        parent_ir, ir = self._ir(parent, parent_digest), self._ir(module, digest)
        parent_digest = self._runs_key(parent, parent_digest, parent_ir)
        digest = self._runs_key(module, digest, ir)
        if parent_ir.name != ir.name:
            return 0
        cases = self._every_case()
        theirs, mine = self._held(parent_digest, ir, cases), self._held(digest, ir, cases)
        inherited = {  # (an example given twice is one run)
            (digest, ir.name, example.key, seed, self.model_label): record
            for example, seed in cases
            if (record := theirs.get((example.key, seed))) is not None
            and (example.key, seed) not in mine
        }
        self.store.put_runs(list(inherited.items()))  # (one transaction)
        return len(inherited)

    def proven(self, module: ast.Module) -> set[tuple[str, str]]:
        """The constraints of `module` the checker proves on every run, as (agent, text)."""
        return {
            (agent, text) for agent, text, status in self.verdicts(module) if status == "proven"
        }

    def verdicts(self, module: ast.Module) -> tuple[tuple[str, str, str], ...]:
        """The checker's verdict on each constraint of `module`'s agents, as (agent, text,
        status: proven, violated or unknown), in the checker's order (agent by agent, each
        agent's constraints as its body gives them); remembered by program."""
        digest = fingerprint_of(module)
        found = self._verdicts.get(digest)
        if found is None:
            bare = without_tests(module)
            runnable = self.session.runnable(bare)
            if not runnable.errors:
                # A program with no error: a full check would explore each of its agents'
                # IRs, those `runnable` gives (the editor's, or a check's that does not
                # explore), and say what `explore_agent` says of them. Only that is done.
                found = tuple(
                    (c.agent, c.text, c.status)
                    for ir in runnable.irs.values()
                    for c in explore_agent(ir)[1]
                )
            else:
                checked = check(bare, self.filename, self.root, session=self.session)
                found = tuple((c.agent, c.text, c.status) for c in checked.constraints)
            if len(self._verdicts) > 256:
                self._verdicts.clear()
            self._verdicts[digest] = found
        return found

    # -- the candidate's IR -------------------------------------------------------------------

    def editor(self, trust: Any = None) -> Any:
        """An editor whose edits are checked as this evaluator checks its candidates
        (`trust`: a `TrustPolicy`, what edits may bring in; default nothing new)."""
        return program_editor(self.filename, self.root, trust, self.session)

    def ir_of(self, module: ast.Module) -> Any:
        """The IR of the agent the objective runs, for `module` (checked once)."""
        return self._ir(module, fingerprint_of(module))

    def runs_key(self, module: ast.Module) -> str:
        """What `module`'s runs are stored under: the fingerprint of what they can
        depend on (search/sharing.py), or of the whole program when `share` is off."""
        digest = fingerprint_of(module)
        return self._runs_key(module, digest, self._ir(module, digest))

    def _runs_key(self, module: ast.Module, digest: str, ir: Any) -> str:
        if not self.share:
            return digest
        found = self._runs_keys.get(digest)
        if found is None:
            found = runs_fingerprint(module, ir.name) or digest
            if len(self._runs_keys) > 4096:
                self._runs_keys.clear()
            self._runs_keys[digest] = found
        return found

    def _ir(self, module: ast.Module, digest: str) -> Any:
        found = self._irs.get(digest)
        if found is not None:
            self._irs.move_to_end(digest)
            return found
        try:
            found = agent_ir(module, self.filename, self.objective.agent, self.root, self.session)
        except NoAgent as error:
            raise ObjectiveError(str(error)) from None
        self._irs[digest] = found
        if len(self._irs) > 256:
            self._irs.popitem(last=False)
        return found
