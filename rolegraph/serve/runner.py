"""Runs in flight: started when accepted, told to whoever listens, recorded when they
end, and resumed when the server starts again.

A run is accepted in two committed writes before the server answers `202`: the store's
`runs` row (its inputs, model and budget: `Store.new_run`) and the journal's row. It
then runs as `rolegraph run --resume ID` does (`run_agent(..., resume=id)`): from no
checkpoint the first time, from its checkpoints after a restart, so no completed
firing or model call is repeated. Whatever stops the server (a kill, a crash, Ctrl-C)
leaves each unfinished run in that state; `resume_unfinished` starts them all again.

A run whose remaining work waits for answers from people ends its attempt with
`rolegraph.Paused`: it is `waiting`, its questions in the store (runtime/questions.py).
It is not resumed on start-up while a question can still be answered; `answered`
resumes it once none is left pending (`POST /runs/{id}/questions/{qid}`), and its
followers' event stream goes on with the resumed attempt.

Events go to the run's listeners as they happen (one queue each, on the server's event
loop); those of the model's text (`tokens`, `partial`) are told live only, the others
are also kept and written with the run's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from .catalog import Catalog, ServedAgent
from .journal import Journal

#: events told live only (many, and rebuilt by no reader of a finished run)
LIVE_ONLY = ("tokens", "partial")


@dataclass
class LiveRun:
    id: str
    agent: ServedAgent
    attempt: int = 0
    # accepted (waiting for a slot), running, returned, failed, waiting (for answers)
    state: str = "accepted"
    events: list[dict[str, Any]] = field(default_factory=list)
    kept: list[dict[str, Any]] = field(default_factory=list)  # events but LIVE_ONLY
    listeners: list[asyncio.Queue] = field(default_factory=list)
    task: asyncio.Task | None = None

    def tell(self, event: dict[str, Any]) -> None:
        seq = len(self.events) + 1
        self.events.append(event)
        if event["kind"] not in LIVE_ONLY:
            self.kept.append(event)
        for queue in self.listeners:
            queue.put_nowait((seq, event))

    def close(self) -> None:
        for queue in self.listeners:
            queue.put_nowait(None)


@dataclass
class RunOptions:
    """How the server's runs call models (the command line's provider options)."""

    model: str | None = "mock"  # None: each role's declared model
    params: dict[str, Any] = field(default_factory=dict)
    budget: str | None = None  # `--budget` text, recorded with each run
    max_runs: int = 64  # runs executing at once; the others wait, accepted


class Runner:
    def __init__(self, catalog: Catalog, store: Any, journal: Journal, options: RunOptions):
        self.catalog = catalog
        self.store = store
        self.journal = journal
        self.options = options
        self.live: dict[str, LiveRun] = {}
        self._slots: asyncio.Semaphore | None = None
        self._wakeups: dict[str, asyncio.Event] = {}  # followers of waiting runs
        self._stopping = False

    @property
    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:  # (made on the server's loop)
            self._slots = asyncio.Semaphore(self.options.max_runs)
        return self._slots

    # -- accepting and resuming ---------------------------------------------------------

    def accept(self, agent: ServedAgent, inputs: dict[str, Any]) -> str:
        """Record a run of `agent` on (validated) `inputs` and start it; its id. Both
        writes are committed when this returns."""
        file, fingerprint = agent.source
        run = self.store.new_run(
            file, fingerprint, agent.ir.name, inputs, self.options.model, self.options.budget
        )
        try:
            self.journal.accept(run, agent.name, agent.ir.name, file)
        except BaseException:
            with contextlib.suppress(Exception):  # (not accepted: not left "running")
                self.store.finish_run(run, "failed: not accepted")
            raise
        self._start(run, agent)
        return run

    def resume_unfinished(self) -> list[str]:
        """Start again every run the journal holds unfinished; the ids started."""
        started = []
        agents = self.catalog.agents()
        for accepted in self.journal.unfinished():
            if accepted.id in self.live:
                continue
            if accepted.state == "waiting" and self.answerable(accepted.id):
                self._watch_deadlines(accepted.id)
                continue  # (it waits for people, not for the server)
            agent = _find(agents, accepted.agent, accepted.name, accepted.file)
            if agent is None:
                message = (
                    f"agent `{accepted.name}` of {accepted.file} is not served now (the file "
                    "is gone or has errors); the run resumes when the server starts with it"
                )
                self.journal.interrupted(accepted.id, message)
                print(f"rolegraph serve: run {accepted.id}: {message}", file=sys.stderr)
                continue
            self._start(accepted.id, agent)
            started.append(accepted.id)
        return started

    def answerable(self, run: str) -> list[Any]:
        """The questions of `run` that wait for an answer and can still take one (their
        deadline has not passed: a resumed run fails the steps whose deadline passed)."""
        from rolegraph.runtime import pending_questions

        now = time.time()
        return [q for q in pending_questions(self.store, run) if not q.expired(now)]

    def answered(self, run: str) -> bool:
        """After an answer to `run`: resume it when it waits and no question is left that
        can take an answer. Whether it was resumed (False: it waits for more answers, or
        it is running and takes the answers when it pauses next)."""
        accepted = self.journal.get(run)
        if accepted is None or accepted.state != "waiting" or run in self.live:
            return False
        if self.answerable(run):
            return False
        agent = _find(self.catalog.agents(), accepted.agent, accepted.name, accepted.file)
        if agent is None:
            message = (
                f"agent `{accepted.name}` of {accepted.file} is not served now (the file is "
                "gone or has errors); the run resumes when the server starts with it"
            )
            self.journal.interrupted(run, message)
            return False
        self.journal.resuming(run)
        self._start(run, agent)
        return True

    def _start(self, run: str, agent: ServedAgent) -> None:
        live = self.live[run] = LiveRun(run, agent)
        live.task = asyncio.get_running_loop().create_task(self._execute(live))
        wakeup = self._wakeups.pop(run, None)
        if wakeup is not None:
            wakeup.set()

    async def _execute(self, live: LiveRun) -> None:
        from rolegraph.runtime import Paused, RunError, run_agent

        async with self.slots:
            live.attempt = self.journal.started(live.id)
            live.state = "running"
            outcome: Any = None
            failure: RunError | None = None
            try:
                outcome = await run_agent(
                    live.agent.ir,
                    {},  # (the store's: the run resumes)
                    model=None,  # (the one recorded when it was accepted, after a restart too)
                    params=self.options.params,
                    store=self.store,
                    resume=live.id,
                    source=live.agent.source,
                    on_event=lambda event: live.tell(event.to_json()),
                )
            except Paused as paused:  # (it told its `paused` event)
                failure = paused
            except RunError as error:
                failure = error
                if not live.events or live.events[-1]["kind"] != "error":
                    # (it failed before it began: the agent's file changed since)
                    from rolegraph.runtime import RunFailed

                    live.tell(RunFailed.of(live.agent.ir.name, error, live.id).to_json())
            except asyncio.CancelledError:  # the server stops: the run stays to resume
                live.close()
                self.live.pop(live.id, None)
                raise
            self._record(live, outcome, failure)

    def _record(self, live: LiveRun, outcome: Any, failure: Any) -> None:
        from rolegraph.runtime import Paused, StoreError

        if isinstance(failure, Paused):
            self._wait(live, failure)
            return
        if failure is None:
            live.state = "returned"
            trace = outcome.trace
            error = message = None
        else:
            live.state = "failed"
            trace = getattr(failure, "trace", None)
            error, message = type(failure).__name__, str(failure)
        lines = trace_lines(trace) if trace is not None else []
        summary = trace.summary() if trace is not None else {}
        try:
            if isinstance(failure, StoreError):
                # the store failed, not the run (a full disk): it resumes at the next start,
                # from what was committed
                live.state = "interrupted"
                self.journal.interrupted(live.id, f"{message} (it resumes at the next start)")
            else:
                self.journal.ended(
                    live.id, live.attempt, live.state, error, message, summary, lines, live.kept
                )
        except Exception as fault:  # (the file failed: the run is replayed at the next start)
            print(
                f"rolegraph serve: run {live.id}: cannot record its end: {fault}", file=sys.stderr
            )
        live.close()
        self.live.pop(live.id, None)

    def _wait(self, live: LiveRun, paused: Any) -> None:
        """Record a run that paused as `waiting` (its trace and events so far), and resume
        it at once when its questions were all answered while it ran."""
        live.state = "waiting"
        trace = getattr(paused, "trace", None)
        lines = trace_lines(trace) if trace is not None else []
        summary = trace.summary() if trace is not None else {}
        count = len(paused.questions)
        message = f"it waits for {'an answer' if count == 1 else f'{count} answers'}"
        try:
            self.journal.ended(
                live.id, live.attempt, "waiting", None, message, summary, lines, live.kept
            )
        except Exception as fault:  # (still unfinished: it runs again at the next start)
            print(
                f"rolegraph serve: run {live.id}: cannot record its pause: {fault}", file=sys.stderr
            )
        live.close()
        self.live.pop(live.id, None)
        if not self._stopping:
            with contextlib.suppress(Exception):  # (answered meanwhile: go on now)
                if not self.answered(live.id):
                    self._watch_deadlines(live.id)

    def _watch_deadlines(self, run: str) -> None:
        """Resume a waiting run when the last deadline of its pending questions passes
        (their steps then fail, and `on error` edges route them)."""
        deadlines = [q.deadline for q in self.answerable(run)]
        if not deadlines or any(d is None for d in deadlines):
            return  # (a question without a deadline waits for ever)
        delay = max(0.0, max(d for d in deadlines if d is not None) - time.time()) + 0.05
        loop = asyncio.get_running_loop()
        loop.call_later(delay, self._deadline_passed, run)

    def _deadline_passed(self, run: str) -> None:
        if self._stopping:
            return
        try:
            self.answered(run)
        except Exception as fault:
            print(f"rolegraph serve: run {run}: cannot resume it: {fault}", file=sys.stderr)

    async def stop(self) -> None:
        """Cancel the runs in flight (they stay unfinished, to resume on the next start)."""
        self._stopping = True
        for wakeup in self._wakeups.values():
            wakeup.set()
        tasks = [live.task for live in self.live.values() if live.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            self.store.flush()

    # -- reading -------------------------------------------------------------------------

    async def follow(
        self, run: str, after: tuple[int, int] | None
    ) -> AsyncIterator[tuple[str, dict]]:
        """The events of `run` as (id, event) until it ends, as `_follow_attempt` gives
        them; a run that waits for answers is followed on into its resumed attempt."""
        while True:
            last = after
            async for ident, event in self._follow_attempt(run, after):
                last = _parse_id(ident)
                yield ident, event
            if run in self.live:  # (resumed between the attempt's end and this check)
                after = last
                continue
            accepted = self.journal.get(run)
            if self._stopping or accepted is None or accepted.state != "waiting":
                return
            wakeup = self._wakeups.setdefault(run, asyncio.Event())
            await wakeup.wait()
            if self._stopping:
                return
            after = last

    async def _follow_attempt(
        self, run: str, after: tuple[int, int] | None
    ) -> AsyncIterator[tuple[str, dict]]:
        """The events of `run`'s current attempt as (id, event): those told so far, then
        the rest as they come, until it ends. `after` is (attempt, seq) of the last event
        a reader had (SSE's `Last-Event-ID`): it goes on from there within the same
        attempt, and from the start of a newer one."""
        live = self.live.get(run)
        if live is None:
            attempt, events = self.journal.events(run)
            skip = after[1] if after is not None and after[0] == attempt else 0
            for seq, event in enumerate(events, 1):
                if seq > skip:
                    yield f"{attempt}.{seq}", event
            return
        queue: asyncio.Queue = asyncio.Queue()
        told = list(live.events)  # (no await between the copy and listening: none lost)
        live.listeners.append(queue)
        try:
            attempt = live.attempt
            skip = after[1] if after is not None and after[0] == attempt else 0
            for seq, event in enumerate(told, 1):
                if seq > skip:
                    yield f"{attempt}.{seq}", event
            while (item := await queue.get()) is not None:
                seq, event = item
                if seq > skip:
                    yield f"{live.attempt}.{seq}", event
        finally:
            with contextlib.suppress(ValueError):
                live.listeners.remove(queue)


def _parse_id(ident: str) -> tuple[int, int]:
    attempt, _, seq = ident.partition(".")
    return int(attempt), int(seq)


def trace_lines(trace: Any) -> list[dict[str, Any]]:
    """The trace as `rolegraph run --trace` writes it, one dict a line (Trace.write_jsonl)."""
    return [
        *trace.events(),
        {
            "event": "end",
            "agent": trace.agent,
            "result": trace.result,
            "returned_at": trace.returned_at,
            **trace.summary(),
        },
    ]


def _find(agents: dict[str, ServedAgent], key: str, name: str, file: str) -> ServedAgent | None:
    """The agent a run was accepted for: by its key, else by its file and name (the key
    changes when another file comes to declare the same name)."""
    found = agents.get(key)
    if found is not None and found.ir.name == name and str(found.file.path) == file:
        return found
    return next(
        (a for a in agents.values() if a.ir.name == name and str(a.file.path) == file), None
    )
